// The AVX2 traits of the integer LSTM (int8_lstm_impl.h): 16 int16 or 8 int32 lanes, the
// products four int8 columns at a time (vpmaddubsw then vpmaddwd, exact for the weights the
// kernel covers). Shared by int8_lstm_avx2.cc and int8_lstm_vnni.cc, which replaces the product;
// include it only from files compiled with -mavx2.
#pragma once

#include <immintrin.h>

#include "int8_lstm_impl.h"

namespace tflstm::lstm {
namespace {

// TFLite's MultiplyByQuantizedMultiplier on 8 int32 lanes, from S's Srdhm32 and DivPot32 (the
// AVX2 ones, or VnniInt8's with mask registers).
template <class S>
__m256i Mbqm256(__m256i v, QuantizedMultiplier q) {
  const int left = q.shift > 0 ? q.shift : 0;
  const int right = q.shift > 0 ? 0 : -q.shift;
  return S::DivPot32(S::Srdhm32(_mm256_sll_epi32(v, _mm_cvtsi32_si128(left)), q.multiplier), right);
}

struct Avx2Int8 {
  using V16 = __m256i;
  using V32 = __m256i;
  static constexpr int kLanes16 = 16;
  static constexpr int kLanes32 = 8;
  static constexpr int kGroup = 4;
  // 32 accumulators, of 16 registers: those spilled cost a load and a store each, less than
  // preparing x (pack, broadcast, abs) four times as often (LSTM(64): the gates 15% faster than
  // with 8 accumulators in registers, LSTM(128) 6%).
  static constexpr int kBlocksAtOnce = 8;
  // The cell four vectors at a time (Interleaved; the activations looked up): on Zen 3 the
  // cell of BasicMotions' LSTM(64) takes 21 us, 22 with two, 24 with one.
  static constexpr int kInterleave = 4;

  static V16 Set16(int16_t x) { return _mm256_set1_epi16(x); }
  static V16 Load16(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void Store16(int16_t* p, V16 v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static V16 Add16(V16 a, V16 b) { return _mm256_add_epi16(a, b); }
  static V16 Sub16(V16 a, V16 b) { return _mm256_sub_epi16(a, b); }
  static V16 SatAdd16(V16 a, V16 b) { return _mm256_adds_epi16(a, b); }
  // vpmulhrsw rounds as gemmlowp does (half up is the same as gemmlowp's nudge and truncation);
  // it only differs for -1 * -1, which gemmlowp saturates to the maximum, and which no product
  // in the activations meets (their operands stay in [-1/2, 1), the constants are not -1:
  // Int8Activations checks every int16 input against the portable kernel).
  static V16 Mul16(V16 a, V16 b) { return _mm256_mulhrs_epi16(a, b); }
  static V16 Mullo16(V16 a, V16 b) { return _mm256_mullo_epi16(a, b); }
  static V16 And16(V16 a, V16 b) { return _mm256_and_si256(a, b); }
  static V16 Min16(V16 a, V16 b) { return _mm256_min_epi16(a, b); }
  static V16 Max16(V16 a, V16 b) { return _mm256_max_epi16(a, b); }
  static V16 CmpGt16(V16 a, V16 b) { return _mm256_cmpgt_epi16(a, b); }
  static V16 CmpLt16(V16 a, V16 b) { return _mm256_cmpgt_epi16(b, a); }
  static V16 CmpEq16(V16 a, V16 b) { return _mm256_cmpeq_epi16(a, b); }
  static V16 Select16(V16 mask, V16 then_v, V16 else_v) { return _mm256_blendv_epi8(else_v, then_v, mask); }
  template <int N>
  static V16 Sra16(V16 a) {
    return _mm256_srai_epi16(a, N);
  }
  template <int N>
  static V16 Shl16(V16 a) {
    return _mm256_slli_epi16(a, N);
  }
  // gemmlowp's NEON form: a negative x less one (saturating), then (x + 2^(E-1)) >> E, which
  // vpmulhrsw by 2^(15-E) computes without overflow.
  template <int E>
  static V16 DivPot16(V16 x) {
    const __m256i fixed = _mm256_adds_epi16(x, _mm256_srai_epi16(x, 15));
    return _mm256_mulhrs_epi16(fixed, _mm256_set1_epi16(static_cast<int16_t>(1 << (15 - E))));
  }
  static V16 HalfSumNonneg16(V16 a, V16 b) { return _mm256_avg_epu16(a, b); }  // (a + b + 1) >> 1

  // The activations looked up (int8_lstm_impl.h's TableOf: 128 KB per function, three for a
  // model: the gates' logistic and tanh, the cell's tanh), not computed: on Zen 3 two gathers
  // take about 7 ns for 16 lanes, gemmlowp's logistic about 15 (the cell, LSTM(64): 33 -> 22 us).
  // table[v] for each lane (table indexed from -32768, one entry readable past the last): two
  // gathers of 8 lanes, each reading the entry and the next, whose low halves are packed.
  static constexpr bool kLookup16 = true;
  static V16 Lookup16(const int16_t* table, V16 v) {
    const auto* base = reinterpret_cast<const int*>(table);
    const __m256i lo = _mm256_i32gather_epi32(base, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)), 2);
    const __m256i hi = _mm256_i32gather_epi32(base, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)), 2);
    const __m256i low16 = _mm256_set1_epi32(0xffff);
    const __m256i packed = _mm256_packus_epi32(_mm256_and_si256(lo, low16), _mm256_and_si256(hi, low16));
    return _mm256_permute4x64_epi64(packed, 0xd8);
  }

  // RoundingDivideByPOT of int32 lanes by a run-time exponent.
  static V32 DivPot32(V32 x, int exponent) {
    const __m256i mask = _mm256_set1_epi32(static_cast<int32_t>((int64_t{1} << exponent) - 1));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i remainder = _mm256_and_si256(x, mask);
    const __m256i threshold = _mm256_add_epi32(_mm256_srli_epi32(mask, 1),
                                               _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), x), one));
    const __m256i shifted = _mm256_sra_epi32(x, _mm_cvtsi32_si128(exponent));
    return _mm256_add_epi32(shifted, _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one));
  }
  // (a * b + 2^30) >> 31 in 64 bits is gemmlowp's nudge-and-truncate for either sign; b >= 0
  // (a quantized multiplier), so the saturating case cannot occur.
  static V32 Srdhm32(V32 a, int32_t b) { return Srdhm32(a, _mm256_set1_epi32(b)); }
  static V32 Srdhm32(V32 a, __m256i m) {
    const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, m), nudge), 31);
    const __m256i odd = _mm256_slli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), m), nudge), 1);
    return _mm256_blend_epi32(even, odd, 0xaa);
  }
  static V32 Mbqm(V32 v, QuantizedMultiplier q) { return Mbqm256<Avx2Int8>(v, q); }
  // A multiplier's constants for the products' rescaling, made once per kernel call.
  struct Requant {
    __m256i multiplier;
    __m128i left, right;  // shift counts
    __m256i mask, half;   // 2^right - 1 and its half: RoundingDivideByPOT's remainder and threshold
  };
  static Requant MakeRequant(QuantizedMultiplier q) {
    const int left = q.shift > 0 ? q.shift : 0;
    const int right = q.shift > 0 ? 0 : -q.shift;
    const auto mask = static_cast<int32_t>((int64_t{1} << right) - 1);
    return {_mm256_set1_epi32(q.multiplier), _mm_cvtsi32_si128(left), _mm_cvtsi32_si128(right), _mm256_set1_epi32(mask),
            _mm256_set1_epi32(mask >> 1)};
  }
  // Mbqm256's arithmetic: the threshold is half plus one for a negative x (x >> 31 is -1), and a
  // remainder above it rounds away (the comparison's -1 subtracted).
  static V32 Mbqm(V32 v, const Requant& r) {
    const __m256i x = Srdhm32(_mm256_sll_epi32(v, r.left), r.multiplier);
    const __m256i threshold = _mm256_sub_epi32(r.half, _mm256_srai_epi32(x, 31));
    const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(x, r.mask), threshold);
    return _mm256_sub_epi32(_mm256_sra_epi32(x, r.right), up);
  }
  // The int32 products of two int16 vectors, lanes 0-3 and 8-11 in lo, 4-7 and 12-15 in hi
  // (what _mm256_packs_epi32(lo, hi) puts back in order).
  static void Products(V16 a, V16 b, __m256i* lo, __m256i* hi) {
    const __m256i l = _mm256_mullo_epi16(a, b);
    const __m256i h = _mm256_mulhi_epi16(a, b);
    *lo = _mm256_unpacklo_epi16(l, h);
    *hi = _mm256_unpackhi_epi16(l, h);
  }
  static V16 MulRound16(V16 a, V16 b, int shift) {
    __m256i lo, hi;
    Products(a, b, &lo, &hi);
    const __m256i low16 = _mm256_set1_epi32(0xffff);  // the low 16 bits, as TFLite's cast
    return _mm256_packus_epi32(_mm256_and_si256(DivPot32(lo, shift), low16),
                               _mm256_and_si256(DivPot32(hi, shift), low16));
  }
  static V16 HiddenOut(V16 o, V16 t, QuantizedMultiplier q, int32_t zp) {
    __m256i lo, hi;
    Products(o, t, &lo, &hi);
    const __m256i z = _mm256_set1_epi32(zp);
    const __m256i r = _mm256_packs_epi32(_mm256_add_epi32(Mbqm(lo, q), z), _mm256_add_epi32(Mbqm(hi, q), z));
    return _mm256_max_epi16(_mm256_min_epi16(r, _mm256_set1_epi16(127)), _mm256_set1_epi16(-128));
  }

  static V32 Load32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static V32 Add32(V32 a, V32 b) { return _mm256_add_epi32(a, b); }
  static V32 Widen16(const int16_t* p) {
    return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void StoreSat16(int16_t* p, V32 v) {
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(v, v), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
  }
  // One 32-byte store, which the cell's 16-lane load of it can forward from (a wide load over
  // two narrow stores waits until they reach the cache).
  static constexpr bool kStoreSat16x2 = true;
  static void StoreSat16x2(int16_t* p, V32 a, V32 b) {
    // packs works per 128 bits: 4 int16 of a, b, a, b; the permutation restores the order
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8));
  }
  // acc[g] (8 units of gate g) += the products of the group's 4 columns: pmaddubsw of |x| with
  // w * sign(x), then pmaddwd by ones. Exact: x holds int8 values and the covered weights are in
  // [-127, 127] (Int8Lstm::Covers), so a pair of products is at most 2 * 128 * 127 < 2^15 and
  // pmaddubsw never saturates.
  struct XV {
    __m256i bytes;  // the 4 columns as int8, in every 32-bit lane
    __m256i abs;    // their absolute values
  };
  static XV LoadX(const int16_t* x) {
    const __m128i x16 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x));
    const __m256i xb = _mm256_broadcastd_epi32(_mm_packs_epi16(x16, x16));
    return {xb, _mm256_abs_epi8(xb)};
  }
  static void Mac(V32* acc, const int8_t* w, const XV& x) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int g = 0; g < kGates; ++g) {
      const __m256i wg = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * g));
      acc[g] =
          _mm256_add_epi32(acc[g], _mm256_madd_epi16(_mm256_maddubs_epi16(x.abs, _mm256_sign_epi8(wg, x.bytes)), ones));
    }
  }
};

}  // namespace
}  // namespace tflstm::lstm

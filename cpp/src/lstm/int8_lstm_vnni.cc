// The integer LSTM with AVX-512: the AVX2 kernel with each group's product as one vpdpbusd
// (VNNI on 256-bit vectors, EVEX: AVX512VL), four products summed into each int32 lane, in
// place of vpsignb, vpmaddubsw, vpmaddwd and an add, and the rescaling's comparisons in mask
// registers; and the cell update and activations on 32 int16 lanes (AVX512BW), half of the
// small model's time with AVX2. Compiled with -mavx2 -mavx512f -mavx512bw -mavx512vl -mavx512vnni; BestInt8Kernels()
// calls it only on a CPU that has them all.
#if defined(__x86_64__) || defined(_M_X64)
#include "int8_lstm_avx2.h"

namespace tflstm::lstm {
namespace {

// The product takes x + 128 as vpdpbusd's unsigned operand and the weights as they are: the
// packer folds -128 * each row's sum into the bias (Int8Kernels::x_offset), so a group costs one
// instruction per gate. Exact: four products of at most 255 * 127 fit an int32 lane, which
// vpdpbusd adds without saturating (it wraps, as TFLite's int32 sums do).
struct VnniInt8 : Avx2Int8 {
  static constexpr int kXOffset = 128;
  static constexpr int kBlocksAtOnce = 4;  // 16 accumulators of the 32 registers AVX-512 gives
  using XV = __m256i;                      // the group's 4 columns + 128 as uint8, in every 32-bit lane
  static XV LoadX(const int16_t* x) {
    const __m128i x16 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x));
    return _mm256_broadcastd_epi32(_mm_xor_si128(_mm_packs_epi16(x16, x16), _mm_set1_epi8(-128)));
  }
  // Avx2Int8::DivPot32 with the comparisons in mask registers (AVX512VL): two fewer operations
  // in each rescaling of the products.
  static V32 DivPot32(V32 x, int exponent) {
    const __m256i mask = _mm256_set1_epi32(static_cast<int32_t>((int64_t{1} << exponent) - 1));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i half = _mm256_srli_epi32(mask, 1);
    const __m256i threshold =
        _mm256_mask_add_epi32(half, _mm256_cmplt_epi32_mask(x, _mm256_setzero_si256()), half, one);
    const __m256i shifted = _mm256_sra_epi32(x, _mm_cvtsi32_si128(exponent));
    const __mmask8 up = _mm256_cmpgt_epi32_mask(_mm256_and_si256(x, mask), threshold);
    return _mm256_mask_add_epi32(shifted, up, shifted, one);
  }
  static V32 Mbqm(V32 v, QuantizedMultiplier q) { return Mbqm256<VnniInt8>(v, q); }
  // Its Mbqm takes the multiplier itself (not Avx2Int8::Requant's constants).
  using Requant = QuantizedMultiplier;
  static Requant MakeRequant(QuantizedMultiplier q) { return q; }
  static constexpr bool kStoreSat16x4 = true;
  static void StoreSat16x4(int16_t* p, V32 a, V32 b, V32 c, V32 d) {
    const __m512i ab = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
    const __m512i cd = _mm512_inserti64x4(_mm512_castsi256_si512(c), d, 1);
    // packs works per 128 bits: 4 int16 of a, c, a, c, b, d, b, d; the permutation restores the order
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    _mm512_storeu_si512(p, _mm512_permutexvar_epi64(order, _mm512_packs_epi32(ab, cd)));
  }
  static void Mac(V32* acc, const int8_t* w, XV x) {
    for (int g = 0; g < kGates; ++g) {
      acc[g] = _mm256_dpbusd_epi32(acc[g], x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * g)));
    }
  }
};

// The int16 operations of the cell (Int8Cell and the fixed-point functions of int8_fixed_point.h)
// on 512-bit vectors, each AVX2's operation twice as wide; comparisons give mask registers.
struct Avx512Int8 {
  using V16 = __m512i;
  using V32 = __m512i;
  static constexpr int kLanes16 = 32;

  static V16 Set16(int16_t x) { return _mm512_set1_epi16(x); }
  static V16 Load16(const int16_t* p) { return _mm512_loadu_si512(p); }
  static void Store16(int16_t* p, V16 v) { _mm512_storeu_si512(p, v); }
  static V16 Add16(V16 a, V16 b) { return _mm512_add_epi16(a, b); }
  static V16 Sub16(V16 a, V16 b) { return _mm512_sub_epi16(a, b); }
  static V16 SatAdd16(V16 a, V16 b) { return _mm512_adds_epi16(a, b); }
  static V16 Mul16(V16 a, V16 b) { return _mm512_mulhrs_epi16(a, b); }  // as Avx2Int8::Mul16
  static V16 Mullo16(V16 a, V16 b) { return _mm512_mullo_epi16(a, b); }
  static constexpr bool kMulIfBit = true;
  static V16 MulIfBit16(V16 x, V16 bits, V16 bit, V16 m) {
    return _mm512_mask_mulhrs_epi16(x, _mm512_test_epi16_mask(bits, bit), x, m);
  }
  static V16 And16(V16 a, V16 b) { return _mm512_and_si512(a, b); }
  static V16 Min16(V16 a, V16 b) { return _mm512_min_epi16(a, b); }
  static V16 Max16(V16 a, V16 b) { return _mm512_max_epi16(a, b); }
  static __mmask32 CmpGt16(V16 a, V16 b) { return _mm512_cmpgt_epi16_mask(a, b); }
  static __mmask32 CmpLt16(V16 a, V16 b) { return _mm512_cmplt_epi16_mask(a, b); }
  static __mmask32 CmpEq16(V16 a, V16 b) { return _mm512_cmpeq_epi16_mask(a, b); }
  static V16 Select16(__mmask32 mask, V16 then_v, V16 else_v) { return _mm512_mask_blend_epi16(mask, else_v, then_v); }
  template <int N>
  static V16 Sra16(V16 a) {
    return _mm512_srai_epi16(a, N);
  }
  template <int N>
  static V16 Shl16(V16 a) {
    return _mm512_slli_epi16(a, N);
  }
  template <int E>
  static V16 DivPot16(V16 x) {  // as Avx2Int8::DivPot16
    const __m512i fixed = _mm512_adds_epi16(x, _mm512_srai_epi16(x, 15));
    return _mm512_mulhrs_epi16(fixed, _mm512_set1_epi16(static_cast<int16_t>(1 << (15 - E))));
  }
  static V16 HalfSumNonneg16(V16 a, V16 b) { return _mm512_avg_epu16(a, b); }

  static V32 DivPot32(V32 x, int exponent) {
    const __m512i mask = _mm512_set1_epi32(static_cast<int32_t>((int64_t{1} << exponent) - 1));
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i remainder = _mm512_and_si512(x, mask);
    const __m512i negative = _mm512_maskz_mov_epi32(_mm512_cmplt_epi32_mask(x, _mm512_setzero_si512()), one);
    const __m512i threshold = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), negative);
    const __m512i shifted = _mm512_sra_epi32(x, _mm_cvtsi32_si128(exponent));
    return _mm512_add_epi32(shifted, _mm512_maskz_mov_epi32(_mm512_cmpgt_epi32_mask(remainder, threshold), one));
  }
  static V32 Srdhm32(V32 a, int32_t b) {  // as Avx2Int8::Srdhm32
    const __m512i m = _mm512_set1_epi32(b);
    const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
    const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, m), nudge), 31);
    const __m512i odd = _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), m), nudge), 1);
    return _mm512_mask_blend_epi32(0xaaaa, even, odd);
  }
  static V32 Mbqm(V32 v, QuantizedMultiplier q) {
    const int left = q.shift > 0 ? q.shift : 0;
    const int right = q.shift > 0 ? 0 : -q.shift;
    return DivPot32(Srdhm32(_mm512_sll_epi32(v, _mm_cvtsi32_si128(left)), q.multiplier), right);
  }
  // As Avx2Int8::Products, per 128-bit lane: _mm512_packs_epi32(lo, hi) restores the order.
  static void Products(V16 a, V16 b, __m512i* lo, __m512i* hi) {
    const __m512i l = _mm512_mullo_epi16(a, b);
    const __m512i h = _mm512_mulhi_epi16(a, b);
    *lo = _mm512_unpacklo_epi16(l, h);
    *hi = _mm512_unpackhi_epi16(l, h);
  }
  static V16 MulRound16(V16 a, V16 b, int shift) {
    __m512i lo, hi;
    Products(a, b, &lo, &hi);
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    return _mm512_packus_epi32(_mm512_and_si512(DivPot32(lo, shift), low16),
                               _mm512_and_si512(DivPot32(hi, shift), low16));
  }
  static V16 HiddenOut(V16 o, V16 t, QuantizedMultiplier q, int32_t zp) {
    __m512i lo, hi;
    Products(o, t, &lo, &hi);
    const __m512i z = _mm512_set1_epi32(zp);
    const __m512i r = _mm512_packs_epi32(_mm512_add_epi32(Mbqm(lo, q), z), _mm512_add_epi32(Mbqm(hi, q), z));
    return _mm512_max_epi16(_mm512_min_epi16(r, _mm512_set1_epi16(127)), _mm512_set1_epi16(-128));
  }
};

}  // namespace

const Int8Kernels& VnniInt8Kernels() {
  static_assert(kInt8UnitPad % Avx512Int8::kLanes16 == 0, "vector width");
  static const Int8Kernels kernels = [] {
    Int8Kernels k = Avx2Int8Kernels();
    k.name = rnn::VariantName(Int8Kernels::kFamily, rnn::Isa::kAvx512Vnni);
    k.x_offset = VnniInt8::kXOffset;
    k.project = &Int8Project<VnniInt8>;
    k.gates = &Int8Gates<VnniInt8>;
    k.cell = &Int8CellOf<Avx512Int8>;
    k.sigmoid = &Int8Sigmoid<Avx512Int8>;
    k.tanh = &Int8Tanh<Avx512Int8>;
    k.mul_q15 = &Int8MulQ15<Avx512Int8>;
    return k;
  }();
  return kernels;
}

}  // namespace tflstm::lstm
#endif

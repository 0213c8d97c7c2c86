// What this CPU can run, found once, and what TFLSTM_LSTM_ISA lets the recurrent kernels use:
// every kernel family (LSTM, GRU, SimpleRNN; float, hybrid, int8) asks here, not each other.
#pragma once

namespace tflstm::rnn {

// The instruction-set extensions the kernels use, as the CPU reports them.
struct CpuFeatures {
  bool avx2_fma = false;     // x86-64: AVX2 and FMA
  bool avx512f = false;      // x86-64: AVX512F (512-bit float vectors)
  bool avx512_vnni = false;  // x86-64: AVX512 VNNI with VL, BW and F (the integer kernels use all four)
  bool neon = false;         // ARM: the build's baseline (aarch64, or armhf built with NEON)
  bool dotprod = false;      // aarch64: sdot/udot (Armv8.2-A DotProd)
};
const CpuFeatures& Cpu();

// TFLSTM_LSTM_ISA, read once: unset lets the kernels use everything the CPU has; "portable"
// keeps them to plain C++; any other value ("avx2", "neon") to the base vector set, without
// AVX-512 or DotProd (to compare the two).
enum class IsaLimit { kNone, kPortable, kBaseOnly };
IsaLimit Limit();

}  // namespace tflstm::rnn

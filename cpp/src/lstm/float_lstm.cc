#include "float_lstm.h"

#include <cstdlib>
#include <cstring>
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace tflstm::lstm {

void PackedWeights::Resize(int n_input, int n_cell) {
  const size_t blocks = static_cast<size_t>(Blocks(n_cell));
  input.assign(blocks * n_input * kBlockWidth, 0.0f);
  recurrent.assign(blocks * n_cell * kBlockWidth, 0.0f);
  bias.assign(blocks * kBlockWidth, 0.0f);
}

void PackGates(const float* const gates[kGates], int units, int cols, float* out) {
  const int blocks = Blocks(units);
  for (int blk = 0; blk < blocks; ++blk) {
    for (int k = 0; k < cols; ++k) {
      float* row = out + (static_cast<size_t>(blk) * cols + k) * kBlockWidth;
      for (int g = 0; g < kGates; ++g) {
        for (int j = 0; j < kBlockUnits; ++j) {
          const int unit = blk * kBlockUnits + j;
          row[g * kBlockUnits + j] = unit < units ? gates[g][static_cast<size_t>(unit) * cols + k] : 0.0f;
        }
      }
    }
  }
}

Isa BestIsa() {
  static const Isa best = [] {
    // TFLSTM_LSTM_ISA=portable runs the portable kernels on any CPU (tests and benchmarks);
    // =avx2 leaves out AVX-512 (HasAvx512, HasAvx512Vnni), =neon aarch64's DotProd (HasDotProd).
    const char* isa = std::getenv("TFLSTM_LSTM_ISA");
    if (isa != nullptr && std::strcmp(isa, "portable") == 0) return Isa::kPortable;
#if defined(__x86_64__) || defined(_M_X64)
    if (CpuHasAvx2()) return Isa::kAvx2;
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
    return Isa::kNeon;  // the build's baseline has NEON
#endif
    return Isa::kPortable;
  }();
  return best;
}

namespace {

// An extension of the base instruction set, where the CPU has it and TFLSTM_LSTM_ISA names none.
bool UseExtension(Isa base, bool (*cpu_has)()) {
  return BestIsa() == base && std::getenv("TFLSTM_LSTM_ISA") == nullptr && cpu_has();
}

}  // namespace

bool CpuHasAvx2() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool CpuHasAvx512Vnni() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  // The integer kernel's cell runs on AVX512BW too: every CPU with VNNI has it (and F).
  return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool CpuHasDotProd() {
#if defined(__aarch64__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;
#endif
}

bool HasDotProd() {
  static const bool has = UseExtension(Isa::kNeon, &CpuHasDotProd);
  return has;
}

bool CpuHasAvx512() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool HasAvx512() {
  static const bool has = UseExtension(Isa::kAvx2, &CpuHasAvx512);
  return has;
}

bool HasAvx512Vnni() {
  static const bool has = UseExtension(Isa::kAvx2, &CpuHasAvx512Vnni);
  return has;
}

const Kernels& BestKernels() {
  switch (BestIsa()) {
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::kAvx2: return HasAvx512() ? Avx512Kernels() : Avx2Kernels();
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
    case Isa::kNeon: return NeonKernels();
#endif
    default: return PortableKernels();
  }
}

std::vector<const Kernels*> KernelsOnThisCpu() {
  std::vector<const Kernels*> all = {&PortableKernels()};
#if defined(__x86_64__) || defined(_M_X64)
  if (CpuHasAvx2()) all.push_back(&Avx2Kernels());
  if (CpuHasAvx2() && CpuHasAvx512()) all.push_back(&Avx512Kernels());
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
  all.push_back(&NeonKernels());
#endif
  return all;
}

}  // namespace tflstm::lstm

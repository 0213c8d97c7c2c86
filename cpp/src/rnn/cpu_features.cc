#include "cpu_features.h"

#include <cstdlib>
#include <cstring>
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace tflstm::rnn {

const CpuFeatures& Cpu() {
  static const CpuFeatures cpu = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512_vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
    f.neon = true;
#endif
#if defined(__aarch64__) && defined(__linux__)
    f.dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    return f;
  }();
  return cpu;
}

IsaLimit Limit() {
  static const IsaLimit limit = [] {
    const char* isa = std::getenv("TFLSTM_LSTM_ISA");
    if (isa == nullptr) return IsaLimit::kNone;
    return std::strcmp(isa, "portable") == 0 ? IsaLimit::kPortable : IsaLimit::kBaseOnly;
  }();
  return limit;
}

}  // namespace tflstm::rnn

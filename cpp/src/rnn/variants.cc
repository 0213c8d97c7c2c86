#include "variants.h"

#include <array>
#include <string>

#include "cpu_features.h"
#include "gru.h"
#include "lstm/float_lstm.h"
#include "lstm/hybrid_lstm.h"
#include "lstm/int8_lstm.h"

namespace tflstm::rnn {
namespace {

struct Variant {
  Family family;
  Isa isa;
  const void* (*kernels)();
};

template <auto Get>
const void* Erase() {
  return &Get();
}

#define TFLSTM_VARIANT(family, isa, getter) \
  Variant { Family::family, Isa::isa, &Erase<&getter> }

// Within a family, in order of preference: the best is the last the CPU runs and
// TFLSTM_LSTM_ISA allows; the tests run every one the CPU runs, in this order.
const Variant kVariants[] = {
    TFLSTM_VARIANT(kLstmFloat, kPortable, lstm::PortableKernels),
    TFLSTM_VARIANT(kLstmHybrid, kPortable, lstm::PortableHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kPortable, lstm::PortableInt8Kernels),
    TFLSTM_VARIANT(kGruFloat, kPortable, PortableGruKernels),
    TFLSTM_VARIANT(kRnnFloat, kPortable, PortableRnnKernels),
#if defined(__x86_64__) || defined(_M_X64)
    TFLSTM_VARIANT(kLstmFloat, kAvx2, lstm::Avx2Kernels),
    TFLSTM_VARIANT(kLstmFloat, kAvx512, lstm::Avx512Kernels),
    TFLSTM_VARIANT(kLstmHybrid, kAvx2, lstm::Avx2HybridKernels),
    TFLSTM_VARIANT(kLstmHybrid, kAvx512Vnni, lstm::VnniHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kAvx2, lstm::Avx2Int8Kernels),
    TFLSTM_VARIANT(kLstmInt8, kAvx512Vnni, lstm::VnniInt8Kernels),
    TFLSTM_VARIANT(kGruFloat, kAvx2, Avx2GruKernels),
    TFLSTM_VARIANT(kGruFloat, kAvx512, Avx512GruKernels),
    TFLSTM_VARIANT(kRnnFloat, kAvx2, Avx2RnnKernels),
    TFLSTM_VARIANT(kRnnFloat, kAvx512, Avx512RnnKernels),
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
    TFLSTM_VARIANT(kLstmFloat, kNeon, lstm::NeonKernels),
    TFLSTM_VARIANT(kLstmHybrid, kNeon, lstm::NeonHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kNeon, lstm::NeonInt8Kernels),
    TFLSTM_VARIANT(kGruFloat, kNeon, NeonGruKernels),
    TFLSTM_VARIANT(kRnnFloat, kNeon, NeonRnnKernels),
#endif
#if defined(__aarch64__)
    TFLSTM_VARIANT(kLstmHybrid, kDotProd, lstm::DotProdHybridKernels),
    TFLSTM_VARIANT(kLstmInt8, kDotProd, lstm::DotProdInt8Kernels),
#endif
};

#undef TFLSTM_VARIANT

// The base vector set an extension builds on (itself for a base set).
Isa Base(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
    case Isa::kAvx512Vnni: return Isa::kAvx2;
    case Isa::kDotProd: return Isa::kNeon;
    default: return isa;
  }
}

}  // namespace

bool CpuRuns(Isa isa) {
  const CpuFeatures& cpu = Cpu();
  switch (isa) {
    case Isa::kPortable: return true;
    case Isa::kAvx2: return cpu.avx2_fma;
    case Isa::kAvx512: return cpu.avx2_fma && cpu.avx512f;
    case Isa::kAvx512Vnni: return cpu.avx2_fma && cpu.avx512_vnni;
    case Isa::kNeon: return cpu.neon;
    case Isa::kDotProd: return cpu.neon && cpu.dotprod;
  }
  return false;
}

bool Allowed(Isa isa) {
  if (!CpuRuns(isa)) return false;
  switch (Limit()) {
    case IsaLimit::kNone: return true;
    case IsaLimit::kPortable: return isa == Isa::kPortable;
    case IsaLimit::kBaseOnly: return Base(isa) == isa;
  }
  return false;
}

const char* VariantName(Family family, Isa isa) {
  static const char* const kFamilies[] = {"", "hybrid-", "int8-", "gru-", "rnn-"};
  static const char* const kIsas[] = {"portable", "avx2", "avx512", "avx512vnni", "neon", "neon-dotprod"};
  constexpr int kIsaCount = sizeof(kIsas) / sizeof(kIsas[0]);
  constexpr int kFamilyCount = sizeof(kFamilies) / sizeof(kFamilies[0]);
  static const std::array<std::string, kFamilyCount* kIsaCount> names = [] {
    std::array<std::string, kFamilyCount * kIsaCount> all;
    for (int f = 0; f < kFamilyCount; ++f) {
      for (int i = 0; i < kIsaCount; ++i) all[f * kIsaCount + i] = std::string(kFamilies[f]) + kIsas[i];
    }
    return all;
  }();
  return names[static_cast<int>(family) * kIsaCount + static_cast<int>(isa)].c_str();
}

namespace internal {

const void* Best(Family family) {
  const void* best = nullptr;
  for (const Variant& v : kVariants) {
    if (v.family == family && Allowed(v.isa)) best = v.kernels();
  }
  return best;  // the portable row always qualifies
}

std::vector<const void*> OnThisCpu(Family family) {
  std::vector<const void*> all;
  for (const Variant& v : kVariants) {
    if (v.family == family && CpuRuns(v.isa)) all.push_back(v.kernels());
  }
  return all;
}

}  // namespace internal
}  // namespace tflstm::rnn

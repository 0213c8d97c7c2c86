#include "variants.h"

#include <array>
#include <string>

#include "cpu_features.h"

namespace tflstm::rnn {
namespace {

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

const void* Best(VariantRows rows, Family family) {
  const void* best = nullptr;
  for (const Variant* r = rows.begin; r != rows.end; ++r) {
    const Variant& v = *r;
    if (v.family == family && Allowed(v.isa)) best = v.kernels();
  }
  return best;  // the portable row always qualifies
}

std::vector<const void*> OnThisCpu(VariantRows rows, Family family) {
  std::vector<const void*> all;
  for (const Variant* r = rows.begin; r != rows.end; ++r) {
    const Variant& v = *r;
    if (v.family == family && CpuRuns(v.isa)) all.push_back(v.kernels());
  }
  return all;
}

}  // namespace internal
}  // namespace tflstm::rnn

// The recurrent kernels' variants: each row is a kernel family (LSTM float, hybrid or int8; GRU
// float; SimpleRNN float), an instruction set and that family's kernels for it. The CPU
// predicate, the name ("hybrid-avx2", "gru-neon", ...), the best kernel for this CPU and the
// list the tests run are all derived from the rows (variants.cc), the way XNNPACK derives its
// microkernel choice from one table. The rows are kept per cell (lstm/lstm_variants.cc,
// rnn/gru_rnn_variants.cc) so that a program which runs only LSTMs links no GRU kernel.
#pragma once

#include <vector>

namespace tflstm::rnn {

// Each family is one kernel struct type, which names its family as `static constexpr Family
// kFamily`.
enum class Family { kLstmFloat, kLstmHybrid, kLstmInt8, kGruFloat, kRnnFloat };

// In order of preference within a family: a row runs where the CPU has its instruction set.
enum class Isa { kPortable, kAvx2, kAvx512, kAvx512Vnni, kNeon, kDotProd };

// Whether this CPU can run `isa`, whatever TFLSTM_LSTM_ISA says (the tests run every such kernel).
bool CpuRuns(Isa isa);
// Whether the best-kernel choice may use `isa` here: the CPU runs it and TFLSTM_LSTM_ISA allows it.
bool Allowed(Isa isa);
// The kernel's name: the family's prefix ("", "hybrid-", "int8-", "gru-", "rnn-") and the
// instruction set's ("portable", "avx2", "avx512", "avx512vnni", "neon", "neon-dotprod").
const char* VariantName(Family family, Isa isa);

namespace internal {

struct Variant {
  Family family;
  Isa isa;
  const void* (*kernels)();
};

struct VariantRows {
  const Variant* begin;
  const Variant* end;
};

template <auto Get>
const void* Erase() {
  return &Get();
}

#define TFLSTM_VARIANT(family, isa, getter) \
  ::tflstm::rnn::internal::Variant { Family::family, Isa::isa, &::tflstm::rnn::internal::Erase<&getter> }

// Each cell's rows, within a family in order of preference: the best is the last the CPU runs
// and TFLSTM_LSTM_ISA allows; the tests run every one the CPU runs, in this order.
VariantRows LstmVariants();    // lstm/lstm_variants.cc
VariantRows GruRnnVariants();  // rnn/gru_rnn_variants.cc

// The rows of K's cell, chosen at compile time so that only that cell's table is linked.
template <class K>
VariantRows RowsOf() {
  if constexpr (K::kFamily == Family::kGruFloat || K::kFamily == Family::kRnnFloat) {
    return GruRnnVariants();
  } else {
    return LstmVariants();
  }
}

const void* Best(VariantRows rows, Family family);
std::vector<const void*> OnThisCpu(VariantRows rows, Family family);

}  // namespace internal

// The best kernels of K's family for this CPU, chosen once.
template <class K>
const K& Best() {
  static const K& best = *static_cast<const K*>(internal::Best(internal::RowsOf<K>(), K::kFamily));
  return best;
}

// Every implementation of K's family this CPU can run, the portable one first.
template <class K>
std::vector<const K*> OnThisCpu() {
  std::vector<const K*> all;
  for (const void* k : internal::OnThisCpu(internal::RowsOf<K>(), K::kFamily)) {
    all.push_back(static_cast<const K*>(k));
  }
  return all;
}

}  // namespace tflstm::rnn

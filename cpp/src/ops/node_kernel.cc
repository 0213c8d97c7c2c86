#include "node_kernel.h"

#include <atomic>

#include "lstm/lstm_op.h"

namespace tflstm::ops {
namespace {

constexpr int kMaxFamilies = 4;
std::atomic<const KernelFamily*> families[kMaxFamilies];

const KernelFamily* FamilyOf(const TfLiteRegistration& registration) {
  for (const auto& slot : families) {
    const KernelFamily* f = slot.load(std::memory_order_acquire);
    if (f != nullptr && f->owns(registration)) return f;
  }
  return nullptr;
}

}  // namespace

void RegisterKernelFamily(const KernelFamily* family) {
  for (auto& slot : families) {
    const KernelFamily* expected = nullptr;
    if (slot.load() == family || slot.compare_exchange_strong(expected, family)) return;
  }
}

const char* NodeKernel(const TfLiteRegistration& registration, const TfLiteNode& node) {
  if (const char* lstm = lstm::NodeKernel(registration, node)) return lstm;
  const KernelFamily* f = FamilyOf(registration);
  return f != nullptr ? f->name(node) : "tflite";
}

size_t NodeKernelBytes(const TfLiteRegistration& registration, const TfLiteNode& node) {
  const KernelFamily* f = FamilyOf(registration);
  return lstm::NodeKernelBytes(registration, node) + (f != nullptr ? f->heap_bytes(node) : 0);
}

}  // namespace tflstm::ops

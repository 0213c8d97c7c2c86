// Packed weights shared by every node that packs the same constant weights the same way: the
// runners of one model (one per thread, say) hold one copy, not one each. Weights in a
// model's bytes stay at their address while any interpreter over the model lives, so their
// addresses, with everything else the packing reads, name a packing; an entry lives as long
// as a node holds it, and the next node to need it after that packs it again.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

namespace tflstm::rnn {

// What names a packing: the weights' addresses, shapes, scales, zero points, layout.
class PackKey {
 public:
  PackKey& Add(const void* p) { return Add(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p))); }
  PackKey& Add(float f) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    return Add(static_cast<uint64_t>(bits));
  }
  PackKey& Add(int64_t v) { return Add(static_cast<uint64_t>(v)); }
  PackKey& Add(int v) { return Add(static_cast<uint64_t>(static_cast<int64_t>(v))); }
  PackKey& Add(uint64_t v) {
    words_.push_back(v);
    return *this;
  }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  std::vector<uint64_t> words_;
};

namespace internal {
std::shared_ptr<const void> Shared(const PackKey& key, const std::function<std::shared_ptr<const void>()>& pack);
template <class T>
const void* TypeTag() {
  static const char tag = 0;
  return &tag;
}
}  // namespace internal

// The packing `key` names, made by `pack` (returning a std::unique_ptr<T>) when no node holds
// it. Thread-safe: runners prepare on their own threads.
template <class T, class Pack>
std::shared_ptr<const T> SharedPack(PackKey key, Pack&& pack) {
  key.Add(internal::TypeTag<T>());
  return std::static_pointer_cast<const T>(
      internal::Shared(key, [&]() -> std::shared_ptr<const void> { return std::shared_ptr<const T>(pack()); }));
}

// The packing of weights in the model (`in_model`) is shared with every node that packs the same
// (the runners of one model); weights an op computed are the interpreter's own, and so is their
// packing.
template <class T, class Pack>
std::shared_ptr<const T> PackedFor(bool in_model, PackKey key, Pack&& pack) {
  if (in_model) return SharedPack<T>(std::move(key), pack);
  return pack();
}

}  // namespace tflstm::rnn

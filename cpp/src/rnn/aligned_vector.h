// Storage for packed weights and kernel scratch that starts on a cache line. The kernels load
// with unaligned instructions, which cost nothing extra on an aligned address; on malloc's
// 16-byte alignment a 256- or 512-bit load can straddle two cache lines, and a kernel that
// streams its weights from L2 then runs a quarter slower, depending on where the heap happened
// to put them (README, "The LSTM kernel").
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace tflstm::rnn {

constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}  // NOLINT: allocators convert implicitly
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLine})); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete (p, std::align_val_t{kCacheLine}); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept {
    return false;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace tflstm::rnn

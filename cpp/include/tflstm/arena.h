// tflstm's memory arena: one 64-byte aligned region with a hard byte budget. tflstm's own
// buffers (model copies, input and output tensors, state snapshots) are carved from it by
// bumping an offset, so the hot path never touches the heap and the total is known up front.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

#include "tflstm/status.h"

namespace tflstm {

struct ArenaStats {
  size_t used = 0;        // bytes handed out now (alignment padding included)
  size_t high_water = 0;  // the most that was ever in use
  size_t budget = 0;      // the hard limit
};

class Arena {
 public:
  static constexpr size_t kAlignment = 64;

  // Reserves `budget` bytes (rounded up to the alignment). A zero budget is valid: every
  // allocation then fails with kArenaExhausted, which is how a user learns the size needed.
  static Result<std::unique_ptr<Arena>> Create(size_t budget);

  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  // Only Create() can name the key: an Arena always comes from Create().
  class Key {
    friend class Arena;
    explicit Key() = default;  // explicit: `{}` cannot build one outside
  };
  Arena(Key, std::unique_ptr<void, FreeDeleter> base, size_t budget) : base_(std::move(base)), budget_(budget) {}

  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` from the arena, aligned to kAlignment; `what` names the buffer in the error.
  Result<void*> Allocate(size_t bytes, const char* what);

  // Releases everything allocated after `mark` (a value of stats().used taken earlier).
  void ReleaseTo(size_t mark);
  void Reset() { ReleaseTo(0); }

  ArenaStats stats() const { return {used_, high_water_, budget_}; }
  bool Contains(const void* p) const;

  static size_t AlignUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

 private:
  std::unique_ptr<void, FreeDeleter> base_;
  size_t budget_ = 0;
  size_t used_ = 0;
  size_t high_water_ = 0;
};

}  // namespace tflstm

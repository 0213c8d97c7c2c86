#include "tflstm/arena.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace tflstm {

Result<std::unique_ptr<Arena>> Arena::Create(size_t budget) {
  if (budget > SIZE_MAX - kAlignment) {
    return Status(ErrorCode::kInvalidArgument, "arena budget of " + std::to_string(budget) + " bytes is too large");
  }
  budget = AlignUp(budget);
  std::unique_ptr<void, FreeDeleter> base;
  if (budget > 0) {
    base.reset(std::aligned_alloc(kAlignment, budget));
    if (!base) {
      return Status(ErrorCode::kArenaExhausted,
                    "could not reserve an arena of " + std::to_string(budget) + " bytes from the system");
    }
  }
  return std::make_unique<Arena>(Key(), std::move(base), budget);
}

Result<void*> Arena::Allocate(size_t bytes, const char* what) {
  const size_t need = AlignUp(std::max<size_t>(bytes, 1));
  if (need > budget_ - used_) {
    return Status(ErrorCode::kArenaExhausted, std::string(what) + " needs " + std::to_string(need) +
                                                  " bytes but the arena has " + std::to_string(budget_ - used_) +
                                                  " of its " + std::to_string(budget_) + "-byte budget left (" +
                                                  std::to_string(used_) + " in use)");
  }
  void* p = static_cast<char*>(base_.get()) + used_;
  used_ += need;
  high_water_ = std::max(high_water_, used_);
  return p;
}

void Arena::ReleaseTo(size_t mark) { used_ = std::min(used_, mark); }

bool Arena::Contains(const void* p) const {
  const auto* c = static_cast<const char*>(p);
  const auto* b = static_cast<const char*>(base_.get());
  return b != nullptr && c >= b && c < b + budget_;
}

}  // namespace tflstm

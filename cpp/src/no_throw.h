// TFLite is C++ that allocates with std::vector and new: on a small device (or a 32-bit
// address space) a corrupt model that asks for gigabytes makes it throw std::bad_alloc. The
// core never lets an exception out; this turns one into a Status.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "tflstm/status.h"

namespace tflstm::internal {

// `what()` names the work for the message; it is only called on failure, so the hot path
// builds no string.
template <typename What, typename Fn>
auto NoThrow(What&& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::kArenaExhausted, "out of memory while " + std::string(what()));
  } catch (const std::exception& e) {
    return Status(ErrorCode::kRuntimeError, std::string(what()) + " failed: " + e.what());
  }
}

}  // namespace tflstm::internal

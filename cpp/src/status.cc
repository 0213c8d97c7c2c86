#include "tflstm/status.h"

namespace tflstm {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidModel: return "invalid model";
    case ErrorCode::kUnsupportedOp: return "unsupported op";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kArenaExhausted: return "arena exhausted";
    case ErrorCode::kRuntimeError: return "runtime error";
    case ErrorCode::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

}  // namespace tflstm

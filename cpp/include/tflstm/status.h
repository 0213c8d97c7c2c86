// Status values: every failure in tflstm is one of these codes plus a message that says
// what went wrong and where. Nothing in the core throws, aborts or prints.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace tflstm {

enum class ErrorCode {
  kOk = 0,
  kInvalidModel,     // unreadable, truncated or malformed model
  kUnsupportedOp,    // an (op, version) the linked runtime cannot run
  kInvalidArgument,  // wrong shape, dtype, name or option
  kArenaExhausted,   // the arena budget is too small
  kRuntimeError,     // TFLite failed while preparing or invoking
  kCancelled,        // Runner::Cancel() stopped an invoke
};

const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", for logs.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none (C++17 has no std::expected).
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tflstm

// Returns early from a function returning Status or Result<T> when `expr` failed.
#define TFLSTM_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::tflstm::Status tflstm_status_ = (expr);        \
    if (!tflstm_status_.ok()) return tflstm_status_; \
  } while (0)

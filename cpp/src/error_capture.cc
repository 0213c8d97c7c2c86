#include "error_capture.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "tensorflow/lite/logger.h"

namespace tflstm::internal {

int ErrorCapture::Report(const char* format, va_list args) {
  const size_t capacity = buffer_.size() - 1;  // keep room for the terminating NUL
  if (length_ > 0 && length_ + 2 < capacity) {
    buffer_[length_++] = ';';
    buffer_[length_++] = ' ';
  }
  if (length_ >= capacity) return 0;
  const int n = std::vsnprintf(buffer_.data() + length_, capacity - length_ + 1, format, args);
  if (n > 0) {
    length_ += std::min(static_cast<size_t>(n), capacity - length_);
  }
  // TFLite terminates many messages with a newline; a Status message reads better without.
  while (length_ > 0 && (buffer_[length_ - 1] == '\n' || buffer_[length_ - 1] == ' ')) --length_;
  return n;
}

std::string ErrorCapture::Take() {
  std::string out(buffer_.data(), length_);
  length_ = 0;
  return out;
}

void SilenceTfliteLogging() {
  // The severity is a plain static in TFLite: set it once, not from racing threads.
  static std::once_flag once;
  std::call_once(once, [] { tflite::LoggerOptions::SetMinimumLogSeverity(tflite::TFLITE_LOG_SILENT); });
}

}  // namespace tflstm::internal

#include "error_capture.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "tensorflow/lite/logger.h"

namespace tflstm::internal {

namespace {

bool EndsWith(const char* begin, const char* end, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return static_cast<size_t>(end - begin) >= n && std::memcmp(end - n, suffix, n) == 0;
}

// Whether [begin, end) is a source location as TFLite's macros print __FILE__: a path or file
// name ending in .cc/.h/.c/.cpp, with or without ":line".
bool IsSourceLocation(const char* begin, const char* end) {
  const char* colon = end;
  while (colon > begin && std::isdigit(static_cast<unsigned char>(colon[-1]))) --colon;
  if (colon > begin && colon < end && colon[-1] == ':') end = colon - 1;
  for (const char* ext : {".cc", ".h", ".c", ".cpp"}) {
    if (EndsWith(begin, end, ext) && static_cast<size_t>(end - begin) > std::strlen(ext)) return true;
  }
  return false;
}

}  // namespace

size_t StripSourceLocations(char* text, size_t length) {
  size_t out = 0;
  for (size_t i = 0; i < length;) {
    size_t j = i;
    while (j < length && text[j] != ' ') ++j;  // one word: [i, j)
    if (j > i && IsSourceLocation(text + i, text + j)) {
      i = j < length ? j + 1 : j;  // the word and the space after it
      continue;
    }
    std::memmove(text + out, text + i, j - i);
    out += j - i;
    if (j < length) text[out++] = ' ';
    i = j + 1;
  }
  return out;
}

int ErrorCapture::Report(const char* format, va_list args) {
  const size_t capacity = buffer_.size() - 1;  // keep room for the terminating NUL
  if (length_ > 0 && length_ + 2 < capacity) {
    buffer_[length_++] = ';';
    buffer_[length_++] = ' ';
  }
  if (length_ >= capacity) return 0;
  const int n = std::vsnprintf(buffer_.data() + length_, capacity - length_ + 1, format, args);
  if (n > 0) {
    // TFLite's checks start with the kernel's source file and line (__FILE__, a path of the
    // machine that built TFLite); the message names the model's op and tensors instead.
    const size_t added = std::min(static_cast<size_t>(n), capacity - length_);
    length_ += StripSourceLocations(buffer_.data() + length_, added);
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

// Collects what TFLite reports into a fixed buffer instead of printing it, so that a
// failure becomes part of a Status message. Reporting never allocates.
#pragma once

#include <array>
#include <cstdarg>
#include <string>

#include "tensorflow/lite/core/api/error_reporter.h"

namespace tflstm::internal {

class ErrorCapture final : public tflite::ErrorReporter {
 public:
  int Report(const char* format, va_list args) override;
  using tflite::ErrorReporter::Report;

  bool empty() const { return length_ == 0; }
  // The reports so far, joined by "; ", and clears them.
  std::string Take();
  void Clear() { length_ = 0; }

 private:
  std::array<char, 4096> buffer_{};
  size_t length_ = 0;
};

// Removes the source locations (".../kernels/add.cc:123", "file.h") that TFLite's macros put
// in its messages, word by word, in place; returns the new length.
size_t StripSourceLocations(char* text, size_t length);

// Silences TFLite's own logger (it writes to stderr); errors reach us through ErrorCapture.
void SilenceTfliteLogging();

}  // namespace tflstm::internal

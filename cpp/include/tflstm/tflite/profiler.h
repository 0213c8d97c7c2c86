// Attaches a TFLite profiler to a Runner (e.g. a benchmark's op profile).
#pragma once

#include "tensorflow/lite/core/api/profiler.h"
#include "tflstm/runner.h"

namespace tflstm {

// `profiler` receives the runner's per-op events from now on; nullptr stops them. The profiler
// must outlive the runner or be unset first; it stays set across shape changes.
void SetProfiler(Runner& runner, tflite::Profiler* profiler);

}  // namespace tflstm

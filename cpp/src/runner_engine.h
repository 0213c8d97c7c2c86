// What the parts of tflstm::Runner (runner*.cc) share: the Engine, one interpreter with its
// arena, and how messages write a shape.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "empty_tensors.h"
#include "tensorflow/lite/core/api/profiler.h"
#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/interpreter.h"
#include "tflstm/arena.h"
#include "tflstm/runner.h"

namespace tflstm {

namespace internal {

// "[1, 4]"
std::string ShapeString(const int* dims, size_t rank);
std::string ShapeString(const std::vector<int>& dims);

}  // namespace internal

// One interpreter built for one set of input shapes, and the arena that holds its inputs and
// outputs. Shape changes build a new Engine, so a failure leaves the old one working.
struct Runner::Engine {
  // A resource variable and its value after initialisation, which every reset restores.
  struct Resource {
    int id = 0;
    std::string name;  // the variable's shared name
    std::vector<char> initial;
    std::unique_ptr<TfLiteIntArray, void (*)(TfLiteIntArray*)> dims{nullptr, TfLiteIntArrayFree};
    TfLiteType type = kTfLiteNoType;
    TfLiteQuantizationParams params{};
  };
  std::unique_ptr<Arena> arena;        // declared first: destroyed after the interpreter
  internal::EmptyTensorStorage empty;  // what the interpreter's tensors without elements point at
  std::unique_ptr<tflite::Interpreter> interpreter;
  tflite::Subgraph* subgraph = nullptr;
  std::vector<int> inputs;  // tensor indices, in input_info() order
  std::vector<int> outputs;
  size_t arena_required = 0;
  size_t budget = 0;  // the limit its plan was (or would be) checked against
  std::vector<Resource> resources;
};

// The TFLite profiler that receives the engine's op events, kept across rebuilds.
struct Runner::Profiling {
  tflite::Profiler* profiler = nullptr;
};

}  // namespace tflstm

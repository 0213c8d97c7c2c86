// Tensors without elements. TFLite gives them no memory (a null pointer) and its kernels still
// pass that pointer on: memcpy from or to null in CONCATENATION, SPLIT_V, RESHAPE (undefined,
// reported by UBSan), element 0 of null loaded by a softmax over an empty axis. A runner points
// them at a block of its own instead, and runs an op on them where TFLite 2.14.1's kernel
// computes nothing from them (it copies or maps element by element, by each tensor's own shape).
#pragma once

#include <array>
#include <string>

#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/interpreter.h"
#include "tflstm/status.h"

namespace tflstm::internal {

class EmptyTensorStorage {
 public:
  // Points every tensor of the interpreter's subgraphs that TFLite plans in an arena, holds no
  // bytes and has no memory at this block. Call it after each AllocateTensors: TFLite leaves such
  // a pointer as it is when it plans again (only persistent tensors get null again).
  void Give(tflite::Interpreter& interpreter);

 private:
  // Zeros, larger than any one element or vector load a kernel makes of an empty tensor.
  alignas(64) std::array<char, 256> block_{};
};

// Refuses an operator of the prepared subgraph that has an operand of no elements where TFLite
// 2.14.1's kernel does not run on it safely (a reduction over an empty axis divides by its size;
// a matrix product or LSTM reads its weights by the other operands' shapes). `model` names the
// model in the message.
Status CheckEmptyOperands(const tflite::Subgraph& sg, const std::string& model);

}  // namespace tflstm::internal

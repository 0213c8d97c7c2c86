// A tflstm kernel that hands a node to TFLite's kernel lends it that kernel's own data: TFLite's
// kernel finds it in node->user_data, where tflstm's data lives otherwise.
#pragma once

#include "tensorflow/lite/core/c/common.h"

namespace tflstm::ops {

class LendUserData {
 public:
  LendUserData(TfLiteNode* node, void* data) : node_(node), saved_(node->user_data) { node_->user_data = data; }
  ~LendUserData() { node_->user_data = saved_; }
  LendUserData(const LendUserData&) = delete;
  LendUserData& operator=(const LendUserData&) = delete;

 private:
  TfLiteNode* node_;
  void* saved_;
};

}  // namespace tflstm::ops

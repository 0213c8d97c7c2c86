#include "checked_read_variable.h"

#include <mutex>
#include <string>

#include "tensorflow/lite/core/subgraph.h"
#include "tensorflow/lite/experimental/resource/resource_variable.h"
#include "tensorflow/lite/kernels/kernel_util.h"

namespace tflstm::internal {
namespace {

// TFLite's own registration, copied when the first op set is completed: every op set finds the
// same one (its Register_ function's), and the resolver that hands it over may go before the
// interpreters built with it.
TfLiteRegistration g_base{};
std::once_flag g_copied;

std::string ShapeText(const TfLiteIntArray* dims) {
  std::string s = "[";
  for (int i = 0; dims != nullptr && i < dims->size; ++i) s += (i ? ", " : "") + std::to_string(dims->data[i]);
  return s + "]";
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  const TfLiteTensor* id = tflite::GetInput(context, node, 0);
  TfLiteTensor* output = tflite::GetOutput(context, node, 0);
  TF_LITE_ENSURE(context, id != nullptr && output != nullptr && id->data.raw != nullptr);
  // TFLite resizes a dynamic output to the variable; any other one is copied into as declared.
  if (!tflite::IsDynamicTensor(output)) {
    auto* subgraph = static_cast<tflite::Subgraph*>(context->impl_);
    auto* variable = tflite::resource::GetResourceVariable(&subgraph->resources(), id->data.i32[0]);
    const TfLiteTensor* value = variable ? variable->GetTensor() : nullptr;
    if (value != nullptr && value->bytes != output->bytes) {
      TF_LITE_KERNEL_LOG(context,
                         "READ_VARIABLE: the variable holds %s (%zu bytes) but output '%s' is declared %s (%zu bytes)",
                         ShapeText(value->dims).c_str(), value->bytes, output->name ? output->name : "",
                         ShapeText(output->dims).c_str(), output->bytes);
      return kTfLiteError;
    }
  }
  return g_base.invoke(context, node);
}

}  // namespace

const TfLiteRegistration* CheckedReadVariable(const TfLiteRegistration& base) {
  std::call_once(g_copied, [&base] { g_base = base; });
  static const TfLiteRegistration registration = [] {
    TfLiteRegistration r = g_base;
    r.invoke = Eval;
    return r;
  }();
  return &registration;
}

}  // namespace tflstm::internal

#include "tflstm/dtype.h"

#include "tflstm/tflite/dtype.h"

namespace tflstm {

namespace {

// One row per type: the one place the two enums and the names meet.
struct DTypeRow {
  DType dtype;
  TfLiteType tflite;
  const char* name;
  size_t size;  // bytes per element, 0 without a fixed size
};

constexpr DTypeRow kRows[] = {
    {DType::kNone, kTfLiteNoType, "NOTYPE", 0},
    {DType::kFloat32, kTfLiteFloat32, "float32", 4},
    {DType::kFloat16, kTfLiteFloat16, "float16", 2},
    {DType::kFloat64, kTfLiteFloat64, "float64", 8},
    {DType::kInt8, kTfLiteInt8, "int8", 1},
    {DType::kInt16, kTfLiteInt16, "int16", 2},
    {DType::kInt32, kTfLiteInt32, "int32", 4},
    {DType::kInt64, kTfLiteInt64, "int64", 8},
    {DType::kUInt8, kTfLiteUInt8, "uint8", 1},
    {DType::kUInt16, kTfLiteUInt16, "uint16", 2},
    {DType::kUInt32, kTfLiteUInt32, "uint32", 4},
    {DType::kUInt64, kTfLiteUInt64, "uint64", 8},
    {DType::kBool, kTfLiteBool, "bool", 1},
    {DType::kComplex64, kTfLiteComplex64, "complex64", 8},
    {DType::kComplex128, kTfLiteComplex128, "complex128", 16},
    {DType::kString, kTfLiteString, "string", 0},
    {DType::kResource, kTfLiteResource, "RESOURCE", 0},
    {DType::kVariant, kTfLiteVariant, "VARIANT", 0},
    {DType::kInt4, kTfLiteInt4, "INT4", 0},
};

// Rows are in DType order, so a DType indexes its row.
constexpr bool InDTypeOrder() {
  for (size_t i = 0; i < sizeof kRows / sizeof kRows[0]; ++i) {
    if (static_cast<size_t>(kRows[i].dtype) != i) return false;
  }
  return static_cast<size_t>(DType::kOther) == sizeof kRows / sizeof kRows[0];
}
static_assert(InDTypeOrder(), "kRows lists every DType but kOther, in order");

const DTypeRow* Row(DType type) {
  const auto i = static_cast<size_t>(type);
  return i < sizeof kRows / sizeof kRows[0] ? &kRows[i] : nullptr;
}

}  // namespace

const char* DTypeName(DType type) {
  const DTypeRow* row = Row(type);
  return row != nullptr ? row->name : "unknown";
}

size_t DTypeSize(DType type) {
  const DTypeRow* row = Row(type);
  return row != nullptr ? row->size : 0;
}

bool DTypeIsQuantized(DType type) { return type == DType::kInt8 || type == DType::kUInt8 || type == DType::kInt16; }

DType FromTfLite(TfLiteType type) {
  for (const DTypeRow& row : kRows) {
    if (row.tflite == type) return row.dtype;
  }
  return DType::kOther;
}

TfLiteType ToTfLite(DType type) {
  const DTypeRow* row = Row(type);
  return row != nullptr ? row->tflite : kTfLiteNoType;
}

}  // namespace tflstm

// tflstm's DType against TFLite's TfLiteType: every type TFLite has maps to its own DType and
// back, with TFLite's name and element size.
#include "tflstm/dtype.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

#include "tensorflow/lite/core/c/common.h"
#include "tensorflow/lite/util.h"
#include "tflstm/tflite/dtype.h"

namespace tflstm {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

constexpr int kLastTfLiteType = kTfLiteInt4;  // TFLite 2.14's last one

TEST(DType, EveryTfLiteTypeHasItsOwn) {
  std::set<DType> seen;
  for (int code = 0; code <= kLastTfLiteType; ++code) {
    const auto t = static_cast<TfLiteType>(code);
    const DType d = FromTfLite(t);
    EXPECT_NE(d, DType::kOther) << TfLiteTypeGetName(t);
    EXPECT_TRUE(seen.insert(d).second) << TfLiteTypeGetName(t) << " shares its DType";
    EXPECT_EQ(ToTfLite(d), t) << TfLiteTypeGetName(t);
    EXPECT_EQ(Lower(DTypeName(d)), Lower(TfLiteTypeGetName(t)));
  }
}

TEST(DType, SizesAreTfLitesForTypesWithAFixedSize) {
  for (int code = 0; code <= kLastTfLiteType; ++code) {
    const auto t = static_cast<TfLiteType>(code);
    if (t == kTfLiteInt4) continue;  // TFLite says 1 byte, but packs two to a byte: tflstm says 0
    size_t bytes = 0;
    const bool sized = tflite::GetSizeOfType(nullptr, t, &bytes) == kTfLiteOk;
    EXPECT_EQ(DTypeSize(FromTfLite(t)), sized ? bytes : 0u) << TfLiteTypeGetName(t);
  }
}

TEST(DType, AnUnknownCodeIsOtherNotAnother) {
  const DType d = FromTfLite(static_cast<TfLiteType>(kLastTfLiteType + 1));
  EXPECT_EQ(d, DType::kOther);
  EXPECT_STREQ(DTypeName(d), "unknown");
  EXPECT_EQ(DTypeSize(d), 0u);
  EXPECT_EQ(ToTfLite(d), kTfLiteNoType);
}

TEST(DType, QuantizedAreTheScaledIntegers) {
  for (int code = 0; code <= static_cast<int>(DType::kOther); ++code) {
    const auto d = static_cast<DType>(code);
    EXPECT_EQ(DTypeIsQuantized(d), d == DType::kInt8 || d == DType::kUInt8 || d == DType::kInt16) << DTypeName(d);
  }
}

}  // namespace
}  // namespace tflstm

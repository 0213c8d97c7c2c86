// What the fuzzers (tests/fuzz) found, kept as tests: each input that crashed, hung or went
// past a budget now gets its typed result. Small reproducers live in tests/fuzz/reproducers;
// the others are TFLite's test models or built here. The `fuzz` preset runs these under
// ASan + UBSan, where the original failures were reported.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>

#include "test_models.h"
#include "tflstm/runner.h"

namespace tflstm {
namespace {

std::vector<char> Reproducer(const std::string& name) {
  std::ifstream f(std::string(TFLSTM_REPRODUCERS) + "/" + name, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The reproducer as a model that loads; null (and a failure) when it does not.
std::shared_ptr<const Model> LoadReproducer(const std::string& name) {
  const std::vector<char> bytes = Reproducer(name);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  if (bytes.empty() || !model.ok()) {
    ADD_FAILURE() << name << ": " << (bytes.empty() ? "missing" : model.status().ToString());
    return nullptr;
  }
  return model.value();
}

// model_fuzzer's inputs: the model's own bytes, repeated.
void FillInputsAsTheFuzzerDoes(Runner& r, const std::vector<char>& bytes) {
  for (size_t i = 0; i < r.input_count(); ++i) {
    const TensorView in = r.input(i);
    for (size_t k = 0; k < in.bytes; ++k) static_cast<char*>(in.data)[k] = bytes[k % bytes.size()];
  }
}

// The reproducer is refused as an invalid model whose message contains `expected`.
void ExpectInvalidModel(const std::string& reproducer, const std::string& expected) {
  const std::vector<char> bytes = Reproducer(reproducer);
  ASSERT_FALSE(bytes.empty()) << reproducer;
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(model.status().message().find(expected), std::string::npos) << model.status().message();
}

// The reproducer is a valid model that no runner is made for: once prepared, its shapes leave
// an op with data that TFLite cannot run safely, and the refusal says which.
void ExpectRefusedWhenPrepared(const std::string& reproducer, const std::string& expected) {
  const auto model = LoadReproducer(reproducer);
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(model);
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(runner.status().message().find(expected), std::string::npos) << runner.status().message();
}

// The reproducer loads, and an op's Prepare (TFLite's, or tflstm's LSTM check in it) refuses it.
// The message names the model's op and tensors, not TFLite's source (its checks print __FILE__,
// a path of the machine that built it, and a line).
void ExpectRefusedByTflitePrepare(const std::string& reproducer, const std::string& expected) {
  const auto model = LoadReproducer(reproducer);
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(model);
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().code(), ErrorCode::kRuntimeError);
  const std::string& message = runner.status().message();
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  for (const char* build_path : {".cc:", ".h:", ".cc ", "tensorflow/lite/", "/.cache/"}) {
    EXPECT_EQ(message.find(build_path), std::string::npos) << build_path << " in: " << message;
  }
}

// The reproducer's runner is made and runs: the model is valid, and what once crashed now runs
// safely. Its inputs are the model's own bytes, as the fuzzer gave them.
std::unique_ptr<Runner> ExpectRuns(const std::string& reproducer) {
  const std::vector<char> bytes = Reproducer(reproducer);
  const auto model = LoadReproducer(reproducer);
  if (model == nullptr) return nullptr;
  auto runner = Runner::Create(model);
  if (!runner.ok()) {
    ADD_FAILURE() << reproducer << ": " << runner.status().ToString();
    return nullptr;
  }
  FillInputsAsTheFuzzerDoes(*runner.value(), bytes);
  const Status s = runner.value()->Invoke();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::move(runner).value();
}

// model_fuzzer: UBSan, memcpy to a null pointer from OutputToFloat for an output of no elements
// (TFLite's test_min_runtime.bin: an ADD of an empty input). An element-wise op on empty data
// gives empty data, as in TFLite: the runner gives tensors without elements storage of their
// own (TFLite leaves them null) and runs it; the empty output converts to no floats.
TEST(FuzzRegression, ElementWiseOpOnEmptyDataRuns) {
  auto model = Model::FromFile(testing::TestData("test_min_runtime.bin"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto runner = Runner::Create(model.value());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  Runner& r = *runner.value();
  ASSERT_TRUE(r.Invoke().ok());
  ASSERT_EQ(r.output_count(), 1u);
  EXPECT_EQ(r.output(0).bytes, 0u);
  std::vector<float> none;
  EXPECT_TRUE(r.OutputToFloat(0, none.data(), none.size()).ok());
}

// model_fuzzer (sanitized TFLite): UBSan, a load of address 0 in Eigen's max under SOFTMAX,
// whose input the mutated model made an int8 LSTM's scratch tensor (shape [0], no memory).
TEST(FuzzRegression, OpReadingAnotherOpsScratchTensorIsRefused) {
  ExpectRefusedWhenPrepared("softmax_of_an_lstm_intermediate.bin",
                            "operator 8 (SOFTMAX) has input 0 'input_to_forget_intermediate2' of shape [0]");
}

// model_fuzzer (sanitized TFLite): UBSan, memcpy from null in CONCATENATION's Eval, whose
// inputs have no elements (so no memory). The same model has a graph input that RESHAPE writes,
// which the model check now refuses first (the empty tensor's rule: the test below).
TEST(FuzzRegression, ConcatenationOfEmptyTensorsIsRefused) {
  ExpectInvalidModel("concatenation_of_empty_tensors.bin",
                     "input 0 (tensor 2 'tfl.reshape') is an output of operator 0; an input is written by the caller");
}

// model_fuzzer (sanitized TFLite): UBSan, memcpy from null in RESHAPE's Eval, reshaping an empty
// tensor ([0]) as the shape a variable gives. RESHAPE copies by its input's size (0 bytes): with
// storage for empty tensors it runs, and gives the shape TFLite 2.14.1's kernel gives, [1] (its
// element counts leave zero sizes out).
TEST(FuzzRegression, ReshapeOfAnEmptyTensorRuns) {
  const auto runner = ExpectRuns("reshape_of_an_empty_tensor.bin");
  ASSERT_NE(runner, nullptr);
  ASSERT_EQ(runner->output_count(), 1u);
  const int one[] = {1};
  EXPECT_TRUE(runner->output(0).HasShape(one, 1));
}

// model_fuzzer: ASan SEGV in TFLite's PAD Prepare, which dereferences its output without a
// check: the mutated model gave it none (-1). Absent operands are refused where the op needs them.
TEST(FuzzRegression, AbsentRequiredOperandIsAnInvalidModel) {
  ExpectInvalidModel("pad_absent_output.bin", "operator 0 (PAD): output 0 is absent (-1)");
}

// model_fuzzer: abort in TFLite's ADD Prepare (QuantizeMultiplierSmallerThanOneExp on a 0
// multiplier): TFLite's add_quantized.bin with its quantization parameters removed, so that
// the uint8 kernel divides by a scale of 0. Quantized data needs its scale and zero point.
TEST(FuzzRegression, QuantizedDataWithoutScaleIsAnInvalidModel) {
  ExpectInvalidModel("add_uint8_unquantized.bin", "(ADD): input 0 (tensor 1 'input') is UINT8 without quantization");
}

// model_fuzzer: ASan heap-buffer-overflow (write) in TFLite's RESHAPE Eval, which copies the
// input's 4 bytes (int32) into an output declared float16 (2 bytes).
TEST(FuzzRegression, ReshapeThatChangesTheTypeIsAnInvalidModel) {
  ExpectInvalidModel("reshape_int32_to_float16.bin",
                     "(RESHAPE): output 0 (tensor 2 'tfl.reshape') is FLOAT16 but input 0 is INT32");
}

// model_fuzzer: abort in TFLite's ADD Prepare (a rescaling multiplier of 1 or more): an
// intermediate's scale set to 1e30 feeds a second ADD whose output scale is 0.0039.
TEST(FuzzRegression, QuantizedAddWithUnrepresentableScalesIsAnInvalidModel) {
  ExpectInvalidModel("add_scale_ratio.bin", "operator 1 (ADD): its output scale 0.003922 is too small");
}

// model_fuzzer (sanitized TFLite, 2026-12-06): abort in TFLite's ADD Prepare. The output is
// declared COMPLEX64 with scale -0: ADD makes it its inputs' INT16 and divides by that scale (an
// INT8 one was found too). From that file, an output scale of 1e35 aborts the same way: TFLite
// multiplies it by 2^15 in float, which overflows, and the rescaling multiplier is 0.
TEST(FuzzRegression, QuantizedAddOutputWithANonPositiveOrOverflowingScaleIsAnInvalidModel) {
  ExpectInvalidModel("add_output_of_scale_minus_zero.bin",
                     "operator 0 (ADD): output 0 (tensor 0) is INT16 data here with quantization scale -0; it must be "
                     "a positive number");
  ExpectInvalidModel("add_output_scale_overflowing_float.bin",
                     "operator 0 (ADD): its output scale 1e+35 is too large: 2^15 times it overflows");
}

// model_fuzzer (sanitized TFLite, 2026-12-06, after the ADD fix): UBSan null load in
// REVERSE_V2's Eval, which reads its first axis from an axis tensor of shape [0] (no storage;
// SIGSEGV outside the sanitizers).
TEST(FuzzRegression, ReverseWithNoAxisIsAnInvalidModel) {
  ExpectInvalidModel("reverse_with_no_axis.bin",
                     "operator 0 (REVERSE_V2): input 1 (tensor 1 'tfl.pseudo_const') has shape [0]; the kernel reads "
                     "an axis from it");
}

// model_fuzzer (sanitized TFLite, 2026-12-06, after the integer kernel's AVX-512 changes): ASan
// heap-buffer-overflow in RESHAPE's Eval, copying a string graph input of 765 empty strings into
// an output that the model gives 47 bytes of data: TFLite maps such a tensor to the model's
// bytes, so the copy wrote past them. An operator writes no constant.
TEST(FuzzRegression, OperatorWritingAConstantIsAnInvalidModel) {
  ExpectInvalidModel("reshape_writing_a_constant.bin",
                     "operator 0 writes tensor 0 'Identity', a constant (buffer 3); an operator writes no constant");
}

// The same run: LeakSanitizer, 16 bytes of ADD's output shape. An int16 ADD whose options keep
// pot_scale_int16 and whose scales TFLite takes for powers of two (1.999939 counts as 2^1) runs
// the power-of-two path, which refuses an input scale above the output's after allocating.
TEST(FuzzRegression, Int16AddWithAPowerOfTwoInputScaleAboveTheOutputsIsAnInvalidModel) {
  ExpectInvalidModel("add_int16_pot_input_above_the_output_scale.bin",
                     "operator 1 (ADD): int16 with power-of-two scales 2^1, 2^-1 -> 2^-1; the kernel needs one input "
                     "at the output's scale and the other at or below it");
}

// model_fuzzer (sanitized TFLite): LeakSanitizer, 576 bytes from a resize in Prepare. Two
// DEQUANTIZEs wrote one tensor: the first gave it a heap buffer, the second (of a constant) made
// it persistent and dropped the pointer. A tensor has one writer. The same rule refuses a
// second report: ASan heap-buffer-overflow in DEQUANTIZE's Eval, reading a float16 input of 16
// values for a tensor the other DEQUANTIZE had sized larger.
TEST(FuzzRegression, TensorWithTwoWritersIsAnInvalidModel) {
  for (const char* file : {"two_writers_of_one_tensor.bin", "dequantize_of_a_tensor_two_ops_write.bin"}) {
    ExpectInvalidModel(
        file, "tensor 5 'Conv2D_dequantize' is an output of operator 0 and of operator 1; a tensor has one writer");
  }
}

// model_fuzzer (sanitized TFLite): UBSan, memcpy from null in RESHAPE's Eval. Its input was a
// string tensor that is no graph input and that no op writes, so TFLite gave it no storage.
// (A RELU of its own output, which ran into libFuzzer's timeout, is refused by the same rule.)
TEST(FuzzRegression, TensorThatNothingWritesIsAnInvalidModel) {
  ExpectInvalidModel("reshape_of_a_tensor_nothing_writes.bin",
                     "operator 0 reads tensor 2 'input_52' as its input 0, which is no input, constant or variable, "
                     "and which no earlier operator writes");
}

// model_fuzzer (sanitized TFLite): UBSan, a shift by -100 in gemmlowp's RoundingDivideByPOT under
// LESS: the quantized comparisons rescale by each input's scale as a multiplier below one.
TEST(FuzzRegression, QuantizedComparisonWithAScaleAboveOneIsAnInvalidModel) {
  ExpectInvalidModel("less_with_a_scale_above_one.bin",
                     "(LESS): input 0 (tensor 0 'a') has scale 1e+30; the quantized comparison needs a scale in "
                     "[2^-32, 1)");
}

// model_fuzzer (sanitized TFLite): ASan heap-buffer-overflow in PerChannelQuantize, reading
// scales past the three of an output declared [3, 2] that QUANTIZE's Prepare resized to [9].
TEST(FuzzRegression, PerChannelQuantizeAtAnotherShapeIsAnInvalidModel) {
  ExpectInvalidModel("quantize_per_channel_at_another_shape.bin",
                     "output 0 (tensor 2) is quantized per channel at shape [3, 2], but QUANTIZE gives it its input's "
                     "shape [9]");
}

// model_fuzzer: a graph input that is a constant. Its view pointed into the model's bytes, and
// tflstm_benchmark, filling it, crashed on the read-only mapped file (SIGSEGV).
TEST(FuzzRegression, ConstantGraphInputIsAnInvalidModel) {
  ExpectInvalidModel("constant_graph_input.bin",
                     "input 0 (tensor 2 'Conv2D1') is a constant (buffer 3); an input is written by the caller");
}

// model_fuzzer (sanitized TFLite): ASan heap-buffer-overflow in an Eigen assignment of ADD's
// Eval, writing its int64 result of [255, 8, 3] into a variable tensor declared float32
// [255, 8]: variables are allocated once, at their declared size, before Prepare resizes them.
TEST(FuzzRegression, OpWritingAVariableIsAnInvalidModel) {
  ExpectInvalidModel("add_into_a_variable.bin",
                     "is a variable tensor; only a QUANTIZE or DEQUANTIZE of its own shape may write one");
}

// model_fuzzer (sanitized TFLite): ASan heap-buffer-overflow in MEAN's copy (ReduceIsCopy) of
// float32 data into an output declared bool: the reductions compute in their input's type.
TEST(FuzzRegression, MeanThatChangesTheTypeIsAnInvalidModel) {
  ExpectInvalidModel("mean_float_to_bool.bin",
                     "(MEAN): output 0 (tensor 2 'tfl.reshape') is BOOL but input 0 is FLOAT32");
}

// model_fuzzer (sanitized TFLite): abort in QuantizeMultiplierSmallerThanOneExp from LESS's
// Eval on int8 inputs without quantization parameters (a scale of 0).
TEST(FuzzRegression, QuantizedComparisonWithoutScaleIsAnInvalidModel) {
  ExpectInvalidModel("less_int8_unquantized.bin", "(LESS): input 0 (tensor 1) is INT8 without quantization parameters");
}

// model_fuzzer (sanitized TFLite): ASan heap-buffer-overflow in MUL's Eval, which computes in
// its output's type (complex64) over bool inputs of one byte per element.
TEST(FuzzRegression, MulThatChangesTheTypeIsAnInvalidModel) {
  ExpectInvalidModel("mul_bool_to_complex64.bin", "(MUL): output 0 (tensor 2) is COMPLEX64 but input 0 is BOOL");
}

// model_fuzzer (sanitized TFLite): ASan heap-buffer-overflow in SizeOfDimension, from PAD's
// output resize reading dimension 1 of paddings of rank 1.
TEST(FuzzRegression, PadWithPaddingsOfTheWrongRankIsAnInvalidModel) {
  ExpectInvalidModel("pad_paddings_of_rank_one.bin",
                     "(PAD): input 1 (tensor 1) has shape [1]; padding each axis of input 0 needs [1, 2]");
}

// model_fuzzer (sanitized TFLite): UBSan, null pointer arithmetic and memcpy from null in the
// integer LSTM's Prepare (PrecomputeZeroPointTimesWeightWithBias), which reads weights and
// biases that the mutated int8 model gives no data. They must be constants.
TEST(FuzzRegression, Int8LstmWeightWithoutDataIsAnInvalidModel) {
  ExpectInvalidModel("int8_lstm_weight_without_data.bin",
                     "(UNIDIRECTIONAL_SEQUENCE_LSTM): input 7 (tensor 11 'arith.constant1') has no data in the model");
}

// model_fuzzer (sanitized TFLite): UBSan, a shift exponent of 100 in the builtin integer LSTM's
// MultiplyByQuantizedMultiplier: a recurrent weight's scale set to 1e30 gives an effective
// scale of 2^100. tflstm's kernel computed it without a shift; the builtin one would not.
TEST(FuzzRegression, Int8LstmWithAnUnrepresentableScaleIsAnInvalidModel) {
  ExpectInvalidModel("int8_lstm_scale_1e30.bin",
                     "the effective scale of recurrent to cell is 7.48349e+30, 2^30 or more");
}

// api_fuzzer: a resize to [2^30, 4] made TFLite allocate 16 GB before the arena budget was
// looked at (ASan: allocator out of memory). The budget now refuses it first.
TEST(FuzzRegression, InputsOverTheBudgetAreRefusedBeforeTfliteAllocates) {
  const std::vector<char> bytes = testing::AddModel({1, 4});
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok());
  RunnerOptions options;
  options.arena_bytes = size_t{1} << 20;
  auto runner = Runner::Create(model.value(), options);
  ASSERT_TRUE(runner.ok());
  const Status s = runner.value()->ResizeInputs({{1 << 30, 4}, {1 << 30, 4}});
  EXPECT_EQ(s.code(), ErrorCode::kArenaExhausted) << s.ToString();
  EXPECT_NE(s.message().find("at least 34359738368 bytes for its inputs alone"), std::string::npos) << s.message();
  EXPECT_TRUE(runner.value()->Invoke().ok());  // the runner keeps its previous shapes
}

// The same resize without a budget, at a size no process can address: refused by tflstm by name
// (the sizes are counted in 64 bits, so armhf and x86-64 say the same), not by TFLite's overflow.
TEST(FuzzRegression, InputsBeyondTheAddressSpaceAreRefusedByName) {
  std::unique_ptr<tflite::ModelT> m(tflite::GetModel(testing::AddModel({1, 4}).data())->UnPack());
  for (auto& t : m->subgraphs[0]->tensors) t->shape_signature = {-1, -1};  // both axes free
  const std::vector<char> bytes = testing::Serialize(*m);
  auto model = Model::FromBytes(bytes.data(), bytes.size());
  ASSERT_TRUE(model.ok());
  auto runner = Runner::Create(model.value());
  ASSERT_TRUE(runner.ok());
  constexpr int kMaxInt = std::numeric_limits<int>::max();
  const Status s = runner.value()->ResizeInputs({{kMaxInt, kMaxInt}, {1, 4}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("at [2147483647, 2147483647] needs 18446744056529682436 bytes"), std::string::npos)
      << s.message();
  EXPECT_TRUE(runner.value()->Invoke().ok());
}

// model_fuzzer (sanitized TFLite): UBSan, memcpy from null in the finite-input check. The graph
// input is also RESHAPE's output, which TFLite left without storage (the check now skips such a
// tensor); RESHAPE's own input is a tensor that nothing writes, which the model check refuses.
TEST(FuzzRegression, InputWrittenByAnOpThatReadsNothingIsAnInvalidModel) {
  ExpectInvalidModel("input_written_by_an_op.bin",
                     "operator 0 reads tensor 0 'arg1' as its input 0, which is no input, constant or variable");
}

// model_fuzzer (sanitized TFLite): UBSan, memcpy from null in RESHAPE's Eval, reshaping a string
// graph input that nothing had set (TFLite leaves it without storage). tflstm cannot set strings,
// so each string input holds empty strings of its shape, and its view offers no storage to write.
TEST(FuzzRegression, UnsetStringInputHoldsEmptyStrings) {
  const auto model = LoadReproducer("reshape_of_an_unset_string_input.bin");
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(model);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  Runner& r = *runner.value();
  size_t strings = 0;
  for (size_t i = 0; i < r.input_count(); ++i) {
    const TensorView in = r.input(i);
    if (in.dtype != DType::kString) continue;
    ++strings;
    EXPECT_EQ(in.data, nullptr) << in.name;
    EXPECT_EQ(in.bytes, 0u) << in.name;
  }
  ASSERT_GT(strings, 0u);
  const Status s = r.Invoke();  // before the fix: a copy from address 0
  EXPECT_TRUE(s.ok() || s.code() == ErrorCode::kRuntimeError) << s.ToString();
}

// A budget counts a string input's empty strings (4 bytes a string, plus 8) beyond what the
// inputs and outputs need: a budget one byte short of both is refused, one that holds both is not.
TEST(FuzzRegression, StringInputsCountAgainstTheBudget) {
  const auto model = LoadReproducer("reshape_of_an_unset_string_input.bin");
  ASSERT_NE(model, nullptr);
  auto unbounded = Runner::Create(model);
  ASSERT_TRUE(unbounded.ok()) << unbounded.status().ToString();
  size_t strings = 0;
  for (size_t i = 0; i < unbounded.value()->input_count(); ++i) {
    const TensorView in = unbounded.value()->input(i);
    if (in.dtype != DType::kString) continue;
    size_t count = 1;
    for (int k = 0; k < in.rank; ++k) count *= static_cast<size_t>(in.shape[k]);
    strings += sizeof(int32_t) * (count + 2);
  }
  ASSERT_GT(strings, 0u);
  const size_t needed = unbounded.value()->memory().arena_required + strings;

  RunnerOptions options;
  options.arena_bytes = needed - 1;
  auto refused = Runner::Create(model, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kArenaExhausted) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("empty strings"), std::string::npos) << refused.status().message();
  options.arena_bytes = unbounded.value()->memory().total();  // the budget bounds all the runner holds
  auto fits = Runner::Create(model, options);
  EXPECT_TRUE(fits.ok()) << fits.status().ToString();
}

// model_fuzzer (sanitized TFLite): an abort in SUB's Prepare. Its output had two scales, and
// per-tensor kernels read TFLite's legacy scale, which is then 0 (an infinite multiplier).
TEST(FuzzRegression, PerChannelOperandOfAPerTensorKernelIsAnInvalidModel) {
  ExpectInvalidModel("sub_with_a_per_channel_output.bin",
                     "(SUB): output 0 (tensor 2) has 2 quantization scales; the kernel takes one");
}

// model_fuzzer: UBSan in the model check itself, reading the scale of a comparison's int32 input
// (which has none) next to an int8 one. The check passes it on; TFLite's Prepare refuses it.
TEST(FuzzRegression, ComparisonOfInt8AndInt32IsRefusedWhenPrepared) {
  ExpectRefusedByTflitePrepare("comparison_of_int8_and_int32.bin", "input1->type != input2->type (INT8 != INT32)");
}

// model_fuzzer: UBSan, signed overflow in tflstm's integer LSTM, folding the zero point into a
// bias of 2^31 - 1 (TFLite's int32 sum wraps). tflstm now wraps the same way, defined: the
// outputs are TFLite's, bit for bit.
TEST(FuzzRegression, Int8LstmBiasAtTheInt32LimitWrapsAsTflite) {
  const std::vector<char> bytes = Reproducer("int8_lstm_bias_at_the_int32_limit.bin");
  const auto model = LoadReproducer("int8_lstm_bias_at_the_int32_limit.bin");
  ASSERT_NE(model, nullptr);
  std::vector<std::vector<int8_t>> outputs[2];
  for (const LstmKernel kernel : {LstmKernel::kTflstm, LstmKernel::kTflite}) {
    RunnerOptions options;
    options.lstm_kernel = kernel;
    auto runner = Runner::Create(model, options);
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    Runner& r = *runner.value();
    FillInputsAsTheFuzzerDoes(r, bytes);
    ASSERT_TRUE(r.Invoke().ok());
    for (size_t i = 0; i < r.output_count(); ++i) {
      const TensorView out = r.output(i);
      const auto* p = static_cast<const int8_t*>(out.data);
      outputs[kernel == LstmKernel::kTflite].emplace_back(p, p + out.bytes);
    }
  }
  EXPECT_EQ(outputs[0], outputs[1]);
}

// model_fuzzer: a mutated WHILE whose condition never turns false ran for ever (a timeout).
// A model may legitimately loop; Cancel() from another thread stops it.
TEST(FuzzRegression, ModelThatLoopsForEverIsCancelled) {
  const std::vector<char> bytes = Reproducer("while_forever.bin");
  const auto model = LoadReproducer("while_forever.bin");
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(model);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  Runner& r = *runner.value();
  // The fuzzer's inputs: the model's own bytes, repeated (they set the loop's bound).
  FillInputsAsTheFuzzerDoes(r, bytes);
  std::thread canceller([&r] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    r.Cancel();
  });
  const Status s = r.Invoke();
  canceller.join();
  EXPECT_EQ(s.code(), ErrorCode::kCancelled) << s.ToString();
}

// model_fuzzer (sanitized TFLite): LeakSanitizer, 8 bytes of dims from SUB's Prepare, whose
// output is also a graph input (listed twice among seven inputs): an input has one writer, the
// caller.
TEST(FuzzRegression, GraphInputThatAnOpWritesIsAnInvalidModel) {
  ExpectInvalidModel("sub_writing_a_graph_input.bin",
                     "input 2 (tensor 2) is an output of operator 0; an input is written by the caller");
}

// model_fuzzer (sanitized TFLite): UBSan, a shift by -1 in gemmlowp's RoundingDivideByPOT from
// TFLite's integer LSTM step, which divides i * g by 2^(30 + e) for a cell state scale of 2^e
// (here 2^-31: TFLite's kernel ran it, as tflstm's covers 2^-20..2^1 only). The LSTM's check
// refuses it when the node is prepared, as every broken contract of the op (a TFLite error).
TEST(FuzzRegression, Int8LstmWithACellScaleBelow2ToTheMinus30IsRefused) {
  ExpectRefusedByTflitePrepare("int8_lstm_cell_scale_2_to_the_minus_31.bin",
                               "the cell state's scale is 2^-31; TFLite's integer LSTM computes tanh of the cell for "
                               "scales 2^-15 to 2^-9 only");
}

// issue 28 (a mutated model, 1 in 240,000, crashed inside TFLite): READ_VARIABLE copies as many
// bytes as its output declares from the variable; declared [1, 64] against a variable of [1, 4]
// it read past the variable (memcpy, then into a CONCATENATION). The reproducer edits a stateful
// model written by TensorFlow 2.21 (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE).
TEST(FuzzRegression, ReadVariableLargerThanItsVariableIsAnInvalidModel) {
  ExpectInvalidModel("read_variable_larger_than_its_variable.bin",
                     "operator 3 (ASSIGN_VARIABLE)'s value (tensor 0 'serving_default_x:0') is FLOAT32 [1, 4] but "
                     "subgraph 0: operator 2 (READ_VARIABLE)'s output (tensor 2 'Read/ReadVariableOp') is FLOAT32 "
                     "[1, 64], for the same variable");
}

// The same with the output's shape signature free ([-1, 64]), which the model check cannot
// compare: the READ_VARIABLE kernel checks the sizes when it runs.
TEST(FuzzRegression, ReadVariableOfAnotherSizeIsRefusedWhenItRuns) {
  const auto model = LoadReproducer("read_variable_of_a_varying_shape.bin");
  ASSERT_NE(model, nullptr);
  auto runner = Runner::Create(model);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  const Status s = runner.value()->Invoke();
  EXPECT_EQ(s.code(), ErrorCode::kRuntimeError);
  EXPECT_NE(s.message().find("READ_VARIABLE: the variable holds [1, 4] (16 bytes) but output 'Read/ReadVariableOp' is "
                             "declared [1, 64] (256 bytes)"),
            std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace tflstm

// Runs a Model: builds the TFLite interpreter, binds the input and output tensors to
// tflstm's arena, takes inputs, invokes and exposes outputs. After the first run, a run
// with unchanged shapes makes no heap allocation.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tflstm/arena.h"
#include "tflstm/dtype.h"
#include "tflstm/lstm_kernel.h"
#include "tflstm/model.h"
#include "tflstm/status.h"

namespace tflstm {

namespace internal {
class ErrorCapture;
struct RunnerAccess;
}  // namespace internal

struct RunnerOptions {
  int num_threads = 1;  // TFLite's thread count, 1 to Runner::MaxThreads(); -1 lets TFLite decide
  // The runner's memory budget: everything it allocates (tflstm's arena for the inputs and
  // outputs, TFLite's arenas and heap tensors, the weights and scratch tflstm's kernels pack,
  // each stream's state). Checked when the runner is made, before every shape change and for
  // each new stream, before the memory is used: a plan over it is refused (kArenaExhausted,
  // naming the plan and the budget). Unset, the limit is what the process can still use when
  // the plan is made (MemAvailable, the cgroup's limit, RLIMIT_AS).
  std::optional<size_t> arena_bytes;
  std::string signature;                         // run this signature's subgraph; empty: the primary one
  LstmKernel lstm_kernel = LstmKernel::kTflstm;  // what runs UNIDIRECTIONAL_SEQUENCE_LSTM
  // Prepare at these input shapes (one per input) instead of the model's stored ones. Unset,
  // a model with a free axis that cannot be prepared at its stored shapes (an audio front end
  // over [-1, -1] stored as [1, 1]) is prepared at the shapes of the first inputs set.
  std::vector<std::vector<int>> input_shapes;
  // Refuse float inputs holding NaN or Inf, naming the input and the first position: TFLite's
  // kernels would turn them into confident finite outputs. Costs one scan of the inputs.
  bool check_finite = true;

  // kInvalidArgument naming the first option out of range (num_threads, lstm_kernel), else Ok.
  // Runner::Create checks its options here first; what depends on the model (signature,
  // input_shapes, arena_bytes against the plan) it checks against the model.
  Status Validate() const;
};

// Memory a runner holds (or plans to), in bytes.
struct MemoryStats {
  ArenaStats arena;              // tflstm's arena (input and output tensors), sized to what they need
  size_t arena_required = 0;     // what this model's inputs and outputs need from the arena
  size_t tflite_arena = 0;       // TFLite's arena for intermediate tensors
  size_t tflite_persistent = 0;  // TFLite's persistent arena (kernel state, LSTM variables)
  size_t tflite_dynamic = 0;     // dynamic tensors allocated on the heap by TFLite
  size_t kernel_weights = 0;     // weights tflstm's kernels (LSTM, GRU, SimpleRNN, XNNPACK) packed, on
                                 // the heap; the LSTM's are shared by the runners of one model (each
                                 // runner counts them)
  size_t kernel_scratch = 0;     // scratch tflstm's LSTM kernel keeps on the heap
  size_t stream_state = 0;       // the state each live stream of the runner carries
  size_t budget = 0;             // what the plan was checked against: arena_bytes, or the memory the process
                                 // could still use when the runner was last built
  size_t total() const {
    return arena.budget + tflite_arena + tflite_persistent + tflite_dynamic + kernel_weights + kernel_scratch +
           stream_state;
  }
};

// A tensor's current type, shape and storage. `data` stays valid until the runner is
// destroyed or its input shapes change (which rebuilds its tensors).
// Which kernel runs a node of the model: its op and tflstm's kernel family for it.
struct NodeKernelName {
  std::string op;      // "CONV_2D", "UNIDIRECTIONAL_SEQUENCE_LSTM", a custom op's name ("TFLSTM_GRU")
  std::string kernel;  // "xnnpack", "avx2", "int8-neon-dotprod", "gru-avx2", ...; "tflite": TFLite's own
};

struct TensorView {
  const char* name = "";
  DType dtype = DType::kNone;
  const int* shape = nullptr;
  int rank = 0;
  void* data = nullptr;
  size_t bytes = 0;
  float scale = 0.0f;  // per-tensor quantization, 0 when not quantized
  int32_t zero_point = 0;
  // False for an output the model sizes while it runs (after a RESHAPE to a computed shape):
  // TFLite may move its memory during a run, so `data` holds only until the next run.
  bool fixed = true;

  bool HasShape(const int* dims, size_t n) const {
    return n == static_cast<size_t>(rank) && std::equal(dims, dims + n, shape);
  }
};

// One input's data for Runner::SetInputs: `bytes` of `dtype` laid out with `shape`. A null
// `data` means the input was not given.
struct InputData {
  const void* data = nullptr;
  size_t bytes = 0;
  DType dtype = DType::kNone;
  const int* shape = nullptr;
  size_t rank = 0;
};

class Runner {
 public:
  static Result<std::unique_ptr<Runner>> Create(std::shared_ptr<const Model> model, const RunnerOptions& options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& shared_model() const { return model_; }
  // Names, dtypes and model shapes of the inputs and outputs: the signature's when the runner
  // runs one, else the model's.
  const std::vector<TensorInfo>& input_info() const { return *input_info_; }
  const std::vector<TensorInfo>& output_info() const { return *output_info_; }
  size_t input_count() const { return input_info_->size(); }
  size_t output_count() const { return output_info_->size(); }

  // Position of the input or output called `name`, or kInvalidArgument listing the names.
  Result<size_t> InputIndex(std::string_view name) const;
  Result<size_t> OutputIndex(std::string_view name) const;

  // Writable in place: zero-copy input. A string input has no view of its storage (data is null):
  // tflstm cannot set strings and gives each string input its shape's worth of empty strings.
  TensorView input(size_t i) const;
  TensorView output(size_t i) const;

  // Position `i` itself when it is in range, else kInvalidArgument saying how many there are.
  Result<size_t> InputIndex(size_t i) const;
  Result<size_t> OutputIndex(size_t i) const;
  // kInvalidArgument unless `n` is the number of inputs the runner takes.
  Status CheckInputCount(size_t n) const;
  // How errors name input or output `i`: "input 0 ('x')".
  std::string InputLabel(size_t i) const;
  std::string OutputLabel(size_t i) const;

  // Sets every input at once (one entry per input, in input_info() order). Every dtype, shape
  // and size is checked first; the new shapes are then applied together, in at most one
  // rebuild, and only then is data copied, so inputs whose shapes must agree can change
  // together. With `quantize`, float32 data for an int8, uint8 or int16 input is quantized
  // with the tensor's scale and zero point, rounding half away from zero as TFLite's QUANTIZE
  // does. On an error no input has been written.
  Status SetInputs(const std::vector<InputData>& inputs, bool quantize = false);
  // Copies `bytes` of `dtype` data with the given shape into input `i`. A shape other than the
  // current one resizes the runner first (see ResizeInputs), keeping the data already set in
  // the other inputs; to change the shapes of inputs that must agree, use SetInputs.
  Status SetInput(size_t i, const void* data, size_t bytes, DType dtype, const int* shape, size_t rank);
  // For a quantized (int8, uint8, int16) input: quantizes float data as SetInputs does. A float
  // input is copied as it is.
  Status SetInputFromFloat(size_t i, const float* data, size_t count, const int* shape, size_t rank);
  // Output `i` as floats: dequantized for a quantized output, copied for a float one.
  Status OutputToFloat(size_t i, float* out, size_t count) const;

  // Runs the model with these input shapes from now on. The batch axis, the time axis of a
  // (batch, time, features) input and any axis the model leaves free (-1) may change. The
  // interpreter and the arena are rebuilt, only when a shape differs, and the inputs whose
  // shape stays keep their data; on failure (a shape the model cannot take, an arena budget
  // too small) the runner keeps its previous shapes.
  Status ResizeInputs(const std::vector<std::vector<int>>& shapes);
  size_t rebuild_count() const { return rebuilds_; }
  // What the runner would hold at these input shapes (one per input), measured on an
  // interpreter built for them and dropped again: TFLite reserves its arenas there but nothing
  // touches them. The runner itself is unchanged; `budget` says what a change to these shapes
  // would be checked against.
  Result<MemoryStats> PlanFor(const std::vector<std::vector<int>>& shapes);
  // The most num_threads a runner takes: 64, or the machine's core count when it has more.
  static int MaxThreads();
  // False until a runner whose model could not be prepared at its stored shapes gets inputs;
  // until then its tensors have no storage (input(i).data is null) and Invoke() refuses.
  bool prepared() const { return engine_ != nullptr; }
  // kInvalidArgument saying why, unless prepared().
  Status CheckPrepared() const;

  // Runs from the model's initial state (zero LSTM state; resource variables as their CALL_ONCE
  // initialisation leaves them): the same inputs always give the same outputs.
  Status Invoke();
  // Runs from the state that the previous invoke left (streams).
  Status InvokeWithState();
  // Stops an invoke in progress on another thread, between two ops; it returns kCancelled.
  void Cancel() { cancelled_.store(true); }

  // The model's state: all that TFLite keeps between invokes. First its variable tensors (a fused
  // LSTM's hidden and cell state), then its resource variables (VAR_HANDLE / ASSIGN_VARIABLE,
  // named by their shared name). A view's data is writable, to restore a snapshot.
  size_t state_count() const;
  TensorView state(size_t i) const;
  // How many of those are resource variables (the last ones).
  size_t resource_state_count() const;
  // Back to the initial state; costs nothing when no invoke or state view changed it since.
  Status ResetState();
  // Changes whenever the runner's tensors may have moved or its state or inputs been written (an
  // invoke, a state view, a reset, a rebuild, inputs set): a caller that sees the value it read
  // after its own last use knows both are as it left them (Stream's fast path).
  uint64_t epoch() const { return epoch_; }

  MemoryStats memory() const;
  // For Stream: counts `bytes` of stream state against the budget, or refuses them
  // (kArenaExhausted); ReleaseStreamState gives them back.
  Status ReserveStreamState(size_t bytes);
  void ReleaseStreamState(size_t bytes);

  // The kernel that each UNIDIRECTIONAL_SEQUENCE_LSTM node runs, in execution order (every
  // subgraph): tflstm's, named by its instruction set ("avx512", "avx2", "neon", "portable";
  // "hybrid-avx2", ...; "int8-avx512vnni", ...), or "tflite" where TFLite's own kernel runs the
  // node (a configuration tflstm's kernels do not cover, or RunnerOptions::lstm_kernel).
  std::vector<std::string> lstm_kernels() const;
  // The kernel of every node, in execution order (every subgraph): which ops run on tflstm's
  // kernels (LSTM, GRU, SimpleRNN, XNNPACK) and which on TFLite's.
  std::vector<NodeKernelName> node_kernels() const;

 private:
  friend struct internal::RunnerAccess;  // SetProfiler() of tflstm/tflite/profiler.h
  class Key {                            // only Create() can name it
    friend class Runner;
    explicit Key() = default;
  };

 public:
  Runner(Key, std::shared_ptr<const Model> model, RunnerOptions options);

 private:
  struct Engine;
  struct Profiling;  // the TFLite profiler that receives the engine's op events, across rebuilds
  // An interpreter prepared at `shapes` (null: the stored ones); with `check_budget`, refused
  // when its plan exceeds the budget, before anything uses the memory.
  Result<std::unique_ptr<Engine>> Build(const std::vector<std::vector<int>>* shapes, bool check_budget = true);
  Status CheckBudget(const Engine& engine, const std::vector<std::vector<int>>* shapes, size_t limit,
                     const std::string& source) const;
  MemoryStats MemoryOf(const Engine& engine) const;
  // Refusals of a plan: over the limit, or too large for the process to reserve at all.
  Status Unreservable(const Engine& engine, size_t limit, const std::string& source) const;
  std::string InputShapes(const Engine& engine) const;
  std::string Allowed(size_t limit, const std::string& source) const;
  Status BindToArena(Engine& engine) const;
  Status FillStringInputs(Engine& engine) const;
  Status CheckShape(size_t i, const int* shape, size_t rank) const;
  Status CheckInputBytes(const std::vector<std::vector<int>>& shapes) const;
  Status CheckInput(size_t i, const InputData& in, bool quantize) const;
  void CopyInput(size_t i, const InputData& in);
  Status SetOne(size_t i, const InputData& in, bool quantize);
  Status Run(bool reset_state);
  Status CheckFinite() const;
  // The first NaN or Inf in float data for input `i`, as a refusal naming the position.
  Status NonFinite(size_t i, DType dtype, const void* data, size_t bytes, const int* shape, size_t rank) const;
  Status InitializeResources(Engine& engine);
  TensorView View(int tensor_index, const char* name) const;
  Status Fail(ErrorCode code, const std::string& what) const;

  std::shared_ptr<const Model> model_;
  RunnerOptions options_;
  const std::vector<TensorInfo>* input_info_ = nullptr;
  const std::vector<TensorInfo>* output_info_ = nullptr;
  int subgraph_ = 0;
  std::unique_ptr<internal::ErrorCapture> capture_;  // outlives the engine, which reports to it
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> cancelled_{false};
  std::unique_ptr<Profiling> profiling_;
  size_t rebuilds_ = 0;
  std::atomic<size_t> stream_state_{0};  // reserved by live streams (released without the runner's lock)
  Status unprepared_;                    // why the stored shapes could not be prepared, while !prepared()
  mutable bool state_changed_ = true;    // an invoke or a state view may have moved the state
  mutable uint64_t epoch_ = 0;           // see epoch()
};

}  // namespace tflstm

// The Python-side runner, shared with the stream binding: the core Runner behind a mutex, and
// a count of the zero-copy views that pin its tensors.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model.h"
#include "tflstm/runner.h"

namespace tflstm::python {

inline std::vector<int> ShapeOf(const TensorView& v) { return std::vector<int>(v.shape, v.shape + v.rank); }

class PyRunner {
 public:
  PyRunner(const PyModel& model, const RunnerOptions& options, bool quantize_io);

  // runner(x) or runner(x1, x2, ...): one output comes back as an array, several as a tuple.
  pybind11::object Call(const pybind11::args& args);
  // run({"name": x, ...}) -> {"name": y, ...}
  pybind11::dict Run(const pybind11::handle& feeds);
  // What the runner would hold at these input shapes (Runner::PlanFor).
  MemoryStats Plan(const std::vector<std::vector<int>>& shapes);

  // Runs `fn` on the core runner with the GIL released and the runner's lock held. The lock is
  // only ever taken without the GIL, so a thread waiting for it never blocks one holding it.
  template <typename Fn>
  Status Locked(Fn&& fn) {
    pybind11::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mutex_);
    return fn(*runner_);
  }

  // Locked, but keeping the GIL when the lock is free at once: for a call much shorter than
  // handing the GIL over and back (a streaming step of a small model), which then costs more than
  // the call itself, and a thread waiting for the GIL could hold the caller up by its switch
  // interval. A taken lock falls back to Locked, so the lock is never awaited holding the GIL.
  template <typename Fn>
  Status LockedBrief(Fn&& fn) {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return Locked(std::forward<Fn>(fn));
    return fn(*runner_);
  }

  // A shape change rebuilds the tensors that zero-copy views point into: refused while any
  // view is alive, so a view never shows freed or reused memory. Call with the lock held.
  Status CheckNoViews(const char* what) const;
  std::atomic<int>& views() { return views_; }

  void Cancel() { runner_->Cancel(); }
  bool quantize_io() const { return quantize_io_; }
  const std::string& signature() const { return signature_; }  // empty: the primary subgraph
  const Runner& runner() const { return *runner_; }

  std::vector<TensorInfo> Describe(bool inputs);
  MemoryStats Memory();
  std::vector<std::string> LstmKernels();
  std::vector<std::pair<std::string, std::string>> NodeKernels();
  size_t Rebuilds();
  bool Prepared();

 private:
  pybind11::array AsArray(const pybind11::handle& obj, size_t i) const;
  // Sets the inputs and invokes; returns holding the lock, so the outputs can be copied out
  // before another call changes them.
  std::unique_lock<std::mutex> RunLocked(const std::vector<pybind11::object>& arrays);
  pybind11::array CopyOutput(size_t i) const;

  std::unique_ptr<Runner> runner_;
  std::mutex mutex_;
  std::atomic<int> views_{0};
  bool quantize_io_ = false;
  std::string signature_;
};

}  // namespace tflstm::python

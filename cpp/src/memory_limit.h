// How much more memory this process can use: what the kernel reports as available, the
// cgroup's limit and the address-space limit, whichever is least. A runner without a budget
// refuses a plan larger than this instead of attempting it.
#pragma once

#include <cstddef>
#include <string>

namespace tflstm::internal {

struct MemoryLimit {
  size_t bytes = static_cast<size_t>(-1);  // unknown: no limit
  std::string source;                      // which limit it is, for messages: "MemAvailable", ...
};

MemoryLimit AvailableMemory();

// "12.50 MiB (13,107,200 bytes)": budgets and plans in messages.
std::string MiB(size_t bytes);

}  // namespace tflstm::internal

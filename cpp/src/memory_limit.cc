#include "memory_limit.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace tflstm::internal {

namespace {

// The first unsigned number in `path` (after `key` when given), or -1 when unreadable or "max".
uint64_t ReadNumber(const char* path, const std::string& key = "") {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!key.empty() && line.compare(0, key.size(), key) != 0) continue;
    std::istringstream fields(key.empty() ? line : line.substr(key.size()));
    uint64_t value = 0;
    if (fields >> value) return value;
    return UINT64_MAX;
  }
  return UINT64_MAX;
}

void Lower(MemoryLimit& limit, uint64_t bytes, const char* source) {
  if (bytes < limit.bytes) {
    limit.bytes = static_cast<size_t>(bytes);
    limit.source = source;
  }
}

}  // namespace

MemoryLimit AvailableMemory() {
  MemoryLimit limit;
  const uint64_t available_kb = ReadNumber("/proc/meminfo", "MemAvailable:");
  if (available_kb != UINT64_MAX) Lower(limit, available_kb * 1024, "MemAvailable in /proc/meminfo");
  // cgroup v2, then v1: the limit less what the group uses now.
  for (const auto& [max, current] :
       {std::pair{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
        std::pair{"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"}}) {
    const uint64_t cap = ReadNumber(max);
    const uint64_t used = ReadNumber(current);
    if (cap != UINT64_MAX && used != UINT64_MAX) {
      Lower(limit, cap > used ? cap - used : 0, "the cgroup's memory limit");
      break;
    }
  }
  // RLIMIT_AS bounds the address space, which TFLite's reserved arenas count against.
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const uint64_t pages = ReadNumber("/proc/self/statm");
    const uint64_t used = pages == UINT64_MAX ? 0 : pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    Lower(limit, as.rlim_cur > used ? as.rlim_cur - used : 0, "the address-space limit (RLIMIT_AS)");
  }
  return limit;
}

std::string MiB(size_t bytes) {
  char mib[48];
  std::snprintf(mib, sizeof mib, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  std::string digits = std::to_string(bytes);
  for (size_t k = digits.size(); k > 3; k -= 3) digits.insert(k - 3, ",");
  return std::string(mib) + " (" + digits + " bytes)";
}

}  // namespace tflstm::internal

#include "pack_cache.h"

#include <iterator>
#include <map>
#include <mutex>

namespace tflstm::rnn::internal {

std::shared_ptr<const void> Shared(const PackKey& key, const std::function<std::shared_ptr<const void>()>& pack) {
  // Weak references only: a node that lets go of its packing never touches this map.
  static std::mutex mutex;
  static std::map<std::vector<uint64_t>, std::weak_ptr<const void>> packings;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = packings.find(key.words());
  if (it != packings.end()) {
    if (std::shared_ptr<const void> held = it->second.lock()) return held;
  }
  // Forget the packings nobody holds any more: the map stays as small as what is held.
  for (auto e = packings.begin(); e != packings.end();) e = e->second.expired() ? packings.erase(e) : std::next(e);
  std::shared_ptr<const void> made = pack();
  packings[key.words()] = made;
  return made;
}

}  // namespace tflstm::rnn::internal

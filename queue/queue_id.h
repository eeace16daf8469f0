// Owns queue ID generation: 16 upper-case hex digits, strictly increasing in arrival order.
// Cannot fail; survives restarts and clock steps backwards by never going below the last ID.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace sw::queue {

class QueueIdGenerator {
 public:
  // IDs are microseconds since the epoch, bumped by one when two would collide.
  std::string Next();
  // Makes later IDs greater than `id` (call with the largest ID found in the store).
  void Observe(const std::string& id);

 private:
  std::atomic<uint64_t> last_{0};
};

std::string FormatQueueId(uint64_t v);
bool ParseQueueId(const std::string& s, uint64_t* v);

}  // namespace sw::queue

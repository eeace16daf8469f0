// Owns queue ID generation: 16 upper-case hex digits, strictly increasing in arrival order.
// Cannot fail; survives restarts and clock steps backwards by never going below the last ID.
#include "queue/queue_id.h"

#include <chrono>

namespace sw::queue {

std::string FormatQueueId(uint64_t v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = kHex[v & 0xf];
  return s;
}

bool ParseQueueId(const std::string& s, uint64_t* v) {
  if (s.size() != 16) return false;
  uint64_t r = 0;
  for (char c : s) {
    r <<= 4;
    if (c >= '0' && c <= '9')
      r |= static_cast<uint64_t>(c - '0');
    else if (c >= 'A' && c <= 'F')
      r |= static_cast<uint64_t>(c - 'A' + 10);
    else
      return false;
  }
  *v = r;
  return true;
}

std::string QueueIdGenerator::Next() {
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  uint64_t prev = last_.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    next = now > prev ? now : prev + 1;
  } while (!last_.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  return FormatQueueId(next);
}

void QueueIdGenerator::Observe(const std::string& id) {
  uint64_t v;
  if (!ParseQueueId(id, &v)) return;
  uint64_t prev = last_.load();
  while (v > prev && !last_.compare_exchange_weak(prev, v)) {
  }
}

}  // namespace sw::queue

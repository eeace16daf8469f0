// Owns the usage counters' arithmetic and hour buckets.
// Fails never.
#include "common/usage_counters.h"

#include <chrono>
#include <ctime>

namespace sw::usage {

Counts& Counts::operator+=(const Counts& o) {
  accepted += o.accepted;
  delivered += o.delivered;
  deferred += o.deferred;
  rejected_spam += o.rejected_spam;
  rejected_virus += o.rejected_virus;
  bytes += o.bytes;
  return *this;
}

bool Counts::empty() const {
  return accepted == 0 && delivered == 0 && deferred == 0 && rejected_spam == 0 &&
         rejected_virus == 0 && bytes == 0;
}

std::string HourOf(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H", &tm);
  return buf;
}

void UsageCounters::Add(const std::string& domain, Field field, uint64_t n) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string hour = HourOf(now);
  std::lock_guard lock(mu_);
  Counts& c = counts_[{domain, hour}];
  switch (field) {
    case Field::kAccepted:
      c.accepted += n;
      break;
    case Field::kDelivered:
      c.delivered += n;
      break;
    case Field::kDeferred:
      c.deferred += n;
      break;
    case Field::kRejectedSpam:
      c.rejected_spam += n;
      break;
    case Field::kRejectedVirus:
      c.rejected_virus += n;
      break;
    case Field::kBytes:
      c.bytes += n;
      break;
  }
}

std::map<std::pair<std::string, std::string>, Counts> UsageCounters::Drain() {
  std::lock_guard lock(mu_);
  return std::exchange(counts_, {});
}

}  // namespace sw::usage

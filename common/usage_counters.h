// Owns the in-memory usage counters per domain per hour (accepted, delivered, deferred,
// rejected spam/virus, bytes), added from any thread and drained by the usage recorder.
// Fails never: counting is a map update under a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace sw::usage {

struct Counts {
  uint64_t accepted = 0, delivered = 0, deferred = 0, rejected_spam = 0, rejected_virus = 0,
           bytes = 0;
  Counts& operator+=(const Counts& o);
  bool empty() const;
};

enum class Field { kAccepted, kDelivered, kDeferred, kRejectedSpam, kRejectedVirus, kBytes };

// Hour buckets are "YYYYMMDDHH" in UTC.
std::string HourOf(int64_t unix_ms);

class UsageCounters {
 public:
  // Adds `n` to the domain's current hour.
  void Add(const std::string& domain, Field field, uint64_t n = 1);
  // Everything counted since the last call, by (domain, hour); the counters restart at zero.
  std::map<std::pair<std::string, std::string>, Counts> Drain();

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Counts> counts_;
};

}  // namespace sw::usage

// Owns the MX answer cache: answers by domain with an expiry, at most N entries, the least
// recently used dropped first. Fails never: a miss or an expired answer is std::nullopt.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "routing/mx_lookup.h"

namespace sw::routing {

// Not thread-safe: the MxResolver calls it under its lock.
class MxCache {
 public:
  using clock = std::chrono::steady_clock;
  explicit MxCache(size_t max_entries);

  // The answer for `domain` while it has not expired (and marks it recently used).
  std::optional<MxAnswer> Get(const std::string& domain, clock::time_point now);
  // Stores (or replaces) an answer; past max_entries the least recently used one goes.
  void Put(const std::string& domain, MxAnswer answer, clock::time_point expires);
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string domain;
    MxAnswer answer;
    clock::time_point expires;
  };
  size_t max_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace sw::routing

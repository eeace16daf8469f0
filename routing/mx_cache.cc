// Owns the MX answer cache: answers by domain with an expiry, at most N entries, the least
// recently used dropped first. Fails never: a miss or an expired answer is std::nullopt.
#include "routing/mx_cache.h"

#include <algorithm>

namespace sw::routing {

MxCache::MxCache(size_t max_entries) : max_(std::max<size_t>(1, max_entries)) {}

std::optional<MxAnswer> MxCache::Get(const std::string& domain, clock::time_point now) {
  auto it = index_.find(domain);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires <= now) {
    lru_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->answer;
}

void MxCache::Put(const std::string& domain, MxAnswer answer, clock::time_point expires) {
  auto it = index_.find(domain);
  if (it != index_.end()) {
    it->second->answer = std::move(answer);
    it->second->expires = expires;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{domain, std::move(answer), expires});
  index_.emplace(domain, lru_.begin());
  while (index_.size() > max_) {
    index_.erase(lru_.back().domain);
    lru_.pop_back();
  }
}

}  // namespace sw::routing

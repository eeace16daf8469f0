// Owns the per-token request rate limit of the admin API: a token bucket per key with a
// bounded number of keys. Fails by answering "wait N seconds"; never throws.
#include "admin/rate_limiter.h"

#include <cmath>

namespace sw::admin {

uint32_t RateLimiter::Take(const std::string& key, Clock::time_point now) {
  if (buckets_.size() >= kMaxKeys && !buckets_.count(key)) {
    // Drop buckets that have refilled: they hold no state worth keeping.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double secs = std::chrono::duration<double>(now - it->second.at).count();
      it = it->second.tokens + secs * rate_ >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    double secs = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + secs * rate_);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return static_cast<uint32_t>(std::ceil((1 - b.tokens) / rate_));
}

}  // namespace sw::admin

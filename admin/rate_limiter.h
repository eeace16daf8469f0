// Owns the per-token request rate limit of the admin API: a token bucket per key with a
// bounded number of keys. Fails by answering "wait N seconds"; never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace sw::admin {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `rate` requests per second on average, bursts up to `burst`.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  void Configure(double rate, double burst) {
    rate_ = rate;
    burst_ = burst;
  }
  // 0 when `key` may go now (one token taken), else the seconds to wait (Retry-After).
  uint32_t Take(const std::string& key, Clock::time_point now = Clock::now());

  static constexpr size_t kMaxKeys = 100000;  // full buckets are forgotten beyond this

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  double rate_, burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace sw::admin

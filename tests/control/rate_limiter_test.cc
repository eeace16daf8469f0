// The admin API's per-token rate limit: bursts up to the bucket, then Retry-After seconds,
// refills with time, keys independent. Fails with a GoogleTest assertion.
#include "admin/rate_limiter.h"

#include <gtest/gtest.h>

namespace sw::admin {
namespace {

TEST(RateLimiterTest, BurstThenWaitThenRefill) {
  RateLimiter l(2, 5);
  auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(l.Take("a", t0), 0u) << i;
  EXPECT_EQ(l.Take("a", t0), 1u) << "empty bucket: wait about a second (rate 2/s)";
  EXPECT_EQ(l.Take("b", t0), 0u) << "another token has its own bucket";
  EXPECT_EQ(l.Take("a", t0 + std::chrono::milliseconds(600)), 0u) << "1.2 tokens refilled";
  EXPECT_NE(l.Take("a", t0 + std::chrono::milliseconds(600)), 0u);
}

TEST(RateLimiterTest, SlowRateGivesLongerRetryAfter) {
  RateLimiter l(0.1, 1);
  auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(l.Take("a", t0), 0u);
  EXPECT_EQ(l.Take("a", t0), 10u);
}

}  // namespace
}  // namespace sw::admin

// Tests queue ID generation: format, strict ordering, and ordering across a restart.
// A failure means IDs could collide or lose arrival order.
#include "queue/queue_id.h"

#include <gtest/gtest.h>

#include <set>

namespace sw::queue {
namespace {

TEST(QueueId, StrictlyIncreasingAndUnique) {
  QueueIdGenerator g;
  std::string prev = g.Next();
  std::set<std::string> seen{prev};
  for (int i = 0; i < 100000; ++i) {
    std::string id = g.Next();
    ASSERT_EQ(id.size(), 16u);
    ASSERT_LT(prev, id);
    ASSERT_TRUE(seen.insert(id).second);
    prev = id;
  }
}

TEST(QueueId, ObserveKeepsOrderAfterClockStepsBack) {
  QueueIdGenerator g;
  std::string future = FormatQueueId(0x7FFFFFFFFFFFFF00ull);
  g.Observe(future);
  EXPECT_LT(future, g.Next());
}

TEST(QueueId, ParseRejectsGarbage) {
  uint64_t v;
  EXPECT_TRUE(ParseQueueId("00000000000000FF", &v));
  EXPECT_EQ(v, 255u);
  EXPECT_FALSE(ParseQueueId("00000000000000fg", &v));
  EXPECT_FALSE(ParseQueueId("123", &v));
}

}  // namespace
}  // namespace sw::queue

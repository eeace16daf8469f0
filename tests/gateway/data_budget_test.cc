// Tests the in-flight DATA byte budget: leases grow to the limit, give back on release or
// destruction, 0 means no limit, no budget means no accounting. Fails with an assertion.
#include "gateway/data_budget.h"

#include <gtest/gtest.h>

namespace sw::gateway {
namespace {

TEST(DataBudget, LeasesShareTheLimitAndGiveBack) {
  DataBudget b;
  {
    DataBudget::Lease x(&b), y(&b);
    EXPECT_TRUE(x.Grow(600, 1000));
    EXPECT_FALSE(y.Grow(500, 1000));  // 1100 > 1000: nothing taken
    EXPECT_EQ(b.in_use(), 600u);
    EXPECT_TRUE(y.Grow(400, 1000));
    EXPECT_EQ(b.in_use(), 1000u);
    x.Release();
    EXPECT_EQ(b.in_use(), 400u);
    EXPECT_EQ(x.held(), 0u);
    EXPECT_TRUE(x.Grow(600, 1000));
  }
  EXPECT_EQ(b.in_use(), 0u);  // destruction gives everything back
}

TEST(DataBudget, ZeroLimitAndNoBudget) {
  DataBudget b;
  DataBudget::Lease x(&b);
  EXPECT_TRUE(x.Grow(1ull << 40, 0));
  EXPECT_EQ(b.in_use(), 1ull << 40);
  DataBudget::Lease none(nullptr);
  EXPECT_TRUE(none.Grow(5, 1));
  EXPECT_EQ(none.held(), 0u);
}

}  // namespace
}  // namespace sw::gateway

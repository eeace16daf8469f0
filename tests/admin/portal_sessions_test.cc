// Tests the portal's sessions with a fake clock: ids stored hashed, idle and absolute expiry,
// the failed-sign-in limit per address, Cookie header parsing. Fails with an assertion.
#include "admin/portal_sessions.h"

#include <gtest/gtest.h>

#include "control/control_plane.h"

namespace sw::admin {
namespace {

using Clock = PortalSessions::Clock;
using namespace std::chrono_literals;

PortalSession Reseller() {
  PortalSession s;
  s.principal.account = "r_1";
  s.principal.reseller = "r_1";
  s.token_hash = control::ControlPlane::HashToken("sw_token");
  s.csrf = control::ControlPlane::RandomUrlSafe(32);
  return s;
}

TEST(PortalSessionsTest, FindsOnlyLiveSessionsByTheirCookie) {
  PortalSessions s;
  Clock::time_point t0 = Clock::now();
  std::string id = s.Create(Reseller(), t0);
  EXPECT_EQ(id.size(), 43u);  // 32 random bytes, URL-safe base64
  ASSERT_TRUE(s.Find(id, t0 + 1s));
  EXPECT_EQ(s.Find(id, t0 + 1s)->principal.account, "r_1");
  EXPECT_FALSE(s.Find(id + "x", t0));
  EXPECT_FALSE(s.Find("", t0));
  std::string other = s.Create(Reseller(), t0);
  EXPECT_NE(other, id);
  s.End(id);
  EXPECT_FALSE(s.Find(id, t0 + 2s));
  EXPECT_TRUE(s.Find(other, t0 + 2s));
}

TEST(PortalSessionsTest, IdleAndAbsoluteExpiry) {
  PortalSessions s;
  Clock::time_point t0 = Clock::now();
  std::string idle = s.Create(Reseller(), t0);
  EXPECT_FALSE(s.Find(idle, t0 + kPortalSessionIdle + 1s)) << "idle past the limit";
  std::string busy = s.Create(Reseller(), t0);
  Clock::time_point t = t0;
  // Used every 20 minutes: alive through the idle limit, ended at the absolute one.
  while (t + 20min < t0 + kPortalSessionMax) {
    t += 20min;
    ASSERT_TRUE(s.Find(busy, t));
  }
  EXPECT_FALSE(s.Find(busy, t0 + kPortalSessionMax + 1s));
}

TEST(PortalSessionsTest, FailedSignInsFromOneAddressWaitForTheWindow) {
  PortalSessions s;
  Clock::time_point t0 = Clock::now();
  for (unsigned i = 0; i < kPortalSignInFailures; ++i) {
    EXPECT_EQ(s.SignInWait("192.0.2.1", t0), 0u) << i;
    s.SignInFailed("192.0.2.1", t0);
  }
  unsigned wait = s.SignInWait("192.0.2.1", t0 + 1s);
  EXPECT_GT(wait, 0u);
  EXPECT_LE(wait, std::chrono::duration_cast<std::chrono::seconds>(kPortalSignInWindow).count());
  EXPECT_EQ(s.SignInWait("192.0.2.2", t0 + 1s), 0u) << "another address is not affected";
  EXPECT_EQ(s.SignInWait("192.0.2.1", t0 + kPortalSignInWindow + 1s), 0u);
}

TEST(PortalSessionsTest, CookieValueParsing) {
  EXPECT_EQ(PortalSessions::CookieValue("sw_session=abc", "sw_session"), "abc");
  EXPECT_EQ(PortalSessions::CookieValue("a=1; sw_session=abc; b=2", "sw_session"), "abc");
  EXPECT_EQ(PortalSessions::CookieValue("xsw_session=abc", "sw_session"), "");
  EXPECT_EQ(PortalSessions::CookieValue("sw_sessionx=abc", "sw_session"), "");
  EXPECT_EQ(PortalSessions::CookieValue("", "sw_session"), "");
}

}  // namespace
}  // namespace sw::admin

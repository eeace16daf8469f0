// Recipient verification by callout (SPEC section 3, recipient_verification: callout) through
// the real daemon against a TestSmtpServer that knows only some addresses: 550 5.1.1 for a
// refused address, cached answers, backup-MX behaviour while the domain is down, no callout
// storm. Fails with the daemon's log.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

// Counts the RCPTs the destination saw per address (the policy runs on the sink's threads).
class RcptCounter {
 public:
  void Add(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    ++seen_[address];
  }
  int Seen(const std::string& address) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = seen_.find(address);
    return it == seen_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> seen_;
};

class CalloutTest : public GatewayTest {
 protected:
  GatewayOptions CalloutOptions(const std::string& extra_yaml = "") {
    GatewayOptions o = DefaultOptions();
    DomainSpec d{"callout.test", {"[127.0.0.1]:" + std::to_string(sink_.port())}, {}};
    d.recipient_verification = "callout";
    o.domains.push_back(d);
    o.extra_yaml = extra_yaml;
    return o;
  }
  // A session after MAIL FROM.
  ::testing::AssertionResult Begin(SmtpClient& c) {
    auto ok = OpenSession(c, port());
    if (!ok) return ok;
    return ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250");
  }
};

TEST_F(CalloutTest, RefusedAddressCachedThenDomainDown) {
  RcptCounter seen;
  sink_.set_rcpt_policy([&seen](const std::string& a) -> std::string {
    seen.Add(a);
    if (a == "alice@callout.test") return "";
    if (a == "temp@callout.test") return "451 4.3.0 try again later";
    return "550 5.1.1 no such user";
  });
  ASSERT_TRUE(StartGateway(CalloutOptions()));
  {
    SmtpClient c;
    ASSERT_TRUE(Begin(c));
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<alice@callout.test>"), "250"));
    auto bob = c.Command("RCPT TO:<bob@callout.test>");
    EXPECT_TRUE(ReplyIs(bob, "550 5.1.1"));
    if (bob) {
      EXPECT_NE(bob->last().find("User unknown"), std::string::npos) << *bob;
    }
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<Bob@Callout.test>"), "550 5.1.1"));  // cached
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<temp@callout.test>"), "250"));       // 4xx: unknown
    // A domain with callout off never calls out.
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<nobody@example.com>"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("RSET"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("QUIT"), "221"));
  }
  EXPECT_EQ(seen.Seen("alice@callout.test"), 1);
  EXPECT_EQ(seen.Seen("bob@callout.test") + seen.Seen("Bob@callout.test"), 1);
  EXPECT_EQ(seen.Seen("nobody@example.com"), 0);
  EXPECT_EQ(gw_->log().Count("event=callout .*domain=example.com"), 0u);
  EXPECT_EQ(gw_->log().Count("event=callout .*rcpt=bob@callout.test .*result=invalid"), 1u)
      << gw_->AllLogs();
  EXPECT_EQ(gw_->log().Count("event=callout .*rcpt=temp@callout.test .*result=unknown"), 1u);
  // Second session: the answers are still cached.
  {
    SmtpClient c;
    ASSERT_TRUE(Begin(c));
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<bob@callout.test>"), "550 5.1.1"));
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<alice@callout.test>"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("QUIT"), "221"));
  }
  EXPECT_EQ(seen.Seen("alice@callout.test"), 1);
  EXPECT_EQ(seen.Seen("bob@callout.test"), 1);

  // The destination goes away; a message to it is deferred and the domain is down.
  sink_.Stop();
  std::string id =
      SendOk({"sender@client.test", {"alice@callout.test"}, ""}, SimpleMessage("callout-down"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(gw_->log().WaitFor("event=domain_down .*domain=callout.test", 15s)) << gw_->AllLogs();
  {
    SmtpClient c;
    ASSERT_TRUE(Begin(c));
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<bob@callout.test>"), "550 5.1.1"));  // cached
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<carol@callout.test>"), "250"));      // unknown
    EXPECT_TRUE(ReplyIs(c.Command("RSET"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("QUIT"), "221"));
  }
  EXPECT_EQ(gw_->log().Count("event=callout .*rcpt=carol@callout.test .*result=skipped_down"), 1u)
      << gw_->AllLogs();
}

TEST_F(CalloutTest, ConcurrentCalloutsBoundedAndCoalesced) {
  RcptCounter seen;
  sink_.set_rcpt_policy([&seen](const std::string& a) -> std::string {
    seen.Add(a);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return "";
  });
  ASSERT_TRUE(StartGateway(CalloutOptions("callout:\n  max_concurrent: 2\n  timeout: 10s\n")));
  // Identical lookups at once share one callout.
  auto rcpt_all = [&](const std::vector<std::string>& addresses) {
    std::vector<std::thread> threads;
    std::atomic<int> accepted{0};
    for (const auto& a : addresses) {
      threads.emplace_back([&, a] {
        SmtpClient c;
        if (!Begin(c)) return;
        if (ReplyIs(c.Command("RCPT TO:<" + a + ">", 30s), "250")) ++accepted;
        c.Command("QUIT");
      });
    }
    for (auto& t : threads) t.join();
    return accepted.load();
  };
  EXPECT_EQ(rcpt_all(std::vector<std::string>(2, "same@callout.test")), 2);
  EXPECT_EQ(seen.Seen("same@callout.test"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the sink closes that one
  // Many distinct addresses at once: at most 2 callouts in flight, the rest accepted unchecked.
  std::vector<std::string> many;
  for (int i = 0; i < 12; ++i) many.push_back("user" + std::to_string(i) + "@callout.test");
  EXPECT_EQ(rcpt_all(many), 12);
  EXPECT_LE(sink_.max_open_connections(), 2u);
  EXPECT_GE(gw_->log().Count("event=callout .*result=skipped_busy"), 1u) << gw_->AllLogs();
}

}  // namespace
}  // namespace sw::it

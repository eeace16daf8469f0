// Backup MX behaviour through the real daemon: ordered destinations, outage hold and ordered
// drain after a probe, per-recipient results, DSNs, expiry, TLS policy. Fails with the logs.
#include <atomic>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

std::string Msg(const std::string& marker, const std::string& subject = "relay test") {
  return "From: alice@example.net\r\nTo: bob@example.com\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + marker + "@example.net>\r\n\r\nbody " + marker + "\r\n";
}

Envelope Env(std::string from, std::vector<std::string> to) {
  Envelope e;
  e.from = std::move(from);
  e.to = std::move(to);
  return e;
}

class RelayQueueTest : public GatewayTest {
 protected:
  std::string Dest(uint16_t port) { return "[127.0.0.1]:" + std::to_string(port); }
  // Options with example.com pointing at `dests` and DSNs going to dsn_sink_.
  GatewayOptions Options(std::vector<std::string> dests) {
    GatewayOptions o;
    o.domains.push_back({"example.com", std::move(dests), {}, "opportunistic"});
    o.outbound_relay = Dest(dsn_sink_.port());
    return o;
  }
  void SetUp() override {
    GatewayTest::SetUp();
    ASSERT_TRUE(dsn_sink_.Start(0));
  }
  void TearDown() override {
    GatewayTest::TearDown();
    dsn_sink_.Stop();
  }
  TestSmtpServer dsn_sink_;  // stands in for the outbound relay (DSNs to senders)
};

TEST_F(RelayQueueTest, DeadThenLiveDestinationDeliversThroughLive) {
  ClosedPort reserved;
  uint16_t dead = reserved.port();
  ASSERT_TRUE(StartGateway(Options({Dest(dead), Dest(sink_.port())})));
  std::string id = SendOk(Env("alice@example.net", {"bob@example.com"}), Msg("dead-live"));
  auto m = AwaitDelivery("dead-live");
  ASSERT_TRUE(m) << "not delivered through the live destination";
  EXPECT_TRUE(gw_->log().WaitFor(
      DeliveredRe(id) + ".*relay=127\\.0\\.0\\.1:" + std::to_string(sink_.port()), 5s));
}

TEST_F(RelayQueueTest, OutageHoldsMailAndProbeDrainsItInArrivalOrder) {
  uint16_t port = sink_.port();
  sink_.Stop();
  GatewayOptions o = Options({Dest(port)});
  o.retry_interval = "1h";  // only the probe may bring the messages back
  o.max_connections_per_destination = 1;
  ASSERT_TRUE(StartGateway(o));
  constexpr int kCount = 200;
  std::vector<std::string> ids;
  for (int i = 0; i < kCount; ++i) {
    char marker[32];
    std::snprintf(marker, sizeof marker, "drain-%04d", i);
    ids.push_back(SendOk(Env("alice@example.net", {"bob@example.com"}), Msg(marker)));
    if (HasFailure()) return;
  }
  EXPECT_TRUE(gw_->log().WaitFor("event=domain_down\\b.*domain=example\\.com", 10s));
  EXPECT_EQ(sink_.count(), 0u);
  ASSERT_TRUE(sink_.Start(port));
  ASSERT_TRUE(sink_.WaitForCount(kCount, 30s)) << "got " << sink_.count();
  EXPECT_TRUE(gw_->log().WaitFor("event=domain_up\\b.*domain=example\\.com", 1s));
  auto msgs = sink_.Messages();
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    char marker[32];
    std::snprintf(marker, sizeof marker, "body drain-%04d", i);
    EXPECT_NE(msgs[i].data.find(marker), std::string::npos) << "position " << i << " out of order";
  }
}

TEST_F(RelayQueueTest, FiveXXForOneOfThreeRecipientsBouncesOnlyIt) {
  sink_.set_rcpt_policy([](const std::string& a) {
    return a == "bad@example.com" ? std::string("550 5.1.1 <bad@example.com>: no such user") : "";
  });
  ASSERT_TRUE(StartGateway(Options({Dest(sink_.port())})));
  std::string id =
      SendOk(Env("alice@example.net", {"one@example.com", "bad@example.com", "two@example.com"}),
             Msg("three-rcpts", "Quarterly numbers"));
  auto m = AwaitDelivery("three-rcpts");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcpt_to, (std::vector<std::string>{"one@example.com", "two@example.com"}));
  auto dsn = dsn_sink_.WaitForMessageContaining("bad@example.com", 20s);
  ASSERT_TRUE(dsn) << "no DSN at the outbound relay";
  EXPECT_EQ(dsn->mail_from, "");
  EXPECT_EQ(dsn->rcpt_to, std::vector<std::string>{"alice@example.net"});
  EXPECT_NE(dsn->data.find("multipart/report; report-type=delivery-status"), std::string::npos);
  EXPECT_NE(dsn->data.find("Final-Recipient: rfc822; bad@example.com"), std::string::npos);
  EXPECT_NE(dsn->data.find("Status: 5.1.1"), std::string::npos);
  EXPECT_NE(dsn->data.find("Subject: Quarterly numbers"), std::string::npos)
      << "original headers missing";
  EXPECT_EQ(dsn->data.find("one@example.com\r\nAction"), std::string::npos);
  EXPECT_EQ(dsn->data.find("body three-rcpts"), std::string::npos) << "DSN returned the body";
  EXPECT_EQ(dsn_sink_.count(), 1u);
  EXPECT_TRUE(gw_->log().WaitFor("event=dsn_queued\\b.*id=" + id, 5s));
}

TEST_F(RelayQueueTest, FourXXRetriedUntilAccepted) {
  auto tries = std::make_shared<std::atomic<int>>(0);
  sink_.set_rcpt_policy([tries](const std::string&) {
    return ++*tries < 3 ? std::string("451 4.2.0 try again later") : "";
  });
  ASSERT_TRUE(StartGateway(Options({Dest(sink_.port())})));
  std::string id = SendOk(Env("alice@example.net", {"bob@example.com"}), Msg("four-xx"));
  ASSERT_TRUE(AwaitDelivery("four-xx", 20s));
  EXPECT_EQ(tries->load(), 3);
  EXPECT_EQ(gw_->CountInAllLogs("event=deferred\\b.*id=" + id), 2u);
  EXPECT_EQ(dsn_sink_.count(), 0u);
}

TEST_F(RelayQueueTest, ExpiredMessageGetsDsnAndLeavesTheQueue) {
  ClosedPort dead;
  GatewayOptions o = Options({Dest(dead.port())});
  o.max_age = "2s";
  ASSERT_TRUE(StartGateway(o));
  std::string id =
      SendOk(Env("alice@example.net", {"bob@example.com"}), Msg("expiring", "Old news"));
  auto dsn = dsn_sink_.WaitForMessageContaining("X-SpamWeeder-Queue-ID: " + id, 20s);
  ASSERT_TRUE(dsn) << "no expiry DSN";
  EXPECT_NE(dsn->data.find("Status: 4.4.7"), std::string::npos);
  EXPECT_NE(dsn->data.find("Subject: Old news"), std::string::npos);
  EXPECT_TRUE(gw_->log().WaitFor("event=expired\\b.*id=" + id, 1s));
  // After a restart nothing is left (the DSN itself was delivered too, and its 250 seen).
  ASSERT_TRUE(gw_->log().WaitFor("event=delivered\\b.*to=alice@example\\.net", 10s));
  ASSERT_TRUE(gw_->Sigterm(10s));
  ASSERT_TRUE(gw_->Start());
  EXPECT_TRUE(gw_->log().WaitFor("event=queue_loaded\\b.*messages=0\\b", 5s));
}

TEST_F(RelayQueueTest, NullSenderMessageExpiresWithoutDsn) {
  ClosedPort dead;
  GatewayOptions o = Options({Dest(dead.port())});
  o.max_age = "2s";
  ASSERT_TRUE(StartGateway(o));
  std::string id = SendOk(Env("", {"bob@example.com"}), Msg("null-sender"));
  EXPECT_TRUE(gw_->log().WaitFor("event=expired\\b.*id=" + id, 20s));
  EXPECT_TRUE(gw_->log().WaitFor("event=dsn_skipped\\b.*id=" + id, 5s));
  // A positive control for the DSN path would show up within the same time.
  EXPECT_FALSE(dsn_sink_.WaitForCount(1, 3s));
}

TEST_F(RelayQueueTest, RequiredTlsTowardsPlaintextServerSendsNothing) {
  GatewayOptions o = Options({Dest(sink_.port())});
  o.domains[0].tls = "required";
  ASSERT_TRUE(StartGateway(o));
  std::string id = SendOk(Env("alice@example.net", {"bob@example.com"}), Msg("needs-tls"));
  EXPECT_TRUE(gw_->log().WaitFor(DeferredRe(id), 10s));
  EXPECT_FALSE(sink_.WaitForCount(1, 3s)) << "message sent in clear";
}

}  // namespace
}  // namespace sw::it

// Relay policy over loopback: only configured domains (and listed recipients) are accepted, and a
// refused recipient neither queues anything nor blocks the good ones. Fails with the daemon's log.
#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class RelayPolicyTest : public GatewayTest {
 protected:
  // One session per address: MAIL ok, RCPT gets `want` (reply prefix), DATA is then refused.
  void ExpectRcptRefused(const std::string& rcpt, const std::string& want,
                         const std::string& want_text = "") {
    SCOPED_TRACE("RCPT TO:<" + rcpt + ">");
    SmtpClient c;
    ASSERT_TRUE(OpenSession(c, port()));
    ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
    auto r = c.Command("RCPT TO:<" + rcpt + ">");
    EXPECT_TRUE(ReplyIs(r, want));
    if (r && !want_text.empty()) {
      EXPECT_NE(Lower(r->last()).find(want_text), std::string::npos) << *r;
    }
    auto data = c.Command("DATA");
    ASSERT_TRUE(data);
    EXPECT_NE(data->code, 354) << "DATA accepted with no valid recipient";
    if (data->code == 354) c.Send("Subject: must not be queued\r\n\r\nx\r\n.\r\n");
    EXPECT_TRUE(ReplyIs(c.Command("QUIT"), "221"));
  }

  // Sends a good message and waits for its event=queued (the log is in event order, so
  // anything queued before it is logged by then); then it must be the only one queued.
  void ExpectOnlySentinelQueued() {
    std::string id =
        SendOk({"sender@client.test", {"user@example.com"}, ""}, SimpleMessage("sentinel"));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(gw_->log().WaitFor(QueuedRe(id), 5s));
    auto queued = gw_->log().FindAll(QueuedRe());
    EXPECT_EQ(queued.size(), 1u) << "event=queued lines:\n"
                                 << [&] {
                                      std::string s;
                                      for (const auto& q : queued) s += q.line + "\n";
                                      return s;
                                    }();
    ASSERT_TRUE(AwaitDelivery("sentinel"));
    for (const auto& m : sink_.Messages())
      EXPECT_NE(m.data.find("sentinel"), std::string::npos)
          << "unexpected delivery to " << (m.rcpt_to.empty() ? "" : m.rcpt_to[0]);
  }
};

TEST_F(RelayPolicyTest, RelayToForeignDomainDenied) {
  ASSERT_TRUE(StartGateway());
  for (const char* rcpt : {"user@foreign.test", "user@example.net", "user@example.com.evil.test",
                           "user@notexample.com", "user@localhost", "user@EXAMPLE.NET"})
    ExpectRcptRefused(rcpt, "554 5.7.1", "relay access denied");
  // A source route naming a served domain first: the route is ignored, the mailbox's domain
  // is foreign. Any permanent refusal is safe here.
  ExpectRcptRefused("@example.com:user@evil.test", "5");
  ExpectOnlySentinelQueued();
}

TEST_F(RelayPolicyTest, IpLiteralRecipientDenied) {
  ASSERT_TRUE(StartGateway());
  for (const char* rcpt : {"user@[127.0.0.1]", "user@[192.0.2.10]", "user@[IPv6:::1]"})
    ExpectRcptRefused(rcpt, "554 5.7.1", "relay access denied");
  ExpectOnlySentinelQueued();
}

TEST_F(RelayPolicyTest, UnlistedSubdomainDenied) {
  ASSERT_TRUE(StartGateway());
  for (const char* rcpt : {"user@sub.example.com", "user@mail.example.com", "user@a.b.example.com",
                           "alice@x.listed.test"})
    ExpectRcptRefused(rcpt, "554 5.7.1", "relay access denied");
  ExpectOnlySentinelQueued();
}

TEST_F(RelayPolicyTest, UnknownUserInRecipientsListGets550) {
  ASSERT_TRUE(StartGateway());
  for (const char* rcpt : {"carol@listed.test", "bob.smith@listed.test", "alice2@listed.test"})
    ExpectRcptRefused(rcpt, "550 5.1.1");
  // Listed users by local part and by full address are accepted.
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<alice@listed.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<bob@listed.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RSET"), "250"));
  c.Close();
  ExpectOnlySentinelQueued();
}

TEST_F(RelayPolicyTest, ForeignRecipientDoesNotBlockOthers) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<a@example.com>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<x@foreign.test>"), "554 5.7.1"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<b@example.com>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<user@[127.0.0.1]>"), "554 5.7.1"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<carol@listed.test>"), "550 5.1.1"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<alice@listed.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  std::string data = SimpleMessage("mixed-rcpts");
  ASSERT_TRUE(c.Send(DotStuff(data) + ".\r\n"));
  auto r = c.ReadReply();
  ASSERT_TRUE(ReplyIs(r, "250 2.0.0 Ok: queued as "));
  std::string id = QueueIdFromReply(*r);
  EXPECT_FALSE(id.empty()) << *r;
  EXPECT_TRUE(ReplyIs(c.Command("QUIT"), "221"));

  // The good recipients may arrive in one or several transactions (e.g. one per domain).
  std::multiset<std::string> want = {"a@example.com", "alice@listed.test", "b@example.com"};
  std::multiset<std::string> got;
  PollUntil(
      [&] {
        got.clear();
        for (const auto& m : sink_.MessagesContaining("mixed-rcpts"))
          got.insert(m.rcpt_to.begin(), m.rcpt_to.end());
        return got == want;
      },
      20s);
  EXPECT_EQ(got, want);
  for (const auto& m : sink_.MessagesContaining("mixed-rcpts")) {
    auto split = SplitFirstReceived(m.data);
    ASSERT_TRUE(split);
    EXPECT_EQ(split->rest, data);
  }
}

}  // namespace
}  // namespace sw::it

// SMTP smuggling (end-of-data confusion): a fake end marker inside DATA must never end it, so at
// most one message leaves and nothing with a bare LF reaches the destination. Fails with replies.
#include <ostream>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

struct SmuggleCase {
  const char* name;
  const char* fake_end;  // what a lax server takes for <CRLF>.<CRLF>
};

void PrintTo(const SmuggleCase& c, std::ostream* os) { *os << c.name; }

class SmugglingTest : public GatewayTest, public ::testing::WithParamInterface<SmuggleCase> {};

TEST_P(SmugglingTest, FakeEndOfDataDoesNotSplitMessage) {
  ASSERT_TRUE(StartGateway());
  const std::string marker = std::string("smuggle-") + GetParam().name;
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  // One write: the fake end, a smuggled transaction, its (real) end, then the real end again.
  std::string payload = "From: <sender@client.test>\r\nSubject: " + marker + "\r\nMessage-ID: <" +
                        marker + "@client.test>\r\n\r\nhello" + GetParam().fake_end +
                        "MAIL FROM:<evil@x>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
                        "smuggled\r\n.\r\n" +
                        "\r\n.\r\n";
  ASSERT_TRUE(c.Send(payload)) << c.error();
  ASSERT_TRUE(c.Send("QUIT\r\n")) << c.error();
  std::vector<Reply> replies;
  while (auto r = c.ReadReply(10s)) {
    replies.push_back(*r);
    if (r->code == 221) break;
  }
  std::string transcript;
  int queued = 0, data_go = 0;
  std::string id;
  for (const auto& r : replies) {
    transcript += r.text() + "\n";
    if (!QueueIdFromReply(r).empty()) {
      ++queued;
      id = QueueIdFromReply(r);
    }
    if (r.code == 354) ++data_go;
  }
  ASSERT_FALSE(replies.empty()) << "no reply at all: " << c.error();
  EXPECT_EQ(replies.back().code, 221) << "session did not end with QUIT:\n" << transcript;
  EXPECT_LE(queued, 1) << "replies after the payload:\n" << transcript;
  EXPECT_EQ(data_go, 0) << "the smuggled DATA got a 354:\n" << transcript;
  // All events of the session are logged before its 221.
  auto queued_lines = gw_->log().FindAll(QueuedRe());
  EXPECT_LE(queued_lines.size(), 1u) << gw_->log().Text();
  EXPECT_FALSE(gw_->log().Find("event=queued\\b.*\\bfrom=evil@x\\b")) << gw_->log().Text();

  if (queued == 1) {
    auto m = AwaitDelivery(marker);
    ASSERT_TRUE(m) << "accepted message not delivered";
    EXPECT_EQ(m->mail_from, "sender@client.test");
    EXPECT_EQ(m->rcpt_to, std::vector<std::string>{"user@example.com"});
    // The would-be commands are message text at the destination, not a second transaction.
    EXPECT_NE(m->data.find("MAIL FROM:<evil@x>\r\n"), std::string::npos);
    EXPECT_NE(m->data.find("\r\nsmuggled\r\n"), std::string::npos);
    EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(id), 10s));
  }
  for (const auto& m : sink_.Messages()) {
    EXPECT_NE(m.mail_from, "evil@x");
    for (const auto& r : m.rcpt_to) EXPECT_NE(r, "victim@example.com");
    EXPECT_FALSE(HasBareLf(m.raw)) << "bare LF sent to the destination";
    EXPECT_FALSE(HasBareCr(m.raw)) << "bare CR sent to the destination";
  }
  EXPECT_LE(sink_.count(), 1u);
  for (const auto& e : sink_.errors()) ADD_FAILURE() << "destination saw: " << e;
}

INSTANTIATE_TEST_SUITE_P(
    SmtpSmuggling, SmugglingTest,
    ::testing::Values(SmuggleCase{"LfDotLf", "\n.\n"}, SmuggleCase{"CrLfDotLf", "\r\n.\n"},
                      SmuggleCase{"LfDotCrLf", "\n.\r\n"}, SmuggleCase{"CrDotCrLf", "\r.\r\n"}),
    [](const ::testing::TestParamInfo<SmuggleCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sw::it

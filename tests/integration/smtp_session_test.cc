// SPEC section 4 over a real socket: each limit and bad-sequence reply, timeouts, connection caps,
// pipelining. Fails with the exact reply seen and the daemon's log (fixture TearDown).
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

using Clock = std::chrono::steady_clock;

class SmtpSessionTest : public GatewayTest {
 protected:
  // Sends a good message in a fresh session and waits for its event=queued; then `n` messages
  // in total must have been queued by this gateway run.
  void ExpectQueuedCountAfterSentinel(size_t n) {
    std::string id =
        SendOk({"sender@client.test", {"user@example.com"}, ""}, SimpleMessage("sentinel"));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(gw_->log().WaitFor(QueuedRe(id), 5s));
    EXPECT_EQ(gw_->log().Count(QueuedRe()), n);
  }
};

TEST_F(SmtpSessionTest, TooManyRecipientsGets452) {
  GatewayOptions o = DefaultOptions();
  o.max_recipients = 3;
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<u" + std::to_string(i) + "@example.com>"), "250"));
  for (int i = 4; i <= 5; ++i)
    EXPECT_TRUE(
        ReplyIs(c.Command("RCPT TO:<u" + std::to_string(i) + "@example.com>"), "452 4.5.3"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  ASSERT_TRUE(c.Send(DotStuff(SimpleMessage("three-rcpts")) + ".\r\n"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250 2.0.0 Ok: queued as "));
  std::multiset<std::string> got;
  PollUntil(
      [&] {
        got.clear();
        for (const auto& m : sink_.MessagesContaining("three-rcpts"))
          got.insert(m.rcpt_to.begin(), m.rcpt_to.end());
        return got.size() >= 3;
      },
      20s);
  EXPECT_EQ(got,
            (std::multiset<std::string>{"u1@example.com", "u2@example.com", "u3@example.com"}));
}

TEST_F(SmtpSessionTest, DeclaredSizeOverLimitGets552) {
  GatewayOptions o = DefaultOptions();
  o.max_message_size = 1048576;
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test> SIZE=1048577"), "552 5.3.4"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test> SIZE=99999999999"), "552 5.3.4"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test> SIZE=1048576"), "250"));
}

TEST_F(SmtpSessionTest, BodyOverLimitGets552) {
  GatewayOptions o = DefaultOptions();
  o.max_message_size = 1048576;
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  std::string big = SimpleMessage("too-big", FillerBody(1048576 + 65536, 7));
  ASSERT_TRUE(c.Send(DotStuff(big) + ".\r\n")) << c.error();
  EXPECT_TRUE(ReplyIs(c.ReadReply(20s), "552 5.3.4"));
  // The session goes on: a small message in the same session is accepted.
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  ASSERT_TRUE(c.Send(DotStuff(SimpleMessage("small-after-big")) + ".\r\n"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250 2.0.0 Ok: queued as "));
  // A message of exactly the limit (unstuffed, CRLF line ends) is not over it.
  std::string head = SimpleMessage("exactly-at-limit", "");
  std::string at_limit = head + FillerBody(1048576 - head.size(), 8);
  ASSERT_EQ(at_limit.size(), 1048576u);
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test> SIZE=1048576"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  ASSERT_TRUE(c.Send(DotStuff(at_limit) + ".\r\n"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(20s), "250 2.0.0 Ok: queued as "));
  ExpectQueuedCountAfterSentinel(3);
}

TEST_F(SmtpSessionTest, CommandLineOver512OctetsGets500) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  // RFC 5321 4.5.3.1.4: 512 octets including the CRLF is the limit.
  std::string at_limit = "NOOP " + std::string(512 - 5 - 2, 'a');
  EXPECT_TRUE(ReplyIs(c.Command(at_limit), "250"));
  std::string over = "NOOP " + std::string(512 - 5 - 1, 'a');
  EXPECT_TRUE(ReplyIs(c.Command(over), "500 5.5.2"));
  EXPECT_TRUE(
      ReplyIs(c.Command("MAIL FROM:<" + std::string(600, 'x') + "@client.test>"), "500 5.5.2"));
  // A huge line gets one reply, and the session still works after it.
  EXPECT_TRUE(ReplyIs(c.Command("NOOP " + std::string(200000, 'b')), "500 5.5.2"));
  EXPECT_TRUE(ReplyIs(c.Command("NOOP"), "250"));
}

TEST_F(SmtpSessionTest, NulInCommandGets500) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command(std::string("NOOP\0x", 6)), "500 5.5.2"));
  EXPECT_TRUE(ReplyIs(c.Command(std::string("MAIL FROM:<a\0b@client.test>", 27)), "500 5.5.2"));
  EXPECT_TRUE(ReplyIs(c.Command(std::string("\0EHLO x", 7)), "500 5.5.2"));
  EXPECT_TRUE(ReplyIs(c.Command("NOOP"), "250"));
}

TEST_F(SmtpSessionTest, UnknownCommandGets500) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("XYZZY"), "500 5.5.1"));
  EXPECT_TRUE(ReplyIs(c.Command("MAILFROM:<a@client.test>"), "500 5.5.1"));
  EXPECT_TRUE(ReplyIs(c.Command("GET / HTTP/1.0"), "500 5.5.1"));
}

TEST_F(SmtpSessionTest, BadSyntaxGets501) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("EHLO"), "501 5.5.4"));
  EXPECT_TRUE(ReplyIs(c.Command("EHLO client.test"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:sender@client.test"), "501 5.5.4"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL TO:<sender@client.test>"), "501 5.5.4"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:user@example.com"), "501 5.5.4"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT FROM:<user@example.com>"), "501 5.5.4"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
}

TEST_F(SmtpSessionTest, RcptBeforeMailGets503) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(c.Open(port())) << c.error();
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "503 5.5.1"));  // no EHLO
  ASSERT_TRUE(ReplyIs(c.Command("EHLO client.test"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "503 5.5.1"));
  EXPECT_TRUE(ReplyIs(c.Command("DATA"), "503 5.5.1"));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "503 5.5.1"));  // nested
  ASSERT_TRUE(ReplyIs(c.Command("RSET"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "503 5.5.1"));  // after RSET
}

TEST_F(SmtpSessionTest, NonAsciiAddressWithoutSmtputf8Gets553) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<j\xc3\xb6rg@client.test>"), "553 5.6.7"));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<m\xc3\xbcller@example.com>"), "553 5.6.7"));
  ASSERT_TRUE(ReplyIs(c.Command("RSET"), "250"));
  // The same addresses are fine with SMTPUTF8.
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<j\xc3\xb6rg@client.test> SMTPUTF8"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<m\xc3\xbcller@example.com>"), "250"));
}

std::string WithReceivedHeaders(int n, const std::string& marker) {
  std::string hops;
  for (int i = n; i >= 1; --i)
    hops += "Received: from hop" + std::to_string(i) + ".test by hop" + std::to_string(i + 1) +
            ".test; Fri, 27 Nov 2026 10:00:00 +0000\r\n";
  return hops + SimpleMessage(marker);
}

TEST_F(SmtpSessionTest, OverHundredReceivedHeadersGets554) {
  ASSERT_TRUE(StartGateway());
  auto send = [&](const std::string& data) {
    SmtpClient c;
    EXPECT_TRUE(OpenSession(c, port()));
    EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<user@example.com>"), "250"));
    EXPECT_TRUE(ReplyIs(c.Command("DATA"), "354"));
    c.Send(DotStuff(data) + ".\r\n");
    return c.ReadReply();
  };
  EXPECT_TRUE(ReplyIs(send(WithReceivedHeaders(101, "hops-101")), "554 5.4.6"));
  std::string hundred = WithReceivedHeaders(100, "hops-100");
  EXPECT_TRUE(ReplyIs(send(hundred), "250 2.0.0 Ok: queued as "));
  auto m = AwaitDelivery("hops-100");
  ASSERT_TRUE(m);
  EXPECT_EQ(CountHeaderFields(m->data, "Received"), 101u);
  EXPECT_TRUE(sink_.MessagesContaining("hops-101").empty());
  ExpectQueuedCountAfterSentinel(2);
}

TEST_F(SmtpSessionTest, MaxErrorsGets421AndClose) {
  GatewayOptions o = DefaultOptions();
  o.max_errors = 3;
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("BOGUS1"), "500 5.5.1"));
  EXPECT_TRUE(ReplyIs(c.Command("BOGUS2"), "500 5.5.1"));
  // The third bad command may get its own 500 first; then 421 4.7.0 follows unasked.
  auto r = c.Command("BOGUS3");
  ASSERT_TRUE(r) << c.error();
  if (r->code == 500) r = c.ReadReply(5s);
  EXPECT_TRUE(ReplyIs(r, "421 4.7.0"));
  EXPECT_TRUE(c.WaitClosed(5s)) << "connection still open after 421";
}

TEST_F(SmtpSessionTest, IdlePastCommandTimeoutGets421) {
  GatewayOptions o = DefaultOptions();
  o.command_timeout = "1s";
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  auto t0 = Clock::now();
  auto r = c.ReadReply(10s);
  auto waited = std::chrono::duration_cast<Millis>(Clock::now() - t0);
  EXPECT_TRUE(ReplyIs(r, "421 4.4.2"));
  EXPECT_GE(waited.count(), 900) << "timed out early";
  EXPECT_TRUE(c.WaitClosed(5s)) << "connection still open after 421";
  // A session that sends something in time is not cut off.
  SmtpClient busy;
  ASSERT_TRUE(OpenSession(busy, port()));
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(400ms);  // pacing the client, not an assertion
    EXPECT_TRUE(ReplyIs(busy.Command("NOOP"), "250"));
  }
}

TEST_F(SmtpSessionTest, TooManyConnectionsPerIpGets421) {
  GatewayOptions o = DefaultOptions();
  o.max_connections_per_ip = 3;
  ASSERT_TRUE(StartGateway(o));
  std::vector<std::unique_ptr<SmtpClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<SmtpClient>());
    ASSERT_TRUE(OpenSession(*open.back(), port()));
  }
  SmtpClient extra;
  ASSERT_TRUE(extra.Connect(port())) << extra.error();
  EXPECT_TRUE(ReplyIs(extra.ReadReply(), "421 4.7.0"));
  EXPECT_TRUE(extra.WaitClosed(5s));
  // When one leaves, a new connection is served again.
  EXPECT_TRUE(ReplyIs(open[0]->Command("QUIT"), "221"));
  EXPECT_TRUE(open[0]->WaitClosed(5s));
  bool served = PollUntil(
      [&] {
        SmtpClient again;
        return again.Connect(port()) && ReplyIs(again.ReadReply(), "220");
      },
      5s);
  EXPECT_TRUE(served) << "no 220 after a slot was freed";
}

TEST_F(SmtpSessionTest, TooManyConnectionsGets421) {
  GatewayOptions o = DefaultOptions();
  o.max_connections = 2;
  ASSERT_TRUE(StartGateway(o));
  SmtpClient a, b, extra;
  ASSERT_TRUE(OpenSession(a, port()));
  ASSERT_TRUE(OpenSession(b, port()));
  ASSERT_TRUE(extra.Connect(port())) << extra.error();
  EXPECT_TRUE(ReplyIs(extra.ReadReply(), "421 4.7.0"));
  EXPECT_TRUE(extra.WaitClosed(5s));
}

TEST_F(SmtpSessionTest, PipelinedTransactionsWork) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(c.Connect(port())) << c.error();
  ASSERT_TRUE(ReplyIs(c.ReadReply(), "220"));
  ASSERT_TRUE(
      c.Send("EHLO pipe.test\r\nMAIL FROM:<sender@client.test>\r\nRCPT TO:<user@example.com>\r\n"
             "RCPT TO:<foreign@foreign.test>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n"));
  auto ehlo = c.ReadReply();
  ASSERT_TRUE(ReplyIs(ehlo, "250"));
  EXPECT_NE(ehlo->text().find("PIPELINING"), std::string::npos) << *ehlo;
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "554 5.7.1"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250"));
  ASSERT_TRUE(ReplyIs(c.ReadReply(), "354"));
  // End of data, then the next transaction's envelope, in one write (RFC 2920 3.1).
  std::string first = SimpleMessage("pipelined-1", ".dot\r\nbody one\r\n");
  std::string second = SimpleMessage("pipelined-2", "body two\r\n");
  ASSERT_TRUE(c.Send(DotStuff(first) + ".\r\nMAIL FROM:<s2@client.test>\r\n" +
                     "RCPT TO:<user2@example.com>\r\nDATA\r\n"));
  auto q1 = c.ReadReply();
  ASSERT_TRUE(ReplyIs(q1, "250 2.0.0 Ok: queued as "));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "250"));
  ASSERT_TRUE(ReplyIs(c.ReadReply(), "354"));
  ASSERT_TRUE(c.Send(DotStuff(second) + ".\r\nQUIT\r\n"));
  auto q2 = c.ReadReply();
  ASSERT_TRUE(ReplyIs(q2, "250 2.0.0 Ok: queued as "));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "221"));
  EXPECT_NE(QueueIdFromReply(*q1), QueueIdFromReply(*q2));

  auto m1 = AwaitDelivery("pipelined-1");
  auto m2 = AwaitDelivery("pipelined-2");
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(SplitFirstReceived(m1->data).value_or(SplitReceived{}).rest, first);
  EXPECT_EQ(SplitFirstReceived(m2->data).value_or(SplitReceived{}).rest, second);
  EXPECT_EQ(m2->mail_from, "s2@client.test");
  EXPECT_EQ(m2->rcpt_to, std::vector<std::string>{"user2@example.com"});
}

}  // namespace
}  // namespace sw::it

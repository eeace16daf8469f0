// End-to-end relay through the real daemon: byte-exact delivery, big messages, dead destinations,
// SIGTERM. Fails with the gateway's log dumped by the fixture (GatewayTest::TearDown).
#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

// Compares without printing megabytes: sizes and the first differing offset.
::testing::AssertionResult SameBytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto excerpt = [&](const std::string& s) {
    size_t from = i >= 40 ? i - 40 : 0;
    std::string e = s.substr(from, 80);
    std::string out;
    for (unsigned char c : e) {
      if (c == '\r')
        out += "\\r";
      else if (c == '\n')
        out += "\\n";
      else if (c < 32 || c >= 127)
        out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
      else
        out.push_back(static_cast<char>(c));
    }
    return out;
  };
  return ::testing::AssertionFailure()
         << "got " << got.size() << " bytes, want " << want.size() << "; first difference at " << i
         << "\n  got:  ..." << excerpt(got) << "\n  want: ..." << excerpt(want);
}

// Checks one delivered copy against what the client sent (unstuffed, CRLF).
void ExpectDeliveredExactly(const SinkMessage& m, const std::string& sent, const std::string& id) {
  EXPECT_EQ(m.data.rfind("Received: from ", 0), 0u) << "first line: " << m.data.substr(0, 80);
  auto split = SplitFirstReceived(m.data);
  ASSERT_TRUE(split) << "no leading Received header";
  EXPECT_NE(split->received.find(id), std::string::npos)
      << "Received header lacks queue ID " << id << ": " << split->received;
  EXPECT_TRUE(SameBytes(split->rest, sent));
  EXPECT_EQ(CountHeaderFields(m.data, "Received"), CountHeaderFields(sent, "Received") + 1);
  EXPECT_EQ(m.raw, DotStuff(m.data)) << "relay did not dot-stuff exactly (RFC 5321 4.5.2)";
  EXPECT_FALSE(HasBareLf(m.raw));
}

std::string EightBitBody() {
  std::string body =
      "Gr\xc3\xbc\xc3\x9f"
      "e aus K\xc3\xb6ln (UTF-8), Gr\xfc\xdf"
      "e (Latin-1)\r\n";
  std::string all;
  for (int b = 1; b < 256; ++b)
    if (b != '\r' && b != '\n') all.push_back(static_cast<char>(b));
  body += all + "\r\n";
  body += "\xff\xfe\x80 starts with high bytes\r\n";
  body += ".\xe2\x82\xac dot then euro sign\r\n";
  return body;
}

TEST_F(GatewayTest, DeliversByteExactApartFromReceived) {
  ASSERT_TRUE(StartGateway());
  struct Case {
    std::string marker;
    Envelope env;
    std::string data;
    std::string want_param;  // a MAIL parameter the relay must pass on ("" none)
  };
  std::vector<Case> cases;
  cases.push_back({"exact-plain",
                   {"sender@client.test", {"user@example.com"}, ""},
                   SimpleMessage("exact-plain",
                                 "Hello, world.\r\n\r\ntrailing space \r\n\ttab-indented\r\n"
                                 "   \r\n" +
                                     std::string(996, 'x') + "\r\nlast line\r\n"),
                   ""});
  cases.push_back({"exact-dots",
                   {"sender@client.test", {"user@example.com"}, ""},
                   SimpleMessage("exact-dots",
                                 ".leading dot\r\n..two dots\r\n.\r\n...\r\n. space\r\n"
                                 "x.\r\n.\r\n"),
                   ""});
  cases.push_back({"exact-8bit",
                   {"sender@client.test", {"user@example.com"}, " BODY=8BITMIME"},
                   SimpleMessage("exact-8bit", EightBitBody()),
                   "BODY=8BITMIME"});
  cases.push_back({"exact-utf8",
                   {"j\xc3\xb6rg@b\xc3\xbc"
                    "cher.test",
                    {"m\xc3\xbcller@example.com"},
                    " SMTPUTF8"},
                   "From: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc"
                   "cher.test>\r\n"
                   "To: <m\xc3\xbcller@example.com>\r\n"
                   "Subject: Gr\xc3\xbc\xc3\x9f"
                   "e exact-utf8\r\n"
                   "Message-ID: <exact-utf8@client.test>\r\n\r\n"
                   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e body\r\n",
                   "SMTPUTF8"});
  cases.push_back({"exact-hops",
                   {"sender@client.test", {"user@example.com", "other@example.com"}, ""},
                   "Received: from a.test by b.test; Fri, 27 Nov 2026 09:00:00 +0000\r\n"
                   "Received: from c.test\r\n\tby d.test; Fri, 27 Nov 2026 08:00:00 +0000\r\n" +
                       SimpleMessage("exact-hops", "two earlier hops\r\n"),
                   ""});
  cases.push_back({"exact-nobody",
                   {"sender@client.test", {"user@example.com"}, ""},
                   "Subject: exact-nobody\r\n",
                   ""});

  std::vector<std::string> ids;
  for (const auto& c : cases) {
    SendResult r = SendMessage(port(), c.env, c.data);
    ASSERT_TRUE(r.accepted) << c.marker << ": " << r.error;
    ASSERT_FALSE(r.queue_id.empty()) << c.marker << ": " << r.replies.back();
    ids.push_back(r.queue_id);
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].marker);
    const auto& c = cases[i];
    EXPECT_TRUE(gw_->log().Find(QueuedRe(ids[i])));
    auto m = AwaitDelivery(c.marker);
    ASSERT_TRUE(m) << "not delivered; sink has " << sink_.count() << " messages";
    ExpectDeliveredExactly(*m, c.data, ids[i]);
    EXPECT_EQ(m->mail_from, c.env.from);
    std::vector<std::string> rcpts;
    for (const auto& d : sink_.MessagesContaining(c.marker))
      rcpts.insert(rcpts.end(), d.rcpt_to.begin(), d.rcpt_to.end());
    std::sort(rcpts.begin(), rcpts.end());
    std::vector<std::string> want = c.env.to;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(rcpts, want);
    if (!c.want_param.empty()) {
      EXPECT_NE(m->mail_params.find(c.want_param), std::string::npos)
          << "MAIL FROM params at the destination: '" << m->mail_params << "'";
    }
    EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(ids[i]), 5s)) << "no event=delivered id=" << ids[i];
  }
}

TEST_F(GatewayTest, SwaksMessageDeliveredByteExact) {
  ASSERT_TRUE(StartGateway());
  std::string file = dir_.File("swaks.eml");
  // swaks turns LF into CRLF, dot-stuffs and appends "\r\n.\r\n" (so no final newline here).
  ASSERT_TRUE(WriteFile(file,
                        "From: <s@client.test>\nTo: <user@example.com>\nSubject: swaks-exact\n"
                        "Message-ID: <swaks-exact@client.test>\n\n.leading dot\nbody"));
  SwaksResult r = RunSwaks(
      port(),
      {"--from", "s@client.test", "--to", "user@example.com", "--data", "@" + file, "--pipeline"},
      dir_.path());
  ASSERT_TRUE(r.status && r.status->exited && r.status->code == 0) << r.output;
  ASSERT_FALSE(r.queue_id.empty()) << r.output;
  auto m = AwaitDelivery("swaks-exact");
  ASSERT_TRUE(m);
  ExpectDeliveredExactly(
      *m,
      "From: <s@client.test>\r\nTo: <user@example.com>\r\nSubject: swaks-exact"
      "\r\nMessage-ID: <swaks-exact@client.test>\r\n\r\n.leading dot\r\nbody\r\n",
      r.queue_id);
}

TEST_F(GatewayTest, TwentyMebibyteMessageArrivesIntact) {
  GatewayOptions o = DefaultOptions();
  o.max_message_size = 32ull * 1024 * 1024;
  o.data_timeout = "60s";
  o.delivery_command_timeout = "60s";
  ASSERT_TRUE(StartGateway(o));
  std::string data = SimpleMessage("big-20mib", FillerBody(20u * 1024 * 1024, 20));
  SendResult r = SendMessage(port(), {"sender@client.test", {"user@example.com"}, ""}, data, 90s);
  ASSERT_TRUE(r.accepted) << r.error;
  auto m = AwaitDelivery("big-20mib", 90s);
  ASSERT_TRUE(m) << "20 MiB message not delivered";
  ExpectDeliveredExactly(*m, data, r.queue_id);
}

TEST_F(GatewayTest, DestinationDownThenUp) {
  ClosedPort reserved;
  uint16_t down_port = reserved.port();
  ASSERT_NE(down_port, 0);
  GatewayOptions o = DefaultOptions();
  o.domains.push_back(
      {"down.test", {"[127.0.0.1]:" + std::to_string(down_port)}, {}, "opportunistic"});
  ASSERT_TRUE(StartGateway(o));
  std::string data = SimpleMessage("down-then-up");
  std::string id = SendOk({"sender@client.test", {"user@down.test"}, ""}, data);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(gw_->log().WaitFor(DeferredRe(id), 15s)) << "no event=deferred for " << id;
  TestSmtpServer late;
  std::string error;
  ASSERT_TRUE(late.Start(down_port, &error)) << error;
  // retry_interval and probe_interval are 1s: a few intervals, with room for a busy machine.
  auto m = late.WaitForMessageContaining("down-then-up", 15s);
  ASSERT_TRUE(m) << "not delivered after the destination came up";
  ExpectDeliveredExactly(*m, data, id);
  EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(id), 5s));
  late.Stop();
}

TEST_F(GatewayTest, SigtermExitsZero) {
  ASSERT_TRUE(StartGateway());
  std::string id =
      SendOk({"sender@client.test", {"user@example.com"}, ""}, SimpleMessage("before-sigterm"));
  ASSERT_TRUE(AwaitDelivery("before-sigterm"));
  SmtpClient idle;
  ASSERT_TRUE(idle.Open(port())) << idle.error();
  ASSERT_EQ(idle.Command("EHLO idle.test")->code, 250);
  ASSERT_TRUE(gw_->process().Signal(SIGTERM));
  auto bye = idle.ReadReply(10s);
  ASSERT_TRUE(bye) << "idle session got nothing after SIGTERM: " << idle.error();
  EXPECT_EQ(bye->last().rfind("421 4.3.2", 0), 0u) << *bye;
  EXPECT_TRUE(idle.WaitClosed(5s));
  auto st = gw_->process().Wait(35s);
  ASSERT_TRUE(st) << "still running 35 s after SIGTERM";
  EXPECT_TRUE(st->exited && st->code == 0) << st->ToString();
}

TEST_F(GatewayTest, SigtermLetsTransactionInFlightFinish) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(c.Open(port())) << c.error();
  ASSERT_EQ(c.Command("EHLO inflight.test")->code, 250);
  ASSERT_EQ(c.Command("MAIL FROM:<sender@client.test>")->code, 250);
  ASSERT_EQ(c.Command("RCPT TO:<user@example.com>")->code, 250);
  ASSERT_EQ(c.Command("DATA")->code, 354);
  std::string data = SimpleMessage("inflight-sigterm", "first half\r\n");
  ASSERT_TRUE(c.Send(data));
  ASSERT_TRUE(gw_->process().Signal(SIGTERM));
  // Give the daemon a moment to act on the signal; this is not an assertion.
  PollUntil([&] { return gw_->log().Find("event=stop").has_value(); }, 2s);
  ASSERT_TRUE(c.Send("second half\r\n.\r\n"));
  auto r = c.ReadReply(20s);
  ASSERT_TRUE(r) << c.error();
  std::string id = QueueIdFromReply(*r);
  EXPECT_FALSE(id.empty()) << "transaction in flight at SIGTERM not accepted: " << *r;
  auto st = gw_->process().Wait(35s);
  ASSERT_TRUE(st) << "still running 35 s after SIGTERM";
  EXPECT_TRUE(st->exited && st->code == 0) << st->ToString();
  if (id.empty()) return;
  // Delivered before the exit, or after a restart on the same queue.
  if (!sink_.WaitForMessageContaining("inflight-sigterm", 1s)) {
    ASSERT_TRUE(gw_->Start());
  }
  auto m = AwaitDelivery("inflight-sigterm");
  ASSERT_TRUE(m);
  ExpectDeliveredExactly(*m, data + "second half\r\n", id);
}

}  // namespace
}  // namespace sw::it

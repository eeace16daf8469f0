// Header injection through the live gateway: HELO/EHLO arguments and address literals carrying
// CR, LF, NUL or other controls get 501 5.5.4 / 501 5.1.3 (or are cut at the line end), remote
// replies quoted in a DSN are sanitised, and random sessions never deliver a line that does not
// end in CRLF or a Received header holding a control byte. Fails with the case and the message.
#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

using namespace std::string_literals;

// The header section of delivered data (up to the blank line).
std::string Headers(const std::string& data) {
  size_t end = data.find("\r\n\r\n");
  return end == std::string::npos ? data : data.substr(0, end + 2);
}

// True if some header line starts with `name:` (case-insensitive).
bool HasField(const std::string& headers, const std::string& name) {
  std::string lower;
  for (char c : headers) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string want = name + ":";
  for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t pos = 0; pos < lower.size();) {
    if (lower.compare(pos, want.size(), want) == 0) return true;
    size_t nl = lower.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return false;
}

// Our Received header: the first field of the delivered data, folds included.
std::string OurReceived(const std::string& data) {
  size_t end = 0;
  do {
    size_t eol = data.find("\r\n", end);
    if (eol == std::string::npos) return data;
    end = eol + 2;
  } while (end < data.size() && data[end] == '\t');
  return data.substr(0, end);
}

// No byte below 0x20 or DEL, but CRLF line ends and the TAB that starts a fold.
::testing::AssertionResult NoControlBytes(const std::string& field) {
  for (size_t i = 0; i < field.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(field[i]);
    if (c == '\r' && i + 1 < field.size() && field[i + 1] == '\n') continue;
    if (c == '\n' && i > 0 && field[i - 1] == '\r') continue;
    if (c == '\t' && i > 0 && field[i - 1] == '\n') continue;
    if (c < 0x20 || c == 0x7f)
      return ::testing::AssertionFailure() << "control byte " << int(c) << " at " << i;
  }
  return ::testing::AssertionSuccess();
}

struct InjectionCase {
  std::string line;        // sent with CRLF after it
  std::string must_reply;  // the first reply must start with this; empty: any, then checked
};

TEST_F(GatewayTest, HeloInjectionIsRefusedAndNeverReachesTheDestination) {
  ASSERT_TRUE(StartGateway());
  const InjectionCase cases[] = {
      {"EHLO x\rX-Injected: yes", "501 5.5.4"},
      {"HELO x\rX-Injected: yes", "501 5.5.4"},
      {"EHLO x\r\rX-Injected: yes", "501 5.5.4"},
      {"EHLO [127.0.0.1]\rX-Injected: yes", "501 5.5.4"},
      {"EHLO x X-Injected: yes", "501 5.5.4"},
      {"EHLO x\tX-Injected:yes", "501 5.5.4"},
      {"EHLO x\x0bX-Injected: yes", "501 5.5.4"},
      {"EHLO x\x1b[2JX-Injected: yes", "501 5.5.4"},
      {"EHLO x\xc2\x85X-Injected: yes", "501 5.5.4"},      // NEL
      {"EHLO x\xe2\x80\xa8X-Injected: yes", "501 5.5.4"},  // U+2028
      {"EHLO x\xffX-Injected: yes", "501 5.5.4"},
      {"EHLO x\0X-Injected: yes"s, "500 5.5.2"},  // NUL in a command
      {"EHLO x\nX-Injected: yes", ""},            // LF ends the command: "EHLO x", then junk
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "case " << n << ": " << ::testing::PrintToString(c.line));
    const std::string marker = "helo-injection-" + std::to_string(n++);
    SmtpClient client;
    ASSERT_TRUE(client.Open(port()));
    ASSERT_TRUE(client.Send(c.line + "\r\n"));
    auto first = client.ReadReply();
    ASSERT_TRUE(first) << client.error();
    if (!c.must_reply.empty()) {
      EXPECT_TRUE(ReplyIs(first, c.must_reply));
    }
    if (first->code == 250) {  // the name before the LF: the junk line gets its own reply
      EXPECT_TRUE(ReplyIs(client.ReadReply(), "500 5.5.1"));
    } else {
      ASSERT_TRUE(ReplyIs(client.Command("EHLO fallback.test"), "250"));
    }
    ASSERT_TRUE(ReplyIs(client.Command("MAIL FROM:<a@client.test>"), "250"));
    ASSERT_TRUE(ReplyIs(client.Command("RCPT TO:<u@example.com>"), "250"));
    ASSERT_TRUE(ReplyIs(client.Command("DATA"), "354"));
    ASSERT_TRUE(ReplyIs(client.Command("Subject: " + marker + "\r\n\r\nbody\r\n."), "250"));
    client.Command("QUIT");
    auto m = AwaitDelivery(marker);
    ASSERT_TRUE(m) << "not delivered";
    EXPECT_FALSE(HasField(Headers(m->data), "X-Injected")) << m->data;
    EXPECT_FALSE(HasBareCr(m->raw)) << m->raw;
    EXPECT_FALSE(HasBareLf(m->raw)) << m->raw;
    EXPECT_TRUE(NoControlBytes(OurReceived(m->data))) << m->data;
    EXPECT_EQ(
        m->data.rfind(first->code == 250 ? "Received: from x (" : "Received: from fallback", 0), 0u)
        << m->data;
  }
  EXPECT_TRUE(gw_->log().WaitFor("event=reject\\b.*reason=\"invalid helo name\"", 2s));
}

TEST_F(GatewayTest, AddressLiteralWithControlsIs501) {
  ASSERT_TRUE(StartGateway());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<a@[192.0.2.1\rX-Injected: yes]>"), "501 5.1.3"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<a@[192.0.2.1\x01]>"), "501 5.1.3"));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<a@[192.0.2.1]>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<u@[1\rRCPT TO:<v@example.com>]>"), "501 5."));
}

// A destination whose 5xx reply carries controls and a bare CR: the DSN quotes it as text.
TEST_F(GatewayTest, RemoteReplyQuotedInADsnIsSanitised) {
  TestSmtpServer dsn_sink;
  ASSERT_TRUE(dsn_sink.Start(0));
  sink_.set_rcpt_policy([](const std::string& a) {
    return a == "bad@example.com"
               ? "550 5.1.1 <bad@example.com>: no\x01such\x1b[31m user\rX-Injected: yes\x7f"s
               : ""s;
  });
  GatewayOptions o = DefaultOptions();
  o.outbound_relay = "[127.0.0.1]:" + std::to_string(dsn_sink.port());
  ASSERT_TRUE(StartGateway(o));
  Envelope env;
  env.from = "alice@example.net";
  env.to = {"good@example.com", "bad@example.com"};
  SendOk(env, "Subject: dsn-sanitised\r\n\r\nbody\r\n");
  ASSERT_TRUE(AwaitDelivery("dsn-sanitised"));
  auto dsn = dsn_sink.WaitForMessageContaining("bad@example.com", 20s);
  ASSERT_TRUE(dsn) << "no DSN at the outbound relay";
  EXPECT_FALSE(HasBareCr(dsn->raw)) << dsn->raw;
  EXPECT_FALSE(HasBareLf(dsn->raw)) << dsn->raw;
  EXPECT_NE(dsn->data.find("Diagnostic-Code: smtp; 550 5.1.1 <bad@example.com>: no?such?[31m "
                           "user?X-Injected: yes?\r\n"),
            std::string::npos)
      << dsn->data;
  // Outside the returned original headers, nothing but text, CRLF and folds.
  size_t at = dsn->data.find("text/rfc822-headers");
  ASSERT_NE(at, std::string::npos);
  EXPECT_TRUE(NoControlBytes(dsn->data.substr(0, at))) << dsn->data;
  dsn_sink.Stop();
}

// Random bytes in HELO, MAIL and RCPT arguments and DATA: whatever is accepted is delivered with
// CRLF lines only and a clean Received header.
std::string RandomBytes(std::mt19937& rng, size_t max) {
  static const std::string pieces[] = {"\r",          "\n",       "\0"s,  "\t", "\x7f",
                                       "\x1b",        "\xc2\x85", "\xff", " ",  "X-Injected: yes",
                                       "\r\n.\r\n",   "\n.\n",    "[",    "]",  "@",
                                       "example.com", "_",        "-",    ".",  "x"};
  std::string s;
  for (size_t n = rng() % (max + 1); n > 0; --n) {
    if (rng() % 4 == 0)
      s.push_back(static_cast<char>(rng() % 256));
    else
      s += pieces[rng() % std::size(pieces)];
  }
  return s;
}

TEST_F(GatewayTest, RandomSessionsDeliverOnlyCrlfLinesAndACleanReceivedHeader) {
  ASSERT_TRUE(StartGateway());
  std::mutex mu;
  std::vector<std::string> markers;  // of the accepted messages
  std::vector<std::string> failures;
  auto worker = [&](int t) {
    std::mt19937 rng(4242 + t);
    for (int k = 0; k < 20; ++k) {
      const std::string marker = "random-written-" + std::to_string(t) + "-" + std::to_string(k);
      SmtpClient c;
      if (!c.Open(port())) {
        std::lock_guard lk(mu);
        failures.push_back("no greeting for " + marker);
        return;
      }
      std::string helo = rng() % 2 ? RandomBytes(rng, 8) : "client" + RandomBytes(rng, 1);
      std::string from = rng() % 2 ? "a" + RandomBytes(rng, 3) + "@client.test" : "a@client.test";
      std::string to = rng() % 2 ? "u" + RandomBytes(rng, 3) + "@example.com" : "u@example.com";
      // Pipelined in one write, the way a hostile client would; the fallback EHLO only counts
      // when the random one was refused.
      std::string session = "EHLO " + helo + "\r\nEHLO fallback.test\r\nRSET\r\nEHLO " + helo +
                            "\r\nMAIL FROM:<" + from + ">\r\nRCPT TO:<" + to + ">\r\n";
      c.Send(session);
      c.Send("DATA\r\n");
      c.Send("X-Marker: " + marker + "\r\n" + RandomBytes(rng, 30) + "\r\n.\r\nQUIT\r\n");
      while (auto r = c.ReadReply(3s)) {
        if (!QueueIdFromReply(*r).empty()) {
          std::lock_guard lk(mu);
          markers.push_back(marker);
        }
        if (r->code == 221) break;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(markers.size(), 20u) << "too few transactions got through";
  ASSERT_TRUE(sink_.WaitForCount(markers.size(), 30s))
      << "accepted " << markers.size() << ", delivered " << sink_.count();
  for (const auto& m : sink_.Messages()) {
    EXPECT_FALSE(HasBareCr(m.raw)) << m.raw;
    EXPECT_FALSE(HasBareLf(m.raw)) << m.raw;
    EXPECT_EQ(m.data.rfind("Received: from ", 0), 0u) << m.data;
    EXPECT_TRUE(NoControlBytes(OurReceived(m.data))) << m.data;
  }
}

}  // namespace
}  // namespace sw::it

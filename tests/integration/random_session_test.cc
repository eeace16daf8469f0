// Random SMTP sessions against the live gateway: grammar pieces, garbage, overlong lines, bare
// CR/LF, pipelined bursts, abrupt closes. Fails naming the session that broke an invariant.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness/gateway_process.h"
#include "harness/smtp_client.h"

namespace sw::it {
namespace {

const char* const kPieces[] = {"EHLO client.test",
                               "HELO x",
                               "MAIL FROM:<a@client.test>",
                               "MAIL FROM:<>",
                               "MAIL FROM:<a@client.test> SIZE=99999999999",
                               "RCPT TO:<u@example.com>",
                               "RCPT TO:<u@evil.test>",
                               "RCPT TO:<alice@listed.test>",
                               "RCPT TO:<carol@listed.test>",
                               "RCPT TO:<u@[127.0.0.1]>",
                               "RCPT TO:<u@example.com.evil.test>",
                               "RCPT TO:<\"a b\"@example.com>",
                               "DATA",
                               "RSET",
                               "NOOP",
                               "VRFY u",
                               "HELP",
                               "STARTTLS",
                               "BDAT 10 LAST",
                               "AUTH PLAIN AAAA",
                               "EXPN list",
                               "QUIT",
                               "Subject: x",
                               "X-Line: y",
                               ".",
                               "..",
                               "",
                               "\x01\x02\x7f\xff",
                               "MAIL FROM:<a@client.test",
                               "RCPT TO:u@example.com",
                               "mail from:<A@CLIENT.TEST>"};

// Half the sessions are a transaction (EHLO, MAIL, RCPTs, DATA, a body with smuggling-like
// sequences, the end) with random pieces mixed in; the rest are random pieces only.
std::string RandomTransaction(std::mt19937& rng) {
  static const char* rcpts[] = {"u@example.com",     "u@evil.test",   "alice@listed.test",
                                "carol@listed.test", "u@[127.0.0.1]", "u@example.com.evil.test"};
  std::string s = "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n";
  for (size_t i = 1 + rng() % 3; i > 0; --i)
    s += std::string("RCPT TO:<") + rcpts[rng() % 6] + ">\r\n";
  s += "DATA\r\nSubject: random\r\n\r\nbody " + std::to_string(rng()) + "\r\n";
  static const char* inner[] = {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "..\r\n", "x\n"};
  for (size_t i = rng() % 3; i > 0; --i) s += inner[rng() % 6];
  s += "RCPT TO:<u@evil.test>\r\n";  // inside the data: text, not a command
  if (rng() % 4) s += "\r\n.\r\n";
  return s;
}

std::string RandomSession(std::mt19937& rng) {
  std::string s = rng() % 2 ? RandomTransaction(rng) : "";
  size_t n = rng() % 8;
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 10) {
      case 0:
        s += std::string(400 + rng() % 800, 'x');  // overlong line
        break;
      case 1: {
        static const char* smuggle[] = {"\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r\n"};
        s += smuggle[rng() % 5];
        continue;
      }
      default:
        s += kPieces[rng() % (sizeof kPieces / sizeof *kPieces)];
    }
    static const char* eol[] = {"\r\n", "\r\n", "\r\n", "\n", "\r"};
    s += eol[rng() % 5];
  }
  return s;
}

TEST_F(GatewayTest, RandomSessionsNeverCrashRelayOrGarbleReplies) {
  ASSERT_TRUE(StartGateway());
  const std::regex reply_line("^[2-5][0-9][0-9][ -].*");
  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> replies{0};
  auto worker = [&](int t) {
    std::mt19937 rng(1127 + t);
    for (int k = 0; k < 25; ++k) {
      std::string session = RandomSession(rng);
      SmtpClient c;
      if (!c.Open(port())) {
        std::lock_guard lk(mu);
        failures.push_back("no 220 greeting before session " + std::to_string(t) + "/" +
                           std::to_string(k));
        return;
      }
      // In one to three writes, then whatever comes back within a short wait.
      size_t cut1 = rng() % (session.size() + 1), cut2 = cut1 + rng() % (session.size() - cut1 + 1);
      c.Send(session.substr(0, cut1));
      c.Send(session.substr(cut1, cut2 - cut1));
      c.Send(session.substr(cut2));
      while (auto r = c.ReadReply(rng() % 2 ? 150ms : 20ms)) {
        ++replies;
        for (const auto& line : r->lines) {
          if (r->bare_lf || !std::regex_match(line, reply_line)) {
            std::lock_guard lk(mu);
            failures.push_back("bad reply line `" + line + "` in session " + std::to_string(t) +
                               "/" + std::to_string(k));
          }
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(replies.load(), 200);

  // Still serving, and nothing left for a domain it does not serve.
  ASSERT_TRUE(gw_->running());
  Envelope env;
  env.from = "a@client.test";
  env.to = {"u@example.com"};
  SendOk(env, "Subject: after chaos\r\n\r\nafter-random-sessions\r\n");
  ASSERT_TRUE(AwaitDelivery("after-random-sessions", 20s));
  EXPECT_GT(sink_.Messages().size(), 20u);  // the transactions did get through
  for (const auto& m : sink_.Messages())
    for (const auto& rcpt : m.rcpt_to) {
      bool ours = rcpt.size() > 12 && rcpt.compare(rcpt.size() - 12, 12, "@example.com") == 0;
      ours = ours || rcpt == "alice@listed.test";
      EXPECT_TRUE(ours) << "relayed to " << rcpt;
    }
}

}  // namespace
}  // namespace sw::it

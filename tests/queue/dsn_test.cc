// Tests the DSN text: its parts, the sanitised addresses and remote replies, and the returned
// header section cut only at line ends. Fails naming the line that broke the rule.
#include "queue/dsn.h"

#include <gtest/gtest.h>

#include <string>

namespace sw::queue {
namespace {

using namespace std::string_literals;

DsnInput Input(const std::string* original) {
  DsnInput in;
  in.hostname = "mx.example.net";
  in.queue_id = "00062F6A3C1B2D40";
  in.sender = "alice@example.net";
  in.arrival_ms = 1'700'000'000'000;
  in.recipients = {{"bad@example.com", "5.1.1", "550 5.1.1 <bad@example.com>: no such user",
                    "mail.example.com"}};
  in.original = original;
  return in;
}

TEST(Dsn, ReportsEachRecipientAndReturnsTheHeaders) {
  const std::string original = "Subject: hello\r\nFrom: alice@example.net\r\n\r\nbody\r\n";
  std::string dsn = BuildDsn(Input(&original));
  EXPECT_NE(dsn.find("To: <alice@example.net>\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("<bad@example.com>: 550 5.1.1 <bad@example.com>: no such user\r\n"),
            std::string::npos);
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; bad@example.com\r\nAction: failed\r\n"
                     "Status: 5.1.1\r\nRemote-MTA: dns; mail.example.com\r\n"
                     "Diagnostic-Code: smtp; 550 5.1.1 <bad@example.com>: no such user\r\n"),
            std::string::npos)
      << dsn;
  EXPECT_NE(dsn.find("Subject: hello\r\nFrom: alice@example.net\r\n"), std::string::npos);
  EXPECT_EQ(dsn.find("body"), std::string::npos);
}

TEST(Dsn, RemoteTextCannotBreakALine) {
  DsnInput in = Input(nullptr);
  in.sender = "alice\r\nBcc: x@evil.test@example.net";
  in.recipients[0].address = "bad\r@example.com";
  in.recipients[0].status = "5.1.1\r\nX-Injected: yes";
  in.recipients[0].diagnostic =
      "550 no\x01such\x1b[31m user\rX-Injected: yes\x7f\0"s + std::string(3000, 'x');
  in.recipients[0].remote_mta = "mx\n.\n";
  std::string dsn = BuildDsn(in);
  size_t start = 0;
  while (start < dsn.size()) {
    size_t eol = dsn.find("\r\n", start);
    ASSERT_NE(eol, std::string::npos) << "last line without CRLF";
    std::string_view line(dsn.data() + start, eol - start);
    EXPECT_LE(line.size(), 998u) << line.substr(0, 80);
    for (size_t i = 0; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      bool fold = c == '\t' && i == 0;
      EXPECT_FALSE((c < 0x20 || c == 0x7f) && !fold) << "byte " << int(c) << " in " << line;
    }
    EXPECT_NE(line.rfind("X-Injected", 0), 0u);
    EXPECT_NE(line.rfind("Bcc", 0), 0u);
    start = eol + 2;
  }
  EXPECT_NE(dsn.find("Diagnostic-Code: smtp; 550 no?such?[31m user?X-Injected: yes??xxx"),
            std::string::npos);
}

TEST(Dsn, HeaderSectionCutsOnlyAfterAWholeLine) {
  EXPECT_EQ(HeaderSection("A: 1\r\nB: 2\r\n\r\nbody\r\n"), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(HeaderSection("A: 1\r\n"), "A: 1\r\n");
  // No blank line and over 64 KiB: whole lines only, never a CR without its LF.
  std::string big;
  while (big.size() < 70000) big += "X-Long: " + std::string(90, 'a') + "\r\n";
  for (size_t shift = 0; shift < 4; ++shift) {
    std::string m = std::string(shift, 'p') + big;
    std::string h = HeaderSection(m);
    ASSERT_LE(h.size(), 65536u);
    ASSERT_GE(h.size(), 65536u - 200);
    ASSERT_EQ(h.substr(h.size() - 2), "\r\n");
    ASSERT_EQ(m.compare(0, h.size(), h), 0);
  }
  EXPECT_EQ(HeaderSection(std::string(70000, 'a')), "");
}

}  // namespace
}  // namespace sw::queue

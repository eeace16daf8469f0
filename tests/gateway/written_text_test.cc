// Randomized property over what a session makes of its input: random HELO bytes, MAIL/RCPT
// arguments, DATA bytes, scanner header edits and remote replies go the way the session takes
// them (ParseHelo, ParseMail/ParseRcpt, DataReader, our Received header, ApplyHeaderChanges, the
// wire form, a DSN). Every line we add holds no control byte (a fold's own TAB aside) and is at
// most 998 octets; every line delivered ends in CRLF. Fails naming the session's input.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/header_text.h"
#include "common/received_header.h"
#include "filters/message_edit.h"
#include "filters/policy.h"
#include "gateway/data_reader.h"
#include "gateway/smtp_command.h"
#include "queue/dsn.h"
#include "routing/smtp_wire.h"

namespace sw::gateway {
namespace {

using namespace std::string_literals;

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  size_t Below(size_t n) { return rng_() % n; }
  // Bytes biased towards what breaks lines and parsers.
  std::string Bytes(size_t max) {
    static const std::string pieces[] = {"\r",
                                         "\n",
                                         "\r\n",
                                         "\0"s,
                                         "\t",
                                         "\x7f",
                                         "\x1b[2J",
                                         "\xff",
                                         "\xc3",
                                         " ",
                                         ".",
                                         "..",
                                         "\r\n.\r\n",
                                         "\n.\n",
                                         "\r.\r",
                                         "[",
                                         "]",
                                         "@",
                                         "<",
                                         ">",
                                         ":",
                                         "IPv6:",
                                         "_",
                                         "-",
                                         "x",
                                         "mail",
                                         "example.com",
                                         "\xc3\xbc",
                                         "\xc2\x85",
                                         "\xe2\x80\xa8",
                                         "X-Injected: yes",
                                         "Received: from"};
    std::string s;
    for (size_t n = Below(max + 1); n > 0; --n) {
      if (Below(4) == 0)
        s.push_back(static_cast<char>(Below(256)));
      else
        s += pieces[Below(std::size(pieces))];
    }
    return s;
  }

 private:
  std::mt19937 rng_;
};

// What a fuzzed session leaves for the checks.
struct Session {
  std::string input;  // for failure messages
  std::string helo = "fallback.test";
  std::string sender = "s@client.test";
  std::string rcpt = "u@example.com";
  bool utf8 = false;
  std::string body;  // as DataReader stored it
};

Session RandomSession(Random& r) {
  Session s;
  // HELO: random bytes or a plausible name with one bad character in it.
  std::string helo = r.Below(2) ? r.Bytes(12) : "mail" + r.Bytes(2) + ".example";
  s.input = "HELO `" + helo + "`";
  if (auto h = ParseHelo(helo); h.value) {
    s.helo = *h.value;
    EXPECT_TRUE(IsHeaderText(s.helo)) << s.input;
    EXPECT_EQ(s.helo.find(' '), std::string::npos) << s.input;
  }
  std::string mail = "FROM:<" + (r.Below(2) ? r.Bytes(10) : "a" + r.Bytes(3)) + "@" +
                     (r.Below(2) ? "client.test" : r.Bytes(6)) + ">" +
                     (r.Below(3) ? "" : " SMTPUTF8");
  std::string rcpt = "TO:<" + (r.Below(2) ? r.Bytes(10) : "u" + r.Bytes(3)) + "@example.com>";
  s.input += " MAIL `" + mail + "` RCPT `" + rcpt + "`";
  if (auto m = ParseMail(mail); m.value) {
    s.sender = m.value->address;
    s.utf8 = m.value->smtputf8;
  }
  if (auto p = ParseRcpt(rcpt); p.value) s.rcpt = p.value->address;
  // DATA: random bytes in random pieces, then the end marker.
  std::string data = r.Bytes(60) + "\r\n.\r\n";
  s.input += " DATA `" + data + "`";
  DataReader reader(1 << 20);
  for (size_t pos = 0; pos < data.size() && !reader.done();) {
    size_t n = 1 + r.Below(data.size() - pos);
    pos += reader.Feed(std::string_view(data).substr(pos, n));
  }
  EXPECT_TRUE(reader.done()) << s.input;
  s.body = reader.body();
  return s;
}

// Every line ends in CRLF: no CR without LF after it, no LF without CR before it, and the text
// ends with CRLF unless empty.
::testing::AssertionResult CrlfLines(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))
      return ::testing::AssertionFailure() << "bare CR at " << i;
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      return ::testing::AssertionFailure() << "bare LF at " << i;
  }
  if (!text.empty() && text.size() < 2) return ::testing::AssertionFailure() << "no CRLF";
  if (!text.empty() && text.compare(text.size() - 2, 2, "\r\n") != 0)
    return ::testing::AssertionFailure() << "last line without CRLF";
  return ::testing::AssertionSuccess();
}

// Lines we wrote: CRLF-ended, at most 998 octets, no control byte but a fold's leading
// whitespace (TAB or spaces at the start of a continuation line).
::testing::AssertionResult CleanLines(const std::string& text) {
  if (auto crlf = CrlfLines(text); !crlf) return crlf;
  size_t start = 0;
  while (start < text.size()) {
    size_t eol = text.find("\r\n", start);
    std::string_view line(text.data() + start, eol - start);
    if (line.size() > 998) return ::testing::AssertionFailure() << "line over 998: " << line;
    size_t i = 0;
    while (i < line.size() && (line[i] == '\t' || line[i] == ' ')) ++i;  // a fold
    for (; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      if (c < 0x20 || c == 0x7f)
        return ::testing::AssertionFailure() << "control byte " << int(c) << " in: " << line;
    }
    start = eol + 2;
  }
  return ::testing::AssertionSuccess();
}

filters::Verdict RandomEdits(Random& r) {
  filters::Verdict v;
  v.scanned = true;
  static const char* names[] = {"X-Spamd-Result", "X-Rspamd-Queue-Id", "Authentication-Results",
                                "X-Spam-Flag", "Bad Name"};
  for (size_t i = r.Below(4); i > 0; --i) v.add_headers.push_back({names[r.Below(5)], r.Bytes(20)});
  std::vector<filters::Symbol> symbols;
  for (size_t i = r.Below(30); i > 0; --i) symbols.push_back({r.Bytes(8), 1.5});
  v.add_headers.push_back(
      {filters::kSpamStatusHeader, filters::SpamStatusValue(true, 7.5, 6, symbols)});
  if (r.Below(2)) v.subject_prefix = "[SPAM]" + r.Bytes(4);
  if (r.Below(4) == 0) v.new_subject = r.Bytes(10);
  return v;
}

TEST(WrittenText, RandomSessionsAddNoControlByteAndDeliverOnlyCrlfLines) {
  Random r(1313);
  int accepted_helos = 0, utf8 = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Session s = RandomSession(r);
    if (s.helo != "fallback.test") ++accepted_helos;
    utf8 += s.utf8;
    ReceivedFields f;
    f.helo = s.helo;
    f.client_ip = "192.0.2.1";
    f.hostname = "mx.example.net";
    f.protocol = s.utf8 ? "UTF8SMTP" : "ESMTP";
    f.id = "00062F6A3C1B2D40";
    f.recipient = s.rcpt;
    f.date = "Mon, 30 Nov 2026 05:50:00 +0000";
    f.utf8 = s.utf8;
    const std::string received = ReceivedHeader(f);
    ASSERT_TRUE(CleanLines(received)) << s.input << "\n" << received;
    const std::string stored = received + s.body;
    ASSERT_TRUE(CrlfLines(stored)) << s.input;

    // Scanner edits: the header lines we insert right after our Received header, and the
    // Subject we write. With a Subject change (or a first line that would fold into our
    // Received header) the client's data stays below a blank line, so every header field is
    // ours; otherwise the client's lines follow ours untouched.
    filters::Verdict v = RandomEdits(r);
    const bool subject = !v.subject_prefix.empty() || !v.new_subject.empty();
    const bool folds = !s.body.empty() && (s.body[0] == ' ' || s.body[0] == '\t');
    const std::string client = (subject || folds ? "\r\n" : "") + s.body;
    const std::string edited = filters::ApplyHeaderChanges(received + client, v);
    ASSERT_TRUE(CrlfLines(edited)) << s.input;
    ASSERT_GE(edited.size(), received.size() + client.size()) << s.input;
    ASSERT_EQ(edited.substr(edited.size() - client.size()), client) << s.input;
    const std::string ours = edited.substr(0, edited.size() - client.size());
    ASSERT_EQ(ours.rfind(received, 0), 0u) << s.input;
    ASSERT_TRUE(CleanLines(ours)) << s.input << "\n" << ours;

    // What the destination gets.
    const std::string wire = routing::wire::DotStuff(edited);
    ASSERT_TRUE(CrlfLines(wire)) << s.input;

    // A DSN quoting a random remote reply, returning the stored header section.
    queue::DsnInput in;
    in.hostname = "mx.example.net";
    in.queue_id = "00062F6A3C1B2D40";
    in.sender = s.sender.empty() ? "a@client.test" : s.sender;
    in.arrival_ms = 1;
    in.recipients = {{s.rcpt, "5.1.1", "550 5.1.1 " + r.Bytes(40), r.Bytes(6)}};
    in.original = &edited;
    const std::string dsn = queue::BuildDsn(in);
    ASSERT_TRUE(CrlfLines(dsn)) << s.input;
    const std::string returned = queue::HeaderSection(edited);
    size_t at = dsn.find("text/rfc822-headers\r\n\r\n");
    ASSERT_NE(at, std::string::npos);
    at += 23;
    ASSERT_EQ(dsn.compare(at, returned.size(), returned), 0) << s.input;
    ASSERT_TRUE(CleanLines(dsn.substr(0, at))) << s.input << "\n" << dsn.substr(0, at);
    ASSERT_TRUE(CleanLines(dsn.substr(at + returned.size()))) << s.input;
  }
  // The generator reaches both sides of each decision.
  EXPECT_GT(accepted_helos, 1000);
  EXPECT_LT(accepted_helos, 19000);
  EXPECT_GT(utf8, 500);
}

}  // namespace
}  // namespace sw::gateway

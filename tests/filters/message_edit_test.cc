// Tests header edits of stored messages: insertion after our Received header, removals by
// index, Subject tagging, value normalisation. Fails with a GoogleTest assertion.
#include "filters/message_edit.h"

#include <gtest/gtest.h>

#include <random>

namespace sw::filters {
namespace {

const std::string kReceived =
    "Received: from client.test ([127.0.0.1])\r\n\tby mx.test (SpamWeeder) with ESMTP id "
    "0123456789ABCDEF; Fri, 27 Nov 2026 20:00:00 +0000\r\n";

std::string Message(const std::string& client_headers, const std::string& body = "Hi.\r\n") {
  return kReceived + client_headers + "\r\n" + body;
}

TEST(MessageEdit, InsertsAfterOurReceivedInOrder) {
  Verdict v;
  v.add_headers = {{"X-Spam-Score", "1.00"}, {"X-Spam-Status", "No, score=1.00"}};
  std::string out = ApplyHeaderChanges(Message("From: a@b\r\nSubject: hi\r\n"), v);
  EXPECT_EQ(out, kReceived +
                     "X-Spam-Score: 1.00\r\nX-Spam-Status: No, score=1.00\r\n"
                     "From: a@b\r\nSubject: hi\r\n\r\nHi.\r\n");
}

TEST(MessageEdit, NothingToDoLeavesTheMessageAlone) {
  std::string m = Message("From: a@b\r\n", "body\r\n.\r\nmore\r\n");
  EXPECT_EQ(ApplyHeaderChanges(m, Verdict{}), m);
}

TEST(MessageEdit, RemovesByIndexButNeverOurReceived) {
  Verdict v;
  v.remove_headers = {{"X-A", 0},      {"X-B", 2},    {"X-C", -1},
                      {"Received", 0}, {"X-None", 1}, {"X-B", 9}};
  std::string in = Message(
      "X-A: 1\r\nX-B: 1\r\nX-A: 2\r\n\tcontinued\r\nX-B: 2\r\nX-C: 1\r\nX-C: 2\r\n"
      "Received: from elsewhere\r\nx-a: lower\r\n");
  std::string out = ApplyHeaderChanges(in, v);
  EXPECT_EQ(out, kReceived + "X-B: 1\r\nX-C: 1\r\n\r\nHi.\r\n");
}

TEST(MessageEdit, HeaderLookingLinesInTheBodyAreUntouched) {
  Verdict v;
  v.remove_headers = {{"X-Spam-Flag", 0}};
  v.add_headers = {{"X-New", "1"}};
  std::string out = ApplyHeaderChanges(Message("From: a@b\r\n", "X-Spam-Flag: YES\r\n"), v);
  EXPECT_EQ(out, kReceived + "X-New: 1\r\nFrom: a@b\r\n\r\nX-Spam-Flag: YES\r\n");
}

TEST(MessageEdit, SubjectPrefixAndRewrite) {
  Verdict v;
  v.subject_prefix = "[SPAM]";
  EXPECT_EQ(ApplyHeaderChanges(Message("Subject: cheap pills\r\nTo: x@y\r\n"), v),
            kReceived + "Subject: [SPAM] cheap pills\r\nTo: x@y\r\n\r\nHi.\r\n");
  // Folded subject stays folded; only the first Subject changes.
  EXPECT_EQ(ApplyHeaderChanges(Message("subject: a\r\n b\r\nSubject: second\r\n"), v),
            kReceived + "Subject: [SPAM] a\r\n b\r\nSubject: second\r\n\r\nHi.\r\n");
  // No Subject at all: one is added with the tag.
  EXPECT_EQ(ApplyHeaderChanges(Message("From: a@b\r\n"), v),
            kReceived + "Subject: [SPAM]\r\nFrom: a@b\r\n\r\nHi.\r\n");
  Verdict r;
  r.new_subject = "*** SPAM *** cheap";
  EXPECT_EQ(ApplyHeaderChanges(Message("Subject: cheap\r\n"), r),
            kReceived + "Subject: *** SPAM *** cheap\r\n\r\nHi.\r\n");
}

TEST(MessageEdit, NormalisesValuesAndSkipsBadNames) {
  Verdict v;
  v.add_headers = {{"Authentication-Results", "vm;\r\n\tnone"},
                   {"X-Multi", "a\nb\r\n   c\r\n\r\n"},
                   {"Bad Name", "x"},
                   {"", "y"},
                   {"X-Nul", std::string("a\0b", 3)}};
  std::string out = ApplyHeaderChanges(Message("From: a@b\r\n"), v);
  EXPECT_EQ(out, kReceived +
                     "Authentication-Results: vm;\r\n\tnone\r\n"
                     "X-Multi: a\r\n\tb\r\n   c\r\n"
                     "X-Nul: a?b\r\n"
                     "From: a@b\r\n\r\nHi.\r\n");
}

TEST(MessageEdit, HeaderOnlyMessageAndMissingReceived) {
  Verdict v;
  v.add_headers = {{"X-New", "1"}};
  // No blank line, no body.
  EXPECT_EQ(ApplyHeaderChanges(kReceived + "From: a@b\r\n", v),
            kReceived + "X-New: 1\r\nFrom: a@b\r\n");
  // Without our Received header the fields go on top.
  EXPECT_EQ(ApplyHeaderChanges("From: a@b\r\n\r\nx\r\n", v), "X-New: 1\r\nFrom: a@b\r\n\r\nx\r\n");
}

TEST(MessageEdit, ValidHeaderName) {
  EXPECT_TRUE(ValidHeaderName("X-Spam-Score"));
  EXPECT_FALSE(ValidHeaderName(""));
  EXPECT_FALSE(ValidHeaderName("A B"));
  EXPECT_FALSE(ValidHeaderName("A:B"));
  EXPECT_FALSE(ValidHeaderName(std::string(101, 'x')));
}

// Random client headers, bodies and edits (values from a scanner may hold CR, LF, NUL):
// the body is byte for byte the same, our Received header stays first, no bare CR or LF
// appears, and no edit can end the header section early (no injected blank line).
TEST(MessageEdit, RandomEditsNeverTouchTheBodyOrBreakLines) {
  std::mt19937 rng(27);
  const char* names[] = {"Subject", "From", "X-Spam-Flag", "X-A", "Received", "bad name", ""};
  const std::string alphabet = "ab :\t\r\n";
  auto text = [&](size_t max) {
    std::string t;
    size_t n = rng() % max;
    for (size_t i = 0; i < n; ++i) {
      char c = alphabet[rng() % alphabet.size()];
      t += rng() % 20 ? c : '\0';
    }
    return t;
  };
  auto line = [&](std::string t) {  // CRLF-only text (what the gateway stores)
    std::string out;
    for (char c : t)
      if (c != '\r' && c != '\n') out += c;
    return out + "\r\n";
  };
  for (int iter = 0; iter < 20000; ++iter) {
    std::string headers;
    for (size_t i = rng() % 6; i > 0; --i) {
      switch (rng() % 3) {
        case 0:
          headers += line(std::string(names[rng() % 5]) + ": " + text(12));
          break;
        case 1:
          headers += line(" continued " + text(8));  // a fold, also at the very top
          break;
        default:
          headers += line("junk" + text(12));  // no colon, most of the time
      }
    }
    std::string body;
    for (size_t i = rng() % 4; i > 0; --i) body += line(rng() % 2 ? "X-A: in body" : text(16));
    std::string in = kReceived + headers + "\r\n" + body;
    Verdict v;
    for (size_t i = rng() % 3; i > 0; --i) v.add_headers.push_back({names[rng() % 7], text(20)});
    for (size_t i = rng() % 3; i > 0; --i)
      v.remove_headers.push_back({names[rng() % 5], static_cast<int>(rng() % 5) - 2});
    if (rng() % 3 == 0) v.subject_prefix = "[SPAM]" + text(4);
    if (rng() % 5 == 0) v.new_subject = text(10);
    std::string out = ApplyHeaderChanges(in, v);
    ASSERT_EQ(out.rfind(kReceived, 0), 0u) << in;
    size_t end = out.find("\r\n\r\n", kReceived.size() - 2);
    ASSERT_NE(end, std::string::npos) << in;
    ASSERT_EQ(out.substr(end + 4), body) << "input:\n" << in << "\noutput:\n" << out;
    for (size_t i = 0; i < out.size(); ++i) {
      bool bare_lf = out[i] == '\n' && (i == 0 || out[i - 1] != '\r');
      bool bare_cr = out[i] == '\r' && (i + 1 == out.size() || out[i + 1] != '\n');
      ASSERT_FALSE(bare_lf || bare_cr) << "at " << i << " of:\n" << out;
    }
  }
}

}  // namespace
}  // namespace sw::filters

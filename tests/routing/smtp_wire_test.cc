// Owns the unit tests of the pure SMTP wire helpers (dot-stuffing, reply parsing, EHLO keywords).
// Fails as gtest failures only.
#include "routing/smtp_wire.h"

#include <gtest/gtest.h>

#include <random>

namespace sw::routing::wire {
namespace {

// Obviously-correct reference: line by line.
std::string NaiveStuff(const std::string& body) {
  std::string out;
  bool line_start = true;
  for (char c : body) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  if (!body.empty() && !(body.size() >= 2 && body.substr(body.size() - 2) == "\r\n")) {
    out += "\r\n";
  }
  return out + ".\r\n";
}

std::string Chunked(const std::string& body, size_t max) {
  std::string out;
  DotStuffer st(body);
  int guard = 0;
  while (st.Next(out, max)) {
    EXPECT_LT(++guard, 10'000'000);
  }
  return out;
}

TEST(DotStuffTest, PlainBodyUnchanged) {
  EXPECT_EQ(DotStuff("Subject: x\r\n\r\nhello\r\n"), "Subject: x\r\n\r\nhello\r\n.\r\n");
}

TEST(DotStuffTest, LeadingDotsDoubled) {
  EXPECT_EQ(DotStuff(".first\r\nmid.dle\r\n.\r\n..two\r\n"),
            "..first\r\nmid.dle\r\n..\r\n...two\r\n.\r\n");
}

TEST(DotStuffTest, MissingFinalCrlfAdded) {
  EXPECT_EQ(DotStuff("a\r\nb"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(DotStuff("a\r\n."), "a\r\n..\r\n.\r\n");
}

TEST(DotStuffTest, EmptyBodyIsJustTheTerminator) { EXPECT_EQ(DotStuff(""), ".\r\n"); }

TEST(DotStuffTest, OnlyADot) { EXPECT_EQ(DotStuff("."), "..\r\n.\r\n"); }

TEST(DotStuffTest, ChunkBoundariesNeverChangeTheOutput) {
  std::mt19937 rng(42);
  const char alphabet[] = {'.', '.', '\r', '\n', 'a', 'b', ' '};
  for (int round = 0; round < 300; ++round) {
    std::string body;
    size_t len = rng() % 300;
    for (size_t i = 0; i < len; ++i) {
      // Mostly CRLF-structured bodies with dots at line starts.
      if (rng() % 5 == 0) {
        body += "\r\n";
      } else {
        body += alphabet[rng() % sizeof alphabet];
      }
    }
    const std::string want = NaiveStuff(body);
    for (size_t max : {1, 2, 3, 7, 8, 9, 16, 64, 1000}) {
      ASSERT_EQ(Chunked(body, max), want) << "round " << round << " max " << max;
    }
  }
}

TEST(DotStuffTest, LargeBodyChunksStayBounded) {
  std::string body;
  for (int i = 0; i < 100000; ++i) body += (i % 3 == 0) ? ".dotted line\r\n" : "plain line\r\n";
  DotStuffer st(body);
  std::string out, all;
  bool more = true;
  while (more) {
    out.clear();
    more = st.Next(out, 64 * 1024);
    EXPECT_LE(out.size(), 64 * 1024 + 8);
    all += out;
  }
  EXPECT_EQ(all, NaiveStuff(body));
}

TEST(ReplyLineTest, ParsesSingleAndContinuation) {
  ReplyLine l;
  ASSERT_TRUE(ParseReplyLine("250 2.0.0 Ok", &l));
  EXPECT_EQ(l.code, 250);
  EXPECT_TRUE(l.last);
  EXPECT_EQ(l.text, "2.0.0 Ok");
  ASSERT_TRUE(ParseReplyLine("250-PIPELINING", &l));
  EXPECT_FALSE(l.last);
  EXPECT_EQ(l.text, "PIPELINING");
  ASSERT_TRUE(ParseReplyLine("354", &l));
  EXPECT_TRUE(l.last);
  EXPECT_EQ(l.code, 354);
  EXPECT_FALSE(ParseReplyLine("25", &l));
  EXPECT_FALSE(ParseReplyLine("abc def", &l));
  EXPECT_FALSE(ParseReplyLine("250x", &l));
  EXPECT_FALSE(ParseReplyLine("650 nope", &l));
}

TEST(ReplyBuilderTest, MultiLineJoinedWithEnhancedCode) {
  ReplyBuilder b;
  EXPECT_EQ(b.Add("550-5.1.1 The email account that you tried to reach does not exist."),
            ReplyBuilder::Status::kMore);
  EXPECT_EQ(b.Add("550-5.1.1 Please try double-checking"), ReplyBuilder::Status::kMore);
  EXPECT_EQ(b.Add("550 5.1.1 the recipient's address."), ReplyBuilder::Status::kDone);
  SmtpReply r = b.Take();
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  EXPECT_EQ(r.text,
            "The email account that you tried to reach does not exist.; Please try "
            "double-checking; the recipient's address.");
  EXPECT_TRUE(r.permanent());
}

// Found by fuzz/smtp_reply_fuzz: "451-4.3.0 ..." then "225 ..." gave code 225 with the 4.x.x
// enhanced code of the first line. A reply whose code changes between lines is malformed.
TEST(ReplyBuilderTest, CodeChangingWithinAReplyIsAnError) {
  ReplyBuilder b;
  EXPECT_EQ(b.Add("451-4.3.0 first"), ReplyBuilder::Status::kMore);
  EXPECT_EQ(b.Add("225 second"), ReplyBuilder::Status::kError);
  EXPECT_STREQ(b.error(), "reply code changed within a multi-line reply");
  ReplyBuilder ok;
  EXPECT_EQ(ok.Add("250-first"), ReplyBuilder::Status::kMore);
  EXPECT_EQ(ok.Add("250 2.0.0 second"), ReplyBuilder::Status::kDone);
  EXPECT_EQ(ok.Take().enhanced, "2.0.0");
}

TEST(ReplyBuilderTest, NoEnhancedCode) {
  ReplyBuilder b;
  EXPECT_EQ(b.Add("220 mx.example.com ESMTP"), ReplyBuilder::Status::kDone);
  SmtpReply r = b.Take();
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.enhanced, "");
  EXPECT_EQ(r.text, "mx.example.com ESMTP");
}

TEST(ReplyBuilderTest, EnhancedClassMustMatch) {
  ReplyBuilder b;
  EXPECT_EQ(b.Add("451 5.0.0 odd"), ReplyBuilder::Status::kDone);
  SmtpReply r = b.Take();
  EXPECT_EQ(r.enhanced, "");
  EXPECT_EQ(r.text, "5.0.0 odd");
}

TEST(ReplyBuilderTest, BareCodeAndEmptyLines) {
  ReplyBuilder b;
  EXPECT_EQ(b.Add("250-smtp-sink"), ReplyBuilder::Status::kMore);
  EXPECT_EQ(b.Add("250 "), ReplyBuilder::Status::kDone);
  EXPECT_EQ(b.Take().text, "smtp-sink");
}

TEST(ReplyBuilderTest, RejectsMalformedAndOversized) {
  {
    ReplyBuilder b;
    EXPECT_EQ(b.Add("hello"), ReplyBuilder::Status::kError);
  }
  {
    ReplyBuilder b;
    EXPECT_EQ(b.Add("250 " + std::string(kMaxReplyLine, 'x')), ReplyBuilder::Status::kError);
  }
  {
    ReplyBuilder b;
    for (size_t i = 0; i < kMaxReplyLines; ++i) {
      ASSERT_EQ(b.Add("250-x"), ReplyBuilder::Status::kMore);
    }
    EXPECT_EQ(b.Add("250-x"), ReplyBuilder::Status::kError);
  }
}

TEST(EhloTest, ParsesKeywordsCaseInsensitively) {
  Extensions ext;
  ReplyBuilder b(&ext);
  for (const char* line :
       {"250-mx.example.com Hello", "250-pipelining", "250-SIZE 52428800", "250-8BITMIME",
        "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8"}) {
    b.Add(line);
  }
  EXPECT_TRUE(ext.pipelining);
  EXPECT_TRUE(ext.size);
  EXPECT_EQ(ext.max_size, 52428800u);
  EXPECT_TRUE(ext.eightbitmime);
  EXPECT_TRUE(ext.starttls);
  EXPECT_TRUE(ext.enhancedstatuscodes);
  EXPECT_TRUE(ext.smtputf8);
}

TEST(EhloTest, GreetingLineIsNotAKeyword) {
  Extensions ext;
  ReplyBuilder b(&ext);
  b.Add("250 PIPELINING");  // a server named "PIPELINING" offers nothing
  EXPECT_FALSE(ext.pipelining);
}

TEST(FormatReplyTest, Formats) {
  SmtpReply r{550, "5.1.1", "no such user"};
  EXPECT_EQ(FormatReply(r), "550 5.1.1 no such user");
  SmtpReply lost{0, "", "read: timeout"};
  EXPECT_EQ(FormatReply(lost), "no reply: read: timeout");
}

}  // namespace
}  // namespace sw::routing::wire

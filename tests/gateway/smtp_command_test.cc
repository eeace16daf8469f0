// Tests SMTP command parsing: verbs, MAIL/RCPT paths, ESMTP parameters and their replies.
// A failure names the command line that was misparsed.
#include "gateway/smtp_command.h"

#include <gtest/gtest.h>

namespace sw::gateway {
namespace {

TEST(SplitCommand, VerbsAreCaseInsensitive) {
  EXPECT_EQ(SplitCommand("ehlo client").verb, Verb::kEhlo);
  EXPECT_EQ(SplitCommand("Mail FROM:<a@b>").verb, Verb::kMail);
  EXPECT_EQ(SplitCommand("Mail FROM:<a@b>").args, "FROM:<a@b>");
  EXPECT_EQ(SplitCommand("XYZZY").verb, Verb::kUnknown);
  EXPECT_EQ(SplitCommand("EXPN list").verb, Verb::kNotImplemented);
  EXPECT_EQ(SplitCommand("DATAX").verb, Verb::kUnknown);
}

TEST(ParseMail, NullSenderAccepted) {
  auto m = ParseMail("FROM:<>");
  ASSERT_TRUE(m.value);
  EXPECT_EQ(m.value->address, "");
}

TEST(ParseMail, ParametersParsed) {
  auto m = ParseMail("FROM:<a@example.net> SIZE=1234 BODY=8BITMIME SMTPUTF8");
  ASSERT_TRUE(m.value);
  EXPECT_EQ(m.value->address, "a@example.net");
  EXPECT_EQ(*m.value->size, 1234u);
  EXPECT_TRUE(m.value->eightbit);
  EXPECT_TRUE(m.value->smtputf8);
}

TEST(ParseMail, SpaceAfterColonTolerated) {
  auto m = ParseMail("FROM: <a@example.net>");
  ASSERT_TRUE(m.value);
  EXPECT_EQ(m.value->address, "a@example.net");
}

TEST(ParseMail, MissingBracketsIsSyntaxError) {
  auto m = ParseMail("FROM:a@example.net");
  EXPECT_FALSE(m.value);
  EXPECT_EQ(m.error.code, 501);
  EXPECT_EQ(std::string(m.error.text).substr(0, 5), "5.5.4");
}

TEST(ParseMail, UnknownParameterIs555) {
  auto m = ParseMail("FROM:<a@b.c> FOO=1");
  EXPECT_FALSE(m.value);
  EXPECT_EQ(m.error.code, 555);
}

TEST(ParseMail, BadSizeIsSyntaxError) {
  EXPECT_EQ(ParseMail("FROM:<a@b.c> SIZE=12x").error.code, 501);
}

TEST(ParseRcpt, DomainLowerCasedLocalKept) {
  auto r = ParseRcpt("TO:<John.Doe@Example.COM>");
  ASSERT_TRUE(r.value);
  EXPECT_EQ(r.value->domain, "example.com");
  EXPECT_EQ(r.value->local, "John.Doe");
  EXPECT_FALSE(r.value->domain_literal);
}

TEST(ParseRcpt, AddressLiteralFlagged) {
  auto r = ParseRcpt("TO:<user@[192.0.2.1]>");
  ASSERT_TRUE(r.value);
  EXPECT_TRUE(r.value->domain_literal);
}

TEST(ParseRcpt, QuotedLocalPartUnquoted) {
  auto r = ParseRcpt("TO:<\"john doe\"@example.com>");
  ASSERT_TRUE(r.value);
  EXPECT_EQ(r.value->local, "john doe");
}

TEST(ParseRcpt, SourceRouteIgnored) {
  auto r = ParseRcpt("TO:<@relay.example:user@example.com>");
  ASSERT_TRUE(r.value);
  EXPECT_EQ(r.value->domain, "example.com");
}

TEST(ParseRcpt, MalformedAddressesRejected) {
  for (const char* bad :
       {"TO:<>", "TO:<user>", "TO:<@example.com>", "TO:<user@>", "TO:<a..b@example.com>",
        "TO:<a@exa mple.com>", "TO:<a@-x.com>", "TO:<a@b.com", "TO:a@b.com", "FROM:<a@b.com>"}) {
    auto r = ParseRcpt(bad);
    EXPECT_FALSE(r.value) << bad;
    EXPECT_GE(r.error.code, 500) << bad;
  }
}

TEST(ParseRcpt, NonAsciiDetected) {
  auto r = ParseRcpt("TO:<j\xc3\xb6rg@example.com>");
  ASSERT_TRUE(r.value);
  EXPECT_TRUE(IsNonAscii(r.value->address));
  EXPECT_FALSE(IsNonAscii("plain@example.com"));
}

}  // namespace
}  // namespace sw::gateway

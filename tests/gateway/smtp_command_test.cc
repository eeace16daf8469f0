// Tests SMTP command parsing: verbs, MAIL/RCPT paths, ESMTP parameters and their replies.
// A failure names the command line that was misparsed.
#include "gateway/smtp_command.h"

#include <gtest/gtest.h>

#include <random>

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

// Found by fuzz/smtp_command_fuzz: a backslash let any byte into a quoted local part, so
// `RCPT TO:<"\<CR>MAIL FROM:..."@example.com>` reached the destination's RCPT TO with a bare CR.
TEST(ParseRcpt, EscapedControlCharactersRejected) {
  for (std::string bad :
       {std::string("TO:<\"\\\rX-Injected: yes\"@example.com>"),
        std::string("TO:<\"a\\\nb\"@example.com>"), std::string("TO:<\"\\\x01\"@example.com>"),
        std::string("TO:<\"\\\x7f\"@example.com>"),
        std::string("TO:<\"\\") + '\0' + "jo\"@example.com>"}) {
    auto r = ParseRcpt(bad);
    EXPECT_FALSE(r.value) << bad;
    EXPECT_EQ(r.error.code, 501) << bad;
    EXPECT_FALSE(ParseMail("FROM:" + bad.substr(3)).value) << bad;
  }
  auto ok = ParseRcpt("TO:<\"a\\\"b\\\\c\\ d\"@example.com>");
  ASSERT_TRUE(ok.value);
  EXPECT_EQ(ok.value->local, "a\"b\\c d");
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

TEST(ParseHelo, DomainsAndAddressLiteralsAccepted) {
  for (const char* name :
       {"client.test", "client.test.", "localhost", "x", "WIN-PC_01", "_dmarc.example",
        "mail-1.example.co.uk", "xn--bcher-kva.example", "b\xc3\xbc\x63her.example", "[192.0.2.1]",
        "[IPv6:2001:db8::1]", "[ipv6:::1]", "192.0.2.1", "2001:db8::1", "::1"}) {
    auto r = ParseHelo(name);
    ASSERT_TRUE(r.value) << name;
    EXPECT_EQ(*r.value, name);
  }
  EXPECT_TRUE(ParseHelo(std::string(63, 'a') + "." + std::string(63, 'b')).value);
}

TEST(ParseHelo, AnythingElseIs501) {
  const std::string rejected[] = {"x\rX-Injected: yes",
                                  "x\nX-Injected: yes",
                                  "x X-Injected: yes",
                                  "client test",
                                  "x\t",
                                  std::string("::1\0junk", 9),
                                  std::string("x\0", 2),
                                  "x\x01",
                                  "x\x7f",
                                  "\xff.example",
                                  "b\xc3.example",
                                  "x\xc2\x85y",
                                  "-a.example",
                                  "a-.example",
                                  "a..example",
                                  ".example",
                                  "..",
                                  "a@b",
                                  "a/b",
                                  "<client.test>",
                                  "\"client\"",
                                  "[192.0.2]",
                                  "[192.0.2.1",
                                  "[IPv6:zz::1]",
                                  "[IPv6:192.0.2.1]",
                                  "[tag:content]",
                                  "[192.0.2.1\rX]",
                                  std::string(64, 'a') + ".example",
                                  std::string(256, 'a')};
  for (const auto& name : rejected) {
    auto r = ParseHelo(name);
    EXPECT_FALSE(r.value) << name;
    EXPECT_EQ(r.error.code, 501) << name;
    EXPECT_EQ(std::string(r.error.text).rfind("5.5.4 ", 0), 0u) << name;
  }
}

TEST(ParseMailRcpt, AddressLiteralHoldsOnlyPrintableText) {
  EXPECT_TRUE(ParseMail("FROM:<a@[192.0.2.1]>").value);
  EXPECT_TRUE(ParseMail("FROM:<a@[IPv6:2001:db8::1]>").value);
  for (const char* bad : {"FROM:<a@[1\r2]>", "FROM:<a@[1\x01]>", "FROM:<a@[1 2]>", "FROM:<a@[]>",
                          "FROM:<a@[a\\b]>", "FROM:<a@[\xc3\xbc]>"}) {
    auto r = ParseMail(bad);
    EXPECT_FALSE(r.value) << bad;
    EXPECT_EQ(r.error.code, 501) << bad;
  }
  EXPECT_FALSE(ParseRcpt("TO:<u@[1\rRCPT TO:<x@example.com>]>").value);
}

// Random MAIL/RCPT arguments over the characters that matter: every input gets exactly one
// outcome; refusals carry a 5xx reply with an enhanced code; accepted addresses hold no
// control characters, spaces or angle brackets (they go into Received headers, DSNs and logs).
TEST(ParseMailRcpt, RandomArgumentsGiveOneSafeOutcome) {
  std::mt19937 rng(5321);
  const std::string alphabet =
      "<>@:\\\" .=,[]\r\n\t\x01\x7f\xc3\xa9"
      "aZ09-_+FROMTOSIZE";
  const std::string prefixes[] = {"FROM:", "TO:", "FROM:<", "TO:<", "from: <", ""};
  auto safe = [](const std::string& a) {
    for (unsigned char c : a)
      if (c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>') return false;
    return true;
  };
  int mail_ok = 0, rcpt_ok = 0;
  // Mostly plain letters with a special character now and then, so that many inputs are
  // addresses and the accepted side is exercised too.
  auto word = [&](size_t max) {
    std::string w;
    size_t n = rng() % max;
    for (size_t i = 0; i < n; ++i)
      w += rng() % 8 ? static_cast<char>('a' + rng() % 26) : alphabet[rng() % alphabet.size()];
    return w;
  };
  for (int iter = 0; iter < 100000; ++iter) {
    std::string args = prefixes[rng() % 6];
    if (rng() % 2) {
      args += word(12) + "@" + word(12) + "." + word(4) + (rng() % 4 ? ">" : "") +
              (rng() % 3 ? "" : " SIZE=" + word(6));
    } else {
      size_t n = rng() % 40;
      for (size_t i = 0; i < n; ++i) args += alphabet[rng() % alphabet.size()];
    }
    auto mail = ParseMail(args);
    ASSERT_NE(mail.value.has_value(), mail.error.code != 0) << args;
    if (mail.value) {
      ++mail_ok;
      ASSERT_TRUE(safe(mail.value->address)) << args << " -> " << mail.value->address;
    } else {
      ASSERT_GE(mail.error.code, 500) << args;
      ASSERT_LT(mail.error.code, 600) << args;
      ASSERT_EQ(std::string(mail.error.text).rfind("5.", 0), 0u) << args;
    }
    auto rcpt = ParseRcpt(args);
    ASSERT_NE(rcpt.value.has_value(), rcpt.error.code != 0) << args;
    if (rcpt.value) {
      ++rcpt_ok;
      const RcptParams& r = *rcpt.value;
      ASSERT_TRUE(safe(r.address)) << args << " -> " << r.address;
      ASSERT_FALSE(r.domain.empty()) << args;
      ASSERT_FALSE(r.local.empty()) << args;
      ASSERT_TRUE(safe(r.domain)) << args << " -> " << r.domain;
      for (char c : r.domain) ASSERT_FALSE(c >= 'A' && c <= 'Z') << args << " -> " << r.domain;
    } else {
      ASSERT_GE(rcpt.error.code, 500) << args;
      ASSERT_LT(rcpt.error.code, 600) << args;
      ASSERT_EQ(std::string(rcpt.error.text).rfind("5.", 0), 0u) << args;
    }
  }
  EXPECT_GT(mail_ok, 1000);
  EXPECT_GT(rcpt_ok, 1000);
}

}  // namespace
}  // namespace sw::gateway

// Tests the config unit parsers: durations, sizes, listen addresses and destinations.
// Fails with a GoogleTest assertion naming the input that parsed wrongly.
#include <gtest/gtest.h>

#include "config/config.h"

namespace sw::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("30s"), seconds(30));
  EXPECT_EQ(ParseDuration("5m"), minutes(5));
  EXPECT_EQ(ParseDuration("4h"), hours(4));
  EXPECT_EQ(ParseDuration("30d"), hours(24 * 30));
}

TEST(ParseDuration, BareZeroNeedsNoUnit) {
  EXPECT_EQ(ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
}

TEST(ParseDuration, RejectsBadSyntax) {
  for (const char* bad : {"", "s", "5", "30", "-5s", "+5s", "5 s", " 5s", "5s ", "1.5s", "5sec",
                          "5M", "1h30m", "ms", "99999999999999999999d", "9999999999999999d"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(ParseSize, AcceptsBytesAndBinaryAndDecimalUnits) {
  EXPECT_EQ(ParseSize("1234"), 1234u);
  EXPECT_EQ(ParseSize("0"), 0u);
  EXPECT_EQ(ParseSize("64KiB"), 64u * 1024);
  EXPECT_EQ(ParseSize("50MiB"), 50u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(ParseSize("10KB"), 10000u);
  EXPECT_EQ(ParseSize("5MB"), 5000000u);
  EXPECT_EQ(ParseSize("2GB"), 2000000000u);
}

TEST(ParseSize, RejectsBadSyntaxAndOverflow) {
  for (const char* bad : {"", "KiB", "-1", "1.5MiB", "10 MiB", "10mib", "10XB", "10Ki",
                          "18446744073709551616", "99999999999GiB"}) {
    EXPECT_EQ(ParseSize(bad), std::nullopt) << bad;
  }
}

TEST(ParseListenAddress, AcceptsIpv4Ipv6AndWildcard) {
  auto v4 = ParseListenAddress("127.0.0.1:25");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 25);
  auto v6 = ParseListenAddress("[::1]:2525");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2525);
  auto any = ParseListenAddress("*:25");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->host, "0.0.0.0");
  EXPECT_EQ(any->port, 25);
}

TEST(ParseListenAddress, PortZeroMeansEphemeral) {
  auto address = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->port, 0);
}

TEST(ParseListenAddress, RejectsNamesMissingPortsAndBadPorts) {
  for (const char* bad : {"", "127.0.0.1", "localhost:25", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "::1:25", "[::1]", "[::1]25", "[127.0.0.1]:25", "[zz]:25",
                          "*", "256.0.0.1:25", "127.0.0.1:25x", " 127.0.0.1:25"}) {
    EXPECT_EQ(ParseListenAddress(bad), std::nullopt) << bad;
  }
}

TEST(ListenAddress, ToStringRoundTrips) {
  for (const char* text : {"127.0.0.1:25", "[::1]:2525", "0.0.0.0:0"}) {
    auto address = ParseListenAddress(text);
    ASSERT_TRUE(address) << text;
    EXPECT_EQ(address->ToString(), text);
  }
}

TEST(ParseDestination, BareHostDefaultsToPort25) {
  auto d = ParseDestination("Mail.Example.com");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "mail.example.com");
  EXPECT_EQ(d->port, 25);
  EXPECT_FALSE(d->literal);
}

TEST(ParseDestination, HostWithPort) {
  auto d = ParseDestination("mail.example.com:2525");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "mail.example.com");
  EXPECT_EQ(d->port, 2525);
  EXPECT_FALSE(d->literal);
}

TEST(ParseDestination, BracketedIsLiteral) {
  auto ip = ParseDestination("[192.0.2.10]:2525");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->host, "192.0.2.10");
  EXPECT_EQ(ip->port, 2525);
  EXPECT_TRUE(ip->literal);
  auto host = ParseDestination("[mail.example.com]");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->host, "mail.example.com");
  EXPECT_EQ(host->port, 25);
  EXPECT_TRUE(host->literal);
  auto v6 = ParseDestination("[2001:db8::1]:2525");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_TRUE(v6->literal);
}

TEST(ParseDestination, RejectsEmptyBadPortsAndSpaces) {
  for (const char* bad :
       {"", "[]", "[]:25", "mail.example.com:", "mail.example.com:0", "mail.example.com:65536",
        "mail.example.com:25:25", "mail example.com", " mail.example.com", "mail.example.com :25",
        "2001:db8::1", "[192.0.2.10", "[192.0.2.10]x", "[192.0.2.10]:", "-mail.example.com",
        "mail..example.com", "mail_x.example.com", "[ma il]:25"}) {
    EXPECT_EQ(ParseDestination(bad), std::nullopt) << bad;
  }
}

TEST(Destination, ToStringRoundTrips) {
  for (const char* text :
       {"mail.example.com:25", "mail.example.com:2525", "[192.0.2.10]:2525", "[::1]:25"}) {
    auto d = ParseDestination(text);
    ASSERT_TRUE(d) << text;
    EXPECT_EQ(d->ToString(), text);
    auto again = ParseDestination(d->ToString());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->host, d->host);
    EXPECT_EQ(again->port, d->port);
    EXPECT_EQ(again->literal, d->literal);
  }
}

}  // namespace
}  // namespace sw::config

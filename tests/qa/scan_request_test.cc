// Tests the gateway-like scan request: envelope sender from headers, CRLF normalization as
// DATA leaves it, our Received header first. Fails with an assertion.
#include "qa/scan_request.h"

#include <gtest/gtest.h>

namespace sw::qa {
namespace {

TEST(SenderOfTest, ReturnPathThenFromThenFallback) {
  EXPECT_EQ(SenderOf("Return-Path: <bounce@a.test>\nFrom: Al <al@b.test>\n\n", "d@x"),
            "bounce@a.test");
  EXPECT_EQ(SenderOf("From: \"Al, Jr\" <al@b.test>\nSubject: x\n\n", "d@x"), "al@b.test");
  EXPECT_EQ(SenderOf("From: al@b.test (Al)\n\n", "d@x"), "al@b.test");
  EXPECT_EQ(SenderOf("Return-Path: <>\nFrom: al@b.test\n\n", "d@x"), "");
  EXPECT_EQ(SenderOf("Subject: none\n\nFrom: body@c.test\n", "d@x"), "d@x");
  EXPECT_EQ(SenderOf("From: undisclosed\n\n", "d@x"), "d@x");
}

TEST(SenderOfTest, FoldedFrom) {
  EXPECT_EQ(SenderOf("From: A Very Long Name\r\n <long@b.test>\r\n\r\n", "d@x"), "long@b.test");
}

TEST(NormalizeCrlfTest, AsDataLeavesIt) {
  EXPECT_EQ(NormalizeCrlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(NormalizeCrlf("x\r\n"), "x\r\n");
  EXPECT_EQ(NormalizeCrlf(""), "");
  for (const char* m : {"a\nb\r\nc\rd", "x\r\n", "", "x", "\r", "\r\r\n\n"})
    EXPECT_EQ(NormalizedSize(m), NormalizeCrlf(m).size()) << m;
}

TEST(BuildScanRequestTest, ReceivedHeaderEnvelopeAndBody) {
  auto cfg = std::make_shared<config::Config>();
  cfg->server.hostname = "mx.qa.test";
  ScanEnvelope env;
  env.recipient = "user@example.com";
  auto req = BuildScanRequest("From: a@b.test\nSubject: hi\n\nbody\n", 7, env, cfg);
  EXPECT_EQ(req.id, "0A00000000000007");
  EXPECT_EQ(req.sender, "a@b.test");
  ASSERT_EQ(req.recipients.size(), 1u);
  EXPECT_EQ(req.recipients[0], "user@example.com");
  EXPECT_EQ(req.client_ip, "127.0.0.1");
  EXPECT_EQ(req.helo, "localhost");
  EXPECT_EQ(req.hostname, "mx.qa.test");
  const std::string& b = *req.body;
  EXPECT_EQ(b.rfind("Received: from localhost ([127.0.0.1])\r\n\tby mx.qa.test (SpamWeeder) with "
                    "ESMTP id 0A00000000000007\r\n\tfor <user@example.com>; ",
                    0),
            0u)
      << b;
  EXPECT_NE(b.find("\r\nFrom: a@b.test\r\nSubject: hi\r\n\r\nbody\r\n"), std::string::npos) << b;
}

}  // namespace
}  // namespace sw::qa

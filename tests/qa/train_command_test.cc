// Tests the pure parts of `spamweeder train`: arguments, the default controller URL, the learn
// request (the gateway's scan request) and rspamd's /learn* replies. Fails with an assertion.
#include "qa/train_command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "filters/rspamd_filter.h"

namespace sw::qa {
namespace {

TEST(DefaultControllerUrlTest, Port11334) {
  EXPECT_EQ(DefaultControllerUrl("http://127.0.0.1:11333"), "http://127.0.0.1:11334");
  EXPECT_EQ(DefaultControllerUrl("http://127.0.0.1:11333/checkv2"), "http://127.0.0.1:11334");
  EXPECT_EQ(DefaultControllerUrl("http://rspamd.local"), "http://rspamd.local:11334");
  EXPECT_EQ(DefaultControllerUrl("http://[::1]:11333/"), "http://[::1]:11334");
  EXPECT_EQ(DefaultControllerUrl("unix:/run/rspamd/normal.sock"), "http://127.0.0.1:11334");
}

// Bayes must learn the tokens it later classifies: the learn POST carries exactly what the
// gateway's rspamd filter sends for the same message (Received header, CRLF, envelope).
TEST(LearnRequestTest, SameBodyAndHeadersAsTheScan) {
  auto cfg = std::make_shared<config::Config>();
  cfg->server.hostname = "mx.qa.test";
  ScanEnvelope env;
  env.recipient = "user@example.com";
  const std::string message =
      "Return-Path: <bulk@spam.example>\nFrom: Spammer <x@spam.example>\nSubject: offer\n\n"
      "cheap pills\n";
  http::HttpRequest req =
      LearnRequest(message, Label::kSpam, 7, env, cfg, "http://127.0.0.1:11334", "secret");
  filters::ScanRequest scan = BuildScanRequest(message, 7, env, cfg);
  EXPECT_EQ(req.url, "http://127.0.0.1:11334/learnspam");
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.content_type, "message/rfc822");
  ASSERT_TRUE(req.body);
  // Same bytes but for the Received header's date, which is "now" in both.
  auto strip_date = [](std::string s) { return s.substr(s.find("\r\n\tfor <")); };
  EXPECT_EQ(strip_date(*req.body), strip_date(*scan.body));
  EXPECT_EQ(req.body->rfind("Received: from localhost ([127.0.0.1])\r\n\tby mx.qa.test", 0), 0u)
      << *req.body;
  EXPECT_NE(req.body->find("Subject: offer\r\n\r\ncheap pills\r\n"), std::string::npos);
  for (const auto& h : filters::RspamdFilter::RequestHeaders(scan))
    EXPECT_NE(std::find(req.headers.begin(), req.headers.end(), h), req.headers.end()) << h;
  EXPECT_NE(std::find(req.headers.begin(), req.headers.end(), "From: bulk@spam.example"),
            req.headers.end());
  EXPECT_NE(std::find(req.headers.begin(), req.headers.end(), "Rcpt: user@example.com"),
            req.headers.end());
  EXPECT_NE(std::find(req.headers.begin(), req.headers.end(), "Password: secret"),
            req.headers.end());
  EXPECT_EQ(LearnRequest(message, Label::kHam, 8, env, cfg, "http://c", "").url,
            "http://c/learnham");
}

TEST(ClassifyLearnReplyTest, Outcomes) {
  std::string why;
  EXPECT_EQ(ClassifyLearnReply(true, 200, "{\"success\":true}", &why), LearnOutcome::kLearned);
  EXPECT_EQ(
      ClassifyLearnReply(true, 208,
                         "{\"error\":\"<a@b> has been already learned as spam, ignore it\"}", &why),
      LearnOutcome::kKnown);
  EXPECT_EQ(ClassifyLearnReply(true, 404,
                               "{\"error\":\"<x@y> is skipped for bayes classifier: "
                               "already in class spam\"}",
                               &why),
            LearnOutcome::kSkipped);
  EXPECT_EQ(why, "HTTP 404: is skipped for bayes classifier: already in class spam");
  EXPECT_EQ(ClassifyLearnReply(true, 204, "", &why), LearnOutcome::kSkipped);
  EXPECT_EQ(why,
            "HTTP 204: rspamd declined (too few tokens, or a learn condition: already in class)");
  EXPECT_EQ(ClassifyLearnReply(true, 500, "", &why), LearnOutcome::kSkipped);
  EXPECT_EQ(why, "HTTP 500");
  EXPECT_EQ(ClassifyLearnReply(false, 0, "", &why), LearnOutcome::kUnreachable);
}

TEST(ParseTrainArgsTest, RepeatedAndTrailingPaths) {
  std::string err;
  auto o = ParseTrainArgs({"-c", "f.yaml", "--spam", "s1", "s2", "--ham", "h1", "--controller",
                           "http://x:1", "--jobs", "2"},
                          &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->spam, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(o->ham, (std::vector<std::string>{"h1"}));
  EXPECT_EQ(o->controller, "http://x:1");
  EXPECT_EQ(o->jobs, 2u);
  EXPECT_TRUE(o->config_given);
  auto d = ParseTrainArgs({"--domain", "example.org", "--ham", "h"}, &err);
  ASSERT_TRUE(d) << err;
  EXPECT_EQ(d->domain, "example.org");
  EXPECT_FALSE(d->config_given);
  EXPECT_FALSE(ParseTrainArgs({"-c", "f.yaml"}, &err));
  EXPECT_FALSE(ParseTrainArgs({"stray", "--spam", "s"}, &err));
}

TEST(TrainCommandTest, UsageErrorsExit2) {
  std::ostringstream out, err;
  EXPECT_EQ(TrainCommand({}, out, err), 2);
  EXPECT_EQ(
      TrainCommand({"--controller", "http://127.0.0.1:1", "--spam", "/nonexistent"}, out, err), 2);
}

}  // namespace
}  // namespace sw::qa

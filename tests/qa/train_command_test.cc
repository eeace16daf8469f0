// Tests the pure parts of `spamweeder train`: arguments, the default controller URL and the
// classification of rspamd's /learn* replies. Fails with an assertion.
#include "qa/train_command.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sw::qa {
namespace {

TEST(DefaultControllerUrlTest, Port11334) {
  EXPECT_EQ(DefaultControllerUrl("http://127.0.0.1:11333"), "http://127.0.0.1:11334");
  EXPECT_EQ(DefaultControllerUrl("http://127.0.0.1:11333/checkv2"), "http://127.0.0.1:11334");
  EXPECT_EQ(DefaultControllerUrl("http://rspamd.local"), "http://rspamd.local:11334");
  EXPECT_EQ(DefaultControllerUrl("http://[::1]:11333/"), "http://[::1]:11334");
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

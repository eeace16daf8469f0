// Tests the wording helpers of config problems: suggestions and one line per problem.
// Fails with a GoogleTest assertion showing the produced text.
#include "config/problem_text.h"

#include <gtest/gtest.h>

namespace sw::config {
namespace {

TEST(ProblemText, SuggestsTheNearestKnownKeyCaseInsensitively) {
  EXPECT_EQ(Suggest("Retry_Intervall", {"retry_interval", "max_age"}),
            " (did you mean `retry_interval`?)");
  EXPECT_EQ(Suggest("zzz", {"retry_interval", "max_age"}), "");
}

TEST(ProblemText, OneLineEscapesControlCharactersAndCutsLongText) {
  EXPECT_EQ(OneLine("key `a\nb\tc\rd\x01`"), "key `a\\nb\\tc\\rd?`");
  std::string long_text(1000, 'x');
  std::string cut = OneLine(long_text);
  EXPECT_EQ(cut.size(), 300u);
  EXPECT_EQ(cut.substr(297), "...");
}

}  // namespace
}  // namespace sw::config

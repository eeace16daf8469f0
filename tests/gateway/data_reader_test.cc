// Tests the DATA byte machine: end of data, unstuffing, bare CR/LF, size cap, split input.
// A failure names the input that was misread.
#include "gateway/data_reader.h"

#include <gtest/gtest.h>

namespace sw::gateway {
namespace {

struct Result {
  std::string body;
  size_t consumed;
  bool done;
};

Result FeedAll(std::string_view in, uint64_t max = 1 << 20) {
  DataReader r(max);
  size_t n = r.Feed(in);
  return {r.body(), n, r.done()};
}

TEST(DataReader, EndsOnlyAtCrlfDotCrlf) {
  auto r = FeedAll("Subject: x\r\n\r\nhello\r\n.\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "Subject: x\r\n\r\nhello\r\n");
  EXPECT_EQ(r.consumed, std::string("Subject: x\r\n\r\nhello\r\n.\r\n").size());
}

TEST(DataReader, EmptyMessageEndsAtFirstDot) {
  auto r = FeedAll(".\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "");
}

TEST(DataReader, DotStuffedLinesAreUnstuffed) {
  auto r = FeedAll("a\r\n..b\r\n...\r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.body, "a\r\n.b\r\n..\r\n");
}

class SmugglingSequence : public ::testing::TestWithParam<const char*> {};

TEST_P(SmugglingSequence, DoesNotEndDataAndIsNormalized) {
  std::string in = std::string("x") + GetParam() + "MAIL FROM:<evil@x>\r\n";
  auto r = FeedAll(in);
  EXPECT_FALSE(r.done) << "sequence ended DATA";
  EXPECT_EQ(r.consumed, in.size());
  for (size_t i = 0; i < r.body.size(); ++i) {
    if (r.body[i] == '\n') {
      EXPECT_TRUE(i > 0 && r.body[i - 1] == '\r') << "bare LF at " << i;
    }
    if (r.body[i] == '\r') {
      EXPECT_TRUE(i + 1 < r.body.size() && r.body[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, SmugglingSequence,
                         ::testing::Values("\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r",
                                           "\n.\r", ".\n"));

TEST(DataReader, BareLfBecomesCrlfAndIsCounted) {
  DataReader r(1 << 20);
  r.Feed("a\nb\r\n.\r\n");
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.body(), "a\r\nb\r\n");
  EXPECT_EQ(r.bare_lf(), 1u);
}

TEST(DataReader, MarkerSplitAcrossFeedsIsFound) {
  std::string in = "line one\r\n..dot\r\n.\r\nNEXT";
  for (size_t cut = 1; cut < in.size(); ++cut) {
    DataReader r(1 << 20);
    size_t a = r.Feed(std::string_view(in).substr(0, cut));
    ASSERT_TRUE(a == cut || r.done()) << "cut at " << cut;
    size_t b = r.done() ? 0 : r.Feed(std::string_view(in).substr(cut));
    EXPECT_TRUE(r.done()) << "cut at " << cut;
    EXPECT_EQ(r.body(), "line one\r\n.dot\r\n") << "cut at " << cut;
    EXPECT_EQ(in.substr(a + b), "NEXT") << "cut at " << cut;
  }
}

TEST(DataReader, OversizeIsCountedButNotStored) {
  DataReader r(10);
  std::string big(1000, 'x');
  r.Feed(big + "\r\n.\r\n");
  EXPECT_TRUE(r.done());
  EXPECT_TRUE(r.too_big());
  EXPECT_LE(r.body().size(), 10u);
  EXPECT_EQ(r.size(), 1002u);
}

TEST(DataReader, EightBitDetected) {
  DataReader r(100);
  r.Feed("caf\xc3\xa9\r\n.\r\n");
  EXPECT_TRUE(r.eightbit());
}

}  // namespace
}  // namespace sw::gateway

// Tests the DATA byte machine: end of data, unstuffing, bare CR/LF, size cap, split input.
// A failure names the input that was misread.
#include "gateway/data_reader.h"

#include <gtest/gtest.h>

#include <random>

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

TEST(DataReader, DiscardFreesTheBodyButKeepsReading) {
  DataReader r(1 << 20);
  r.Feed("first line\r\n");
  r.Discard();
  EXPECT_TRUE(r.body().empty());
  size_t n = r.Feed("second\r\n.\r\nNEXT");
  EXPECT_TRUE(r.done());
  EXPECT_TRUE(r.discarded());
  EXPECT_FALSE(r.too_big());
  EXPECT_TRUE(r.body().empty());
  EXPECT_EQ(r.size(), 20u);  // both lines counted
  EXPECT_EQ(n, 11u);         // "NEXT" is left for the next command
}

TEST(DataReader, EightBitDetected) {
  DataReader r(100);
  r.Feed("caf\xc3\xa9\r\n.\r\n");
  EXPECT_TRUE(r.eightbit());
}

// The DATA rules written plainly, for whole input: data ends at the first ".CRLF" that starts
// the data or follows a real CRLF; lines are split at real CRLFs only; a line's leading dot is
// removed; bare CR and bare LF inside a line become CRLF. Returns false if there is no end.
bool ReferenceData(const std::string& raw, std::string* body, size_t* end) {
  size_t content;  // bytes before the final ".CRLF"
  if (raw.compare(0, 3, ".\r\n") == 0) {
    content = 0;
  } else {
    size_t i = raw.find("\r\n.\r\n");
    if (i == std::string::npos) return false;
    content = i + 2;
  }
  *end = content + 3;
  body->clear();
  size_t pos = 0;
  while (pos < content) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    if (!line.empty() && line[0] == '.') line.erase(0, 1);
    for (char c : line) {
      if (c == '\r' || c == '\n')
        *body += "\r\n";
      else
        *body += c;
    }
    *body += "\r\n";
    pos = eol + 2;
  }
  return true;
}

// Random inputs over the bytes that matter ('\r', '\n', '.', 'a'), fed in random pieces, must
// give what the plain rules give: the same end, the same body, the rest left for the next
// command. A failure prints the input.
TEST(DataReader, AgreesWithThePlainRulesOnRandomInputAndSplits) {
  std::mt19937 rng(20261127);
  const char alphabet[] = {'\r', '\n', '.', 'a'};
  for (int iter = 0; iter < 200000; ++iter) {
    std::string raw(rng() % 24, ' ');
    for (char& c : raw) c = alphabet[rng() % 4];
    std::string expect_body;
    size_t expect_end = 0;
    bool ends = ReferenceData(raw, &expect_body, &expect_end);
    DataReader r(1 << 20);
    size_t pos = 0, consumed = 0;
    while (pos < raw.size() && !r.done()) {
      size_t piece = 1 + rng() % (raw.size() - pos);
      size_t n = r.Feed(std::string_view(raw).substr(pos, piece));
      ASSERT_LE(n, piece);
      ASSERT_TRUE(n == piece || r.done());
      consumed += n;
      pos += piece;
    }
    std::string shown;
    for (char c : raw) shown += c == '\r' ? "\\r" : c == '\n' ? "\\n" : std::string(1, c);
    ASSERT_EQ(r.done(), ends) << "input \"" << shown << "\"";
    if (!ends) {
      EXPECT_EQ(consumed, raw.size()) << "input \"" << shown << "\"";
      continue;
    }
    ASSERT_EQ(consumed, expect_end) << "input \"" << shown << "\"";
    ASSERT_EQ(r.body(), expect_body) << "input \"" << shown << "\"";
    ASSERT_EQ(r.size(), expect_body.size()) << "input \"" << shown << "\"";
  }
}

}  // namespace
}  // namespace sw::gateway

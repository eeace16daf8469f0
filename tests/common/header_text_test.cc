// Tests the one sanitiser of written header text: control bytes, UTF-8, bounds, and a random
// property (whatever comes in, what goes out is one clean line). Fails naming the input.
#include "common/header_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sw {
namespace {

using namespace std::string_literals;

TEST(HeaderText, ControlBytesBecomeQuestionMarksAndTabASpace) {
  EXPECT_EQ(HeaderText("x\rX-Injected: yes"), "x?X-Injected: yes");
  EXPECT_EQ(HeaderText("a\r\nb\nc"), "a??b?c");
  EXPECT_EQ(HeaderText("a\0b\x01\x1b[31m\x7f"s), "a?b??[31m?");
  EXPECT_EQ(HeaderText("a\tb"), "a b");
  EXPECT_EQ(HeaderText("plain text, <a@b.example>; ok"), "plain text, <a@b.example>; ok");
}

TEST(HeaderText, Utf8KeptOnlyWhenValidAndNotALineBreak) {
  const std::string joerg = "j\xc3\xb6rg@b\xc3\xbc\x63her.example";
  EXPECT_EQ(HeaderText(joerg), joerg);
  EXPECT_EQ(HeaderText(joerg, TextCharset::kAscii), "j?rg@b?cher.example");
  EXPECT_EQ(HeaderText("a\xff"
                       "b\xc3"),
            "a?b?");  // stray and truncated bytes
  EXPECT_EQ(HeaderText("a\xc0\xaf"
                       "b"),
            "a??b");  // overlong '/'
  EXPECT_EQ(HeaderText("a\xed\xa0\x80"
                       "b"),
            "a???b");  // a UTF-16 surrogate
  EXPECT_EQ(HeaderText("a\xc2\x85"
                       "b\xc2\x9b"
                       "c"),
            "a?b?c");  // NEL and CSI (C1 controls)
  EXPECT_EQ(HeaderText("a\xe2\x80\xa8"
                       "b\xe2\x80\xa9"
                       "c"),
            "a?b?c");                                         // U+2028, U+2029
  EXPECT_EQ(HeaderText("\xe2\x82\xac 5"), "\xe2\x82\xac 5");  // the euro sign stays
  EXPECT_TRUE(IsHeaderText(joerg));
  EXPECT_FALSE(IsHeaderText(joerg, TextCharset::kAscii));
  EXPECT_FALSE(IsHeaderText("a\rb"));
  EXPECT_FALSE(IsHeaderText("a\tb"));
  EXPECT_TRUE(IsHeaderText(""));
}

TEST(HeaderText, BoundedAtACharacterBoundaryWithAnEllipsis) {
  EXPECT_EQ(HeaderText(std::string(20, 'a'), TextCharset::kUtf8, 10), "aaaaaaa...");
  EXPECT_EQ(HeaderText(std::string(10, 'a'), TextCharset::kUtf8, 10), std::string(10, 'a'));
  // Two-octet characters: never half of one before the dots.
  std::string umlauts;
  for (int i = 0; i < 10; ++i) umlauts += "\xc3\xbc";
  EXPECT_EQ(HeaderText(umlauts, TextCharset::kUtf8, 10), "\xc3\xbc\xc3\xbc\xc3\xbc...");
  EXPECT_EQ(HeaderText(std::string(2000, 'x')).size(), kMaxHeaderText);
  EXPECT_EQ(HeaderText(std::string(20, 'a'), TextCharset::kUtf8, 0), "aaaaa...");  // at least 8
}

// Random bytes, biased towards the dangerous ones: the result is always one line of printable
// text (valid UTF-8, no C0/C1 control, no DEL), bounded, and a fixed point.
TEST(HeaderText, RandomInputGivesOneCleanBoundedLine) {
  std::mt19937 rng(6532);
  const std::string pieces[] = {"\r",
                                "\n",
                                "\r\n",
                                "\0"s,
                                "\t",
                                "\x7f",
                                "\x1b",
                                "\xc2\x85",
                                "\xe2\x80\xa8",
                                "\xc3\xbc",
                                "\xe2\x82\xac",
                                "\xf0\x9f\x98\x80",
                                "\xff",
                                "\xc3",
                                "\xe2\x82",
                                "X-Injected: yes",
                                " ",
                                "a",
                                "."};
  for (int iter = 0; iter < 50000; ++iter) {
    std::string in;
    for (size_t n = rng() % 40; n > 0; --n) {
      if (rng() % 3 == 0)
        in.push_back(static_cast<char>(rng() % 256));
      else
        in += pieces[rng() % std::size(pieces)];
    }
    const TextCharset cs = rng() % 2 ? TextCharset::kUtf8 : TextCharset::kAscii;
    const size_t max = 8 + rng() % 60;
    std::string out = HeaderText(in, cs, max);
    ASSERT_LE(out.size(), max) << in;
    ASSERT_TRUE(IsHeaderText(out, cs)) << in << " -> " << out;
    for (unsigned char c : out) ASSERT_FALSE(c < 0x20 || c == 0x7f) << in << " -> " << out;
    ASSERT_EQ(HeaderText(out, cs, max), out) << in;
  }
}

}  // namespace
}  // namespace sw

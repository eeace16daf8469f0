// Tests reading a message's header section for `queue show`.
// Fails by gtest assertion; pure functions, no I/O.
#include "admin/header_section.h"

#include <gtest/gtest.h>

namespace sw::admin {
namespace {

TEST(HeaderSectionTest, FieldsInOrderUntilTheEmptyLine) {
  auto h = ParseHeaderSection(
      "Received: from a.test\r\n\tby b.test; Fri, 27 Nov 2026 09:00:00 +0000\r\n"
      "Subject:  Hello  \r\n"
      "X-Empty:\r\n"
      "From: <a@b.test>\r\n"
      "\r\n"
      "Body: not a header\r\n");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0],
            (HeaderField{"Received", "from a.test\tby b.test; Fri, 27 Nov 2026 09:00:00 +0000"}));
  EXPECT_EQ(h[1], (HeaderField{"Subject", "Hello"}));
  EXPECT_EQ(h[2], (HeaderField{"X-Empty", ""}));
  EXPECT_EQ(h[3], (HeaderField{"From", "<a@b.test>"}));
}

TEST(HeaderSectionTest, BareLfAndNoBody) {
  auto h = ParseHeaderSection("A: 1\nB: 2\n continued\nC: 3");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[1], (HeaderField{"B", "2 continued"}));
  EXPECT_EQ(h[2], (HeaderField{"C", "3"}));
}

TEST(HeaderSectionTest, SkipsMalformedLinesAndTheirContinuations) {
  auto h = ParseHeaderSection(
      " leading continuation\r\nno colon here\r\n\tits continuation\r\nBad Name: x\r\nOk: "
      "y\r\n\r\n");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0], (HeaderField{"Ok", "y"}));
}

TEST(HeaderSectionTest, KeepsUtf8AndStopsAtTheLimit) {
  auto h = ParseHeaderSection(
      "Subject: Gr\xc3\xbc\xc3\x9f"
      "e\r\nA: 1\r\nB: 2\r\n",
      2);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].second,
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_TRUE(ParseHeaderSection("").empty());
  EXPECT_TRUE(ParseHeaderSection("\r\nA: 1\r\n").empty());
}

}  // namespace
}  // namespace sw::admin

// Tests the JSON reader: every value type, escapes and surrogates, numbers, and errors.
// Fails with a GoogleTest assertion naming the input.
#include "filters/json.h"

#include <gtest/gtest.h>

#include <string>

namespace sw::filters::json {
namespace {

TEST(Json, ParsesEveryValueType) {
  auto v = Parse(R"( {"n": null, "t": true, "f": false, "i": -12, "d": 3.5e2,
                     "s": "x", "a": [1, [2], {}], "o": {"k": "v"}} )");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_object());
  EXPECT_TRUE(v->Find("n")->is_null());
  EXPECT_TRUE(v->Find("t")->AsBool());
  EXPECT_FALSE(v->Find("f")->AsBool(true));
  EXPECT_EQ(v->Find("i")->AsNumber(), -12);
  EXPECT_EQ(v->Find("d")->AsNumber(), 350);
  EXPECT_EQ(v->Find("s")->AsString(), "x");
  ASSERT_EQ(v->Find("a")->items().size(), 3u);
  EXPECT_TRUE(v->Find("a")->items()[2].is_object());
  EXPECT_EQ(v->Find("o")->Find("k")->AsString(), "v");
  EXPECT_EQ(v->Find("missing"), nullptr);
  EXPECT_EQ(v->Find("s")->Find("k"), nullptr);  // not an object
}

TEST(Json, KeepsMemberOrderAndDuplicates) {
  auto v = Parse(R"({"b": 1, "a": 2, "b": 3})");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->members().size(), 3u);
  EXPECT_EQ(v->members()[0].first, "b");
  EXPECT_EQ(v->members()[1].first, "a");
  EXPECT_EQ(v->Find("b")->AsNumber(), 1);  // the first one
}

TEST(Json, DecodesEscapesAndSurrogatePairs) {
  auto v = Parse(R"("a\"b\\c\/d\b\f\n\r\t \u0041\u00e9\u20ac\ud83d\ude00")");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->AsString(), "a\"b\\c/d\b\f\n\r\t A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(Json, TypedAccessFallsBack) {
  auto v = Parse("\"text\"");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->AsNumber(7), 7);
  EXPECT_TRUE(v->AsBool(true));
  EXPECT_TRUE(Parse("1")->AsString().empty());
}

TEST(Json, NumbersFollowTheGrammar) {
  EXPECT_EQ(Parse("0")->AsNumber(), 0);
  EXPECT_EQ(Parse("-0.25")->AsNumber(), -0.25);
  EXPECT_EQ(Parse("1E3")->AsNumber(), 1000);
  EXPECT_EQ(Parse("2e-1")->AsNumber(), 0.2);
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "+1", "0x10", "1.e5"})
    EXPECT_FALSE(Parse(bad)) << bad;
}

TEST(Json, ReportsErrorsWithOffsets) {
  ParseError e;
  EXPECT_FALSE(Parse(R"({"a": 1,})", &e));
  EXPECT_EQ(e.offset, 8u);
  EXPECT_FALSE(Parse("[1 2]", &e));
  EXPECT_EQ(e.message, "expected ',' or ']' in array");
  EXPECT_FALSE(Parse("{\"a\" 1}", &e));
  EXPECT_EQ(e.message, "expected ':' after object key");
  EXPECT_FALSE(Parse("\"abc", &e));
  EXPECT_EQ(e.message, "unterminated string");
  EXPECT_FALSE(Parse("\"a\nb\"", &e));
  EXPECT_EQ(e.message, "control character in string");
  EXPECT_FALSE(Parse("\"\\x\"", &e));
  EXPECT_FALSE(Parse("\"\\ud800\"", &e));
  EXPECT_EQ(e.message, "lone high surrogate");
  EXPECT_FALSE(Parse("\"\\udc00\"", &e));
  EXPECT_FALSE(Parse("\"\\u12G4\"", &e));
  EXPECT_FALSE(Parse("tru", &e));
  EXPECT_FALSE(Parse("1 2", &e));
  EXPECT_EQ(e.message, "trailing characters after the document");
  EXPECT_FALSE(Parse("", &e));
  EXPECT_FALSE(Parse("{1: 2}", &e));
}

TEST(Json, LimitsNesting) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  ParseError e;
  EXPECT_FALSE(Parse(deep, &e));
  EXPECT_EQ(e.message, "nesting too deep");
  EXPECT_TRUE(Parse(deep, &e, 200));
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(Parse(ok));
}

}  // namespace
}  // namespace sw::filters::json

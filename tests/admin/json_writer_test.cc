// Tests the admin API's JSON writer: structure, commas, escaping, UTF-8 handling, numbers.
// Fails by gtest assertion; pure functions, no I/O.
#include "admin/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sw::admin {
namespace {

TEST(JsonWriterTest, NestsObjectsAndArraysWithCommas) {
  JsonWriter w;
  w.BeginObject();
  w.Field("a", 1);
  w.Key("b").BeginArray().Int(-2).UInt(3).Bool(true).Bool(false).Null().EndArray();
  w.Key("c").BeginObject().EndObject();
  w.Key("d").BeginArray().EndArray();
  w.Field("e", "x");
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[-2,3,true,false,null],"c":{},"d":[],"e":"x"})");
}

TEST(JsonWriterTest, ArrayOfObjects) {
  JsonWriter w;
  w.BeginArray();
  for (int i = 0; i < 3; ++i) w.BeginObject().Field("i", i).EndObject();
  w.EndArray();
  EXPECT_EQ(w.str(), R"([{"i":0},{"i":1},{"i":2}])");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(JsonString(std::string("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(JsonString("</script>"), R"("</script>")");
  EXPECT_EQ(JsonString(""), R"("")");
}

TEST(JsonWriterTest, PassesValidUtf8Through) {
  std::string s =
      "Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x82\xac \xf0\x9f\x93\xa7 \xe6\x97\xa5";
  EXPECT_EQ(JsonString(s), "\"" + s + "\"");
  // Largest code point and the edges around the surrogate block are valid.
  EXPECT_EQ(JsonString("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");
  EXPECT_EQ(JsonString("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");
  EXPECT_EQ(JsonString("\xee\x80\x80"), "\"\xee\x80\x80\"");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8PerByte) {
  EXPECT_EQ(JsonString("a\xff"
                       "b"),
            R"("a\ufffdb")");  // never valid
  EXPECT_EQ(JsonString("Gr\xfc\xdf"
                       "e"),
            R"("Gr\ufffd\ufffde")");                                           // Latin-1
  EXPECT_EQ(JsonString("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong '/'
  EXPECT_EQ(JsonString("\xe0\x80\xaf"), R"("\ufffd\ufffd\ufffd")");            // overlong
  EXPECT_EQ(JsonString("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // surrogate D800
  EXPECT_EQ(JsonString("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  EXPECT_EQ(JsonString("\xe2\x82"), R"("\ufffd\ufffd")");    // truncated at the end
  EXPECT_EQ(JsonString("\xe2\x82x"), R"("\ufffd\ufffdx")");  // truncated in the middle
  EXPECT_EQ(JsonString("\x80"), R"("\ufffd")");              // lone continuation byte
}

TEST(JsonWriterTest, KeysAreEscapedToo) {
  JsonWriter w;
  w.BeginObject().Field("k\"\n", "v").EndObject();
  EXPECT_EQ(w.str(), R"({"k\"\n":"v"})");
}

TEST(JsonWriterTest, Numbers) {
  JsonWriter w;
  w.BeginArray()
      .Int(INT64_MIN)
      .UInt(UINT64_MAX)
      .Double(0.5)
      .Double(1e21)
      .Double(NAN)
      .Double(INFINITY)
      .EndArray();
  EXPECT_EQ(w.str(), "[-9223372036854775808,18446744073709551615,0.5,1e+21,null,null]");
}

}  // namespace
}  // namespace sw::admin

// Tests the JSON text helpers around Boost.JSON: structure and member order, escaping, UTF-8
// pass-through and per-byte U+FFFD replacement, numbers. Fails by gtest assertion; no I/O.
#include "common/json_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace sw::json_text {
namespace {

namespace json = boost::json;

std::string Str(std::string_view s) { return Serialize(json::string(s)); }

const std::string kFffd = "\xef\xbf\xbd";  // U+FFFD in UTF-8

TEST(JsonTextTest, NestsObjectsAndArraysInInsertionOrder) {
  json::object o;
  o["b"] = 1;
  o["a"] = json::array{-2, 3u, true, false, nullptr};
  o["c"] = json::object();
  o["d"] = json::array();
  o["e"] = "x";
  EXPECT_EQ(Serialize(o), R"({"b":1,"a":[-2,3,true,false,null],"c":{},"d":[],"e":"x"})");
  EXPECT_EQ(Serialize(json::array{{{"i", 0}}, {{"i", 1}}}), R"([{"i":0},{"i":1}])");
}

TEST(JsonTextTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Str("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Str(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Str("</script>"), R"("</script>")");
  EXPECT_EQ(Str(""), R"("")");
}

TEST(JsonTextTest, PassesValidUtf8Through) {
  std::string s =
      "Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x82\xac \xf0\x9f\x93\xa7 \xe6\x97\xa5";
  EXPECT_EQ(Str(s), "\"" + s + "\"");
  EXPECT_EQ(ValidUtf8(s), s);
  // Largest code point and the edges around the surrogate block are valid.
  for (std::string ok : {"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80"}) {
    EXPECT_EQ(ValidUtf8(ok), ok);
    EXPECT_EQ(Str(ok), "\"" + ok + "\"");
  }
}

TEST(JsonTextTest, ReplacesInvalidUtf8PerByte) {
  auto fffd = [](int n) {
    std::string s;
    while (n--) s += kFffd;
    return s;
  };
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b"),
            "a" + fffd(1) + "b");  // never valid
  EXPECT_EQ(ValidUtf8("Gr\xfc\xdf"
                      "e"),
            "Gr" + fffd(2) + "e");                           // Latin-1
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), fffd(2));                 // overlong '/'
  EXPECT_EQ(ValidUtf8("\xe0\x80\xaf"), fffd(3));             // overlong
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), fffd(3));             // surrogate D800
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), fffd(4));         // > U+10FFFF
  EXPECT_EQ(ValidUtf8("\xe2\x82"), fffd(2));                 // truncated at the end
  EXPECT_EQ(ValidUtf8("\xe2\x82x"), fffd(2) + "x");          // truncated in the middle
  EXPECT_EQ(ValidUtf8("\x80"), fffd(1));                     // lone continuation byte
  EXPECT_EQ(Str("bad\xff\n"), "\"bad" + fffd(1) + "\\n\"");  // and escaped as usual

  // Keys and nested strings too: whatever goes in, the text parses back.
  json::object o;
  o["k\xff"] = json::array{"v\xc3", json::object{{"\xe2\x82", "\x80"}}};
  std::string text = Serialize(o);
  EXPECT_EQ(text,
            "{\"k" + kFffd + "\":[\"v" + kFffd + "\",{\"" + fffd(2) + "\":\"" + kFffd + "\"}]}");
  boost::system::error_code ec;
  json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(JsonTextTest, KeysAreEscapedToo) {
  EXPECT_EQ(Serialize(json::object{{"k\"\n", "v"}}), R"({"k\"\n":"v"})");
}

TEST(JsonTextTest, NumbersReadAsBeforeBoost) {
  json::array a{INT64_MIN, UINT64_MAX, 0.5, 6.0, -0.25, 1e21, 7.625, NAN, INFINITY, -INFINITY};
  EXPECT_EQ(Serialize(a),
            "[-9223372036854775808,18446744073709551615,0.5,6,-0.25,1e+21,7.625,"
            "null,null,null]");
  EXPECT_EQ(Serialize(json::value(0.1)), "0.1");  // shortest form that reads back exactly
}

}  // namespace
}  // namespace sw::json_text

// Owns what Boost.JSON leaves to us when we write JSON: valid UTF-8 and readable numbers.
// Cannot fail: invalid UTF-8 bytes become U+FFFD, non-finite numbers become null.
#include "common/json_text.h"

#include <charconv>
#include <cmath>

namespace sw::json_text {

namespace {

namespace json = boost::json;

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0, n; i < s.size(); i += n)
    if ((n = SequenceLength(s, i)) == 0) return false;
  return true;
}

void AppendString(std::string& out, std::string_view s) {
  out += IsValidUtf8(s) ? json::serialize(json::string_view(s.data(), s.size()))
                        : json::serialize(json::string_view(ValidUtf8(s)));
}

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, res.ptr);
}

void Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(out, member.key());
        out.push_back(':');
        Append(out, member.value());
      }
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Append(out, item);
      }
      out.push_back(']');
      return;
    }
    case json::kind::string:
      AppendString(out, v.get_string());
      return;
    case json::kind::double_:
      AppendDouble(out, v.get_double());
      return;
    default:  // null, bool, int64, uint64: Boost's text is already the plain one
      out += json::serialize(v);
      return;
  }
}

}  // namespace

std::string ValidUtf8(std::string_view s) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Serialize(const json::value& v) {
  std::string out;
  Append(out, v);
  return out;
}

}  // namespace sw::json_text

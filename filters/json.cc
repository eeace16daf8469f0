// Owns a small JSON reader (RFC 8259) for scanner replies: parse text into a value tree.
// Fails by returning nullopt with an error offset and message; never throws, bounded nesting.
#include "filters/json.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sw::filters::json {

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(double d) {
  Value v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

Value Value::Object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

const std::string& Value::AsString() const {
  static const std::string kEmpty;
  return is_string() ? string_ : kEmpty;
}

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, size_t max_depth) : s_(text), max_depth_(max_depth) {}

  std::optional<Value> Document(ParseError* error) {
    SkipSpace();
    std::optional<Value> v = ParseValue(0);
    if (v) {
      SkipSpace();
      if (pos_ != s_.size()) {
        Fail("trailing characters after the document");
        v.reset();
      }
    }
    if (!v && error) *error = error_;
    return v;
  }

 private:
  bool Fail(std::string message) {
    if (error_.message.empty()) {
      error_.offset = pos_;
      error_.message = std::move(message);
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  std::optional<Value> ParseValue(size_t depth) {
    if (pos_ >= s_.size()) {
      Fail("unexpected end of input");
      return std::nullopt;
    }
    char c = s_[pos_];
    switch (c) {
      case 'n':
        if (!Literal("null")) return std::nullopt;
        return Value::Null();
      case 't':
        if (!Literal("true")) return std::nullopt;
        return Value::Bool(true);
      case 'f':
        if (!Literal("false")) return std::nullopt;
        return Value::Bool(false);
      case '"': {
        std::string str;
        if (!ParseString(&str)) return std::nullopt;
        return Value::String(std::move(str));
      }
      case '[':
        return ParseArray(depth + 1);
      case '{':
        return ParseObject(depth + 1);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
        Fail(std::string("unexpected character '") + c + "'");
        return std::nullopt;
    }
  }

  std::optional<Value> ParseNumber() {
    size_t start = pos_;
    auto digits = [&] {
      size_t n = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_, ++n;
      return n;
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      Fail("bad number");
      return std::nullopt;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) {
        Fail("bad number: digits expected after '.'");
        return std::nullopt;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) {
        Fail("bad number: digits expected in exponent");
        return std::nullopt;
      }
    }
    std::string text(s_.substr(start, pos_ - start));
    errno = 0;
    double d = std::strtod(text.c_str(), nullptr);  // "C" locale: the daemon never sets one
    return Value::Number(d);
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad hex digit in \\u escape");
      }
    }
    *out = v;
    return true;
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) return Fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (s_.substr(pos_, 2) != "\\u") return Fail("lone high surrogate");
            pos_ += 2;
            if (!Hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          --pos_;
          return Fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  std::optional<Value> ParseArray(size_t depth) {
    if (depth > max_depth_) {
      Fail("nesting too deep");
      return std::nullopt;
    }
    ++pos_;  // [
    std::vector<Value> items;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Value::Array(std::move(items));
    }
    for (;;) {
      SkipSpace();
      auto v = ParseValue(depth);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
      SkipSpace();
      if (pos_ >= s_.size()) {
        Fail("unterminated array");
        return std::nullopt;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return Value::Array(std::move(items));
      }
      Fail("expected ',' or ']' in array");
      return std::nullopt;
    }
  }

  std::optional<Value> ParseObject(size_t depth) {
    if (depth > max_depth_) {
      Fail("nesting too deep");
      return std::nullopt;
    }
    ++pos_;  // {
    std::vector<std::pair<std::string, Value>> members;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Value::Object(std::move(members));
    }
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        Fail("expected a string key in object");
        return std::nullopt;
      }
      std::string key;
      if (!ParseString(&key)) return std::nullopt;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') {
        Fail("expected ':' after object key");
        return std::nullopt;
      }
      ++pos_;
      SkipSpace();
      auto v = ParseValue(depth);
      if (!v) return std::nullopt;
      members.emplace_back(std::move(key), std::move(*v));
      SkipSpace();
      if (pos_ >= s_.size()) {
        Fail("unterminated object");
        return std::nullopt;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return Value::Object(std::move(members));
      }
      Fail("expected ',' or '}' in object");
      return std::nullopt;
    }
  }

  std::string_view s_;
  size_t max_depth_;
  size_t pos_ = 0;
  ParseError error_;
};

}  // namespace

std::optional<Value> Parse(std::string_view text, ParseError* error, size_t max_depth) {
  return Parser(text, max_depth).Document(error);
}

}  // namespace sw::filters::json

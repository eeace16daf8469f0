// Owns the one sanitiser every client- or remote-derived value passes before we write it into
// a header, a DSN or a scanner request. Pure functions; nothing here fails (bad bytes become '?').
#include "common/header_text.h"

#include <algorithm>

namespace sw {

namespace {

// Length of the valid UTF-8 sequence at v[i] (2..4), or 0 (stray or truncated bytes, overlong
// forms, surrogates, code points above U+10FFFF).
size_t Utf8Length(std::string_view v, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(v[k]); };
  auto cont = [&](size_t k) { return k < v.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

// The character at value[i]: `len` octets, written as they are or as one `replacement`.
struct Char {
  size_t len = 1;
  char replacement = 0;  // 0: keep the `len` octets
};

Char Classify(std::string_view v, size_t i, TextCharset charset) {
  unsigned char c = static_cast<unsigned char>(v[i]);
  if (c == '\t') return {1, ' '};
  if (c < 0x20 || c == 0x7f) return {1, '?'};
  if (c < 0x80) return {1, 0};
  size_t n = Utf8Length(v, i);
  if (n == 0) return {1, '?'};
  if (charset == TextCharset::kAscii) return {n, '?'};  // one '?' per character
  unsigned char c1 = static_cast<unsigned char>(v[i + 1]);
  if (c == 0xC2 && c1 < 0xA0) return {n, '?'};  // C1 controls U+0080..U+009F (NEL among them)
  if (c == 0xE2 && c1 == 0x80) {
    unsigned char c2 = static_cast<unsigned char>(v[i + 2]);
    if (c2 == 0xA8 || c2 == 0xA9) return {n, '?'};  // U+2028 LINE / U+2029 PARAGRAPH SEPARATOR
  }
  return {n, 0};
}

}  // namespace

std::string HeaderText(std::string_view value, TextCharset charset, size_t max_len) {
  max_len = std::max<size_t>(max_len, 8);
  std::string out;
  out.reserve(std::min(value.size(), max_len));
  size_t fits = 0;  // the longest prefix of `out` that still leaves room for "..."
  for (size_t i = 0; i < value.size();) {
    Char ch = Classify(value, i, charset);
    size_t add = ch.replacement ? 1 : ch.len;
    if (out.size() + add > max_len) {
      out.resize(fits);
      out += "...";
      return out;
    }
    if (ch.replacement)
      out.push_back(ch.replacement);
    else
      out.append(value.substr(i, ch.len));
    if (out.size() + 3 <= max_len) fits = out.size();
    i += ch.len;
  }
  return out;
}

bool IsHeaderText(std::string_view value, TextCharset charset) {
  for (size_t i = 0; i < value.size();) {
    Char ch = Classify(value, i, charset);
    if (ch.replacement) return false;
    i += ch.len;
  }
  return true;
}

}  // namespace sw

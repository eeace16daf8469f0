// Owns what every fuzz target checks its outputs with: the invariant macro and text predicates.
// Fails by abort() with the broken invariant on stderr (libFuzzer keeps the input as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts (a libFuzzer crash) when `cond` is false.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace sw::fuzz {

// Every CR is followed by LF and every LF follows a CR: only CRLF line ends.
inline bool OnlyCrlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

// No C0 control byte (NUL, TAB, CR, LF included) and no DEL.
inline bool NoAsciiControl(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

// Header text: CRLF line ends only, and inside lines no control byte but TAB.
inline bool CleanLines(std::string_view s) {
  if (!OnlyCrlf(s)) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f) return false;
  }
  return true;
}

// The longest line (without its CRLF) of CRLF text.
inline size_t LongestLine(std::string_view s) {
  size_t longest = 0;
  size_t start = 0;
  while (start < s.size()) {
    size_t eol = s.find("\r\n", start);
    size_t end = eol == std::string_view::npos ? s.size() : eol;
    if (end - start > longest) longest = end - start;
    if (eol == std::string_view::npos) break;
    start = eol + 2;
  }
  return longest;
}

}  // namespace sw::fuzz

// Owns the one sanitiser every client- or remote-derived value passes before we write it into
// a header, a DSN or a scanner request. Pure functions; nothing here fails (bad bytes become '?').
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sw {

// Longest value HeaderText returns by default: with a field name of up to 100 octets the line
// stays under RFC 5322's 998.
inline constexpr size_t kMaxHeaderText = 850;

enum class TextCharset {
  kAscii,  // printable US-ASCII only (Diagnostic-Code, anything a 7-bit reader parses)
  kUtf8,   // printable US-ASCII and valid UTF-8 (SMTPUTF8 addresses, U-label HELO names)
};

// `value` as text for one header line: TAB becomes a space; every other control byte (NUL, CR,
// LF, the rest of C0, DEL), every C1 control and U+2028/U+2029 (line breaks to some readers),
// every invalid UTF-8 byte and, for kAscii, every other character over U+007F becomes '?'. At most
// `max_len` octets (never less than 8): a longer value is cut at a character boundary and ends in
// "...".
std::string HeaderText(std::string_view value, TextCharset charset = TextCharset::kUtf8,
                       size_t max_len = kMaxHeaderText);

// True when HeaderText(value, charset, SIZE_MAX) == value (no byte would be replaced).
bool IsHeaderText(std::string_view value, TextCharset charset = TextCharset::kUtf8);

}  // namespace sw

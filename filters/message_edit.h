// Owns header edits of a stored message: remove, insert after our Received header, tag Subject.
// Pure string functions; malformed input is handled conservatively and nothing here fails.
#pragma once

#include <string>
#include <string_view>

#include "filters/verdict.h"

namespace sw::filters {

// Applies the verdict's header changes to `message` (CRLF lines, starting with our own
// Received header): removes the listed fields from the client's header section (never our
// Received), inserts `add_headers` right after our Received header in order, and rewrites or
// prefixes Subject (adding one when the message has none). Header values are normalised to
// CRLF folding; fields with invalid names are skipped. The body is not touched.
std::string ApplyHeaderChanges(std::string_view message, const Verdict& verdict);

// True when `name` is a valid header field name (RFC 5322 ftext, 1..100 octets).
bool ValidHeaderName(std::string_view name);

// `value` with every line break made CRLF + a whitespace continuation (whitespace-only lines
// dropped), and the text of each line through HeaderText: no control byte but the folds' own
// whitespace, at most kMaxHeaderText octets a line.
std::string NormalizeHeaderValue(std::string_view value);

}  // namespace sw::filters

// Owns reading a message's header section into (name, value) fields for `queue show`.
// Fails soft: stops at the first empty line or the field limit; malformed lines are skipped.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::admin {

using HeaderField = std::pair<std::string, std::string>;

// Fields in order, names as written, values unfolded (each line break before a continuation
// line removed) with surrounding whitespace trimmed. Accepts CRLF or bare LF line ends.
std::vector<HeaderField> ParseHeaderSection(std::string_view message, size_t max_fields = 1000);

}  // namespace sw::admin

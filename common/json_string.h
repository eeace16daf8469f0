// Owns JSON string escaping shared by every JSON producer (admin API, QA reports).
// Cannot fail: invalid UTF-8 becomes U+FFFD, control characters become \u escapes.
#pragma once

#include <string>
#include <string_view>

namespace sw::json {

// Appends `s` as a quoted JSON string.
void AppendString(std::string& out, std::string_view s);
// `s` as a quoted JSON string.
std::string Quote(std::string_view s);
// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace sw::json

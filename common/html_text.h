// Owns HTML escaping for every page and mail part we render (scan reports, alert emails).
// Pure function; nothing here fails (bad bytes become U+FFFD).
#pragma once

#include <string>
#include <string_view>

namespace sw {

// & < > " ' -> entities; invalid UTF-8 bytes and control characters -> U+FFFD.
std::string HtmlEscape(std::string_view s);

}  // namespace sw

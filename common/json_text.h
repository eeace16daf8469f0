// Owns what Boost.JSON leaves to us when we write JSON: valid UTF-8 and readable numbers.
// Cannot fail: invalid UTF-8 bytes become U+FFFD, non-finite numbers become null.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace sw::json_text {

// `s` with each byte of an invalid UTF-8 sequence (stray or truncated bytes, overlong forms,
// surrogates, code points above U+10FFFF) replaced by U+FFFD; valid UTF-8 is kept as is.
std::string ValidUtf8(std::string_view s);

// boost::json::serialize, except that the text is always valid JSON and reads like before:
// strings and keys pass through ValidUtf8, doubles print in their shortest round-trip form
// ("6", "0.5", "1e+21", where Boost prints "6E0", "5E-1"), NaN and infinities print as null.
std::string Serialize(const boost::json::value& v);

}  // namespace sw::json_text

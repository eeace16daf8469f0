// Owns the wording helpers of config problem reports: "did you mean" suggestions and keeping
// each problem on one line. Pure functions; nothing here fails.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sw::config {

// " (did you mean `x`?)" for the nearest candidate within edit distance 2 of `word`
// (compared in lower case), else "".
std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates);

// `message` on one line: newline, CR and tab shown as \n \r \t, other control characters as
// '?', cut to 300 characters ("..." at the end).
std::string OneLine(std::string_view message);

}  // namespace sw::config

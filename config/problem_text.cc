// Owns the wording helpers of config problem reports: "did you mean" suggestions and keeping
// each problem on one line. Pure functions; nothing here fails.
#include "config/problem_text.h"

#include <algorithm>
#include <cctype>

namespace sw::config {

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string lower(word);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view best;
  size_t best_distance = 3;
  for (auto candidate : candidates) {
    size_t d = EditDistance(lower, candidate);
    if (d < best_distance && d < candidate.size()) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best.empty()) return "";
  return " (did you mean `" + std::string(best) + "`?)";
}

std::string OneLine(std::string_view message) {
  std::string line;
  line.reserve(message.size());
  for (char c : message) {
    if (c == '\n')
      line += "\\n";
    else if (c == '\r')
      line += "\\r";
    else if (c == '\t')
      line += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      line += '?';
    else
      line += c;
  }
  if (line.size() > 300) line = line.substr(0, 297) + "...";
  return line;
}

}  // namespace sw::config

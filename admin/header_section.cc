// Owns reading a message's header section into (name, value) fields for `queue show`.
// Fails soft: stops at the first empty line or the field limit; malformed lines are skipped.
#include "admin/header_section.h"

namespace sw::admin {

namespace {

std::string_view Trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 32 || c >= 127 || c == ':') return false;  // RFC 5322 ftext
  return true;
}

}  // namespace

std::vector<HeaderField> ParseHeaderSection(std::string_view message, size_t max_fields) {
  std::vector<HeaderField> fields;
  bool current_valid = false;  // the last line started a field we kept
  size_t pos = 0;
  while (pos < message.size()) {
    size_t eol = message.find('\n', pos);
    size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = next;
    if (line.empty()) break;  // end of the header section
    if (line.front() == ' ' || line.front() == '\t') {
      if (current_valid) fields.back().second.append(line);
      continue;
    }
    size_t colon = line.find(':');
    current_valid = colon != std::string_view::npos && ValidName(line.substr(0, colon));
    if (!current_valid) continue;
    if (fields.size() >= max_fields) break;
    fields.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  for (auto& f : fields) f.second = std::string(Trim(f.second));
  return fields;
}

}  // namespace sw::admin

// Owns the validation rules of a domain record shared by the YAML loader and the
// provisioning API (one validator): names, recipients, score order. Fails by message text.
#include "config/domain_rules.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace sw::config {

bool LooksLikeDomain(std::string_view s, bool allow_ip) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  std::string_view last;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last = label;
    start = end + 1;
  }
  bool numeric = std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
  return allow_ip || !numeric;
}

namespace {
std::string LowerTrim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string NormalizeDomainName(std::string_view s) {
  std::string name = LowerTrim(s);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return LooksLikeDomain(name, false) ? name : "";
}

std::string CheckRecipient(const std::string& text, const std::string& domain, std::string* out) {
  std::string recipient = LowerTrim(text);
  bool bad_chars = recipient.empty() || recipient.size() > 320 ||
                   std::any_of(recipient.begin(), recipient.end(), [](char c) {
                     return std::isspace(static_cast<unsigned char>(c)) ||
                            std::iscntrl(static_cast<unsigned char>(c)) || c == '<' || c == '>';
                   });
  size_t at = recipient.rfind('@');
  if (bad_chars || at == 0) return "bad recipient `" + text + "`";
  if (at != std::string::npos && recipient.substr(at + 1) != domain)
    return "`" + text + "` is not in domain `" + domain + "`";
  *out = recipient;
  return "";
}

std::string CheckScores(const SpamPolicy& spam) {
  if (spam.tag_score && spam.reject_score && *spam.tag_score > *spam.reject_score) {
    std::ostringstream m;
    m << "tag_score " << *spam.tag_score << " is above reject_score " << *spam.reject_score;
    return m.str();
  }
  return "";
}

}  // namespace sw::config

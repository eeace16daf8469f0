// Owns the small text helpers the relay queue's files share: domain of an address, enhanced
// status of a reply, a reply as logged. Cannot fail (fallbacks for malformed input).
#pragma once

#include <cctype>
#include <string>

#include "routing/destination.h"

namespace sw::queue::detail {

inline std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  std::string d = address.substr(at + 1);
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

// "550 5.1.1 text" -> "5.1.1"; falls back to a class default.
inline std::string StatusOf(const std::string& reply, bool permanent) {
  size_t sp = reply.find(' ');
  if (sp != std::string::npos) {
    std::string tok = reply.substr(sp + 1, reply.find(' ', sp + 1) - sp - 1);
    if (tok.size() >= 5 && (tok[0] == '4' || tok[0] == '5') && tok[1] == '.') return tok;
  }
  return permanent ? "5.0.0" : "4.0.0";
}

inline std::string FormatReply(const routing::SmtpReply& r) {
  return std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + r.text;
}

}  // namespace sw::queue::detail

// Owns the admin API's authentication: `Authorization: Bearer <token>`, compared in constant time.
// Fails closed: a missing, malformed or wrong header, or an unconfigured token, never passes.
#include "admin/bearer_auth.h"

#include <algorithm>

namespace sw::admin {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

AuthResult CheckBearer(std::string_view authorization, std::string_view token) {
  if (token.empty() || token == kPlaceholderToken) return AuthResult::kNotConfigured;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!authorization.empty() && is_space(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && is_space(authorization.back())) authorization.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !is_space(authorization[kScheme.size()]))
    return AuthResult::kMissing;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return AuthResult::kMissing;
  }
  std::string_view presented = authorization.substr(kScheme.size());
  while (!presented.empty() && is_space(presented.front())) presented.remove_prefix(1);
  if (presented.empty()) return AuthResult::kMissing;
  return ConstantTimeEquals(presented, token) ? AuthResult::kOk : AuthResult::kWrong;
}

}  // namespace sw::admin

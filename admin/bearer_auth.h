// Owns the admin API's authentication: `Authorization: Bearer <token>`, compared in constant time.
// Fails closed: a missing, malformed or wrong header, or an unconfigured token, never passes.
#pragma once

#include <string_view>

namespace sw::admin {

enum class AuthResult {
  kOk,
  kMissing,        // no Authorization header, or not the Bearer scheme: 401
  kWrong,          // Bearer with another token: 401
  kNotConfigured,  // admin.token is empty or still the placeholder: 403 for everyone
};

// The placeholder `admin.token` of config.h; a daemon still using it refuses every API call.
inline constexpr std::string_view kPlaceholderToken = "CHANGE-ME";

// Checks the value of the Authorization header against the configured token. The scheme
// name is case-insensitive (RFC 7235); the token is compared byte for byte.
AuthResult CheckBearer(std::string_view authorization, std::string_view token);

// Equality whose running time depends only on the lengths, not on where the bytes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sw::admin

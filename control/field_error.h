// Owns the validation error of an API or stored record: the field at fault and why.
// Plain data; nothing here fails.
#pragma once

#include <optional>
#include <string>

namespace sw::control {

struct FieldError {
  std::string field;  // "spam.tag_score", "destinations[1]", "" for the whole body
  std::string message;
};

using MaybeError = std::optional<FieldError>;

// "2026-11-30T05:22:27Z" for a Unix time in milliseconds (UTC).
std::string IsoTime(int64_t ms);

}  // namespace sw::control

// Owns the validation rules of a domain record shared by the YAML loader and the
// provisioning API (one validator): names, recipients, score order. Fails by message text.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace sw::config {

// Letters, digits, inner hyphens, dot-separated labels; `allow_ip` accepts dotted quads.
bool LooksLikeDomain(std::string_view s, bool allow_ip);
// Lower case, trimmed, one trailing dot dropped; "" when it is not a domain name.
std::string NormalizeDomainName(std::string_view s);
// A `recipients` entry of `domain`: "" when fine (`out` = the lower-cased form), else why not.
std::string CheckRecipient(const std::string& text, const std::string& domain, std::string* out);
// "" when tag_score <= reject_score (or either is off), else why not.
std::string CheckScores(const SpamPolicy& spam);

}  // namespace sw::config

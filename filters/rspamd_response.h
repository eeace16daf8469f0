// Owns the reading of an rspamd /checkv2 reply: JSON -> score, action, symbols, milter changes.
// Fails by value: a reply that is not the expected JSON gives a kFailed FilterResult.
#pragma once

#include <string_view>

#include "filters/filter.h"

namespace sw::filters {

// Parses a /checkv2 reply body into a FilterResult named "rspamd": `score`,
// `required_score`, `action`, `is_skipped` (forced), `symbols` (sorted by score, highest
// first, then by name), `subject`, and `milter.add_headers` (a string, {value, order} or a
// list of those) / `milter.remove_headers` (name -> index). Unknown keys are ignored.
FilterResult ParseCheckV2(std::string_view json);

}  // namespace sw::filters

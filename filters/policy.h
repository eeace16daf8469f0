// Owns the filtering policy of SPEC section 6: filter results + domain settings -> one Verdict,
// and which domains may share a transaction. Pure functions; nothing here fails or blocks.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "filters/filter.h"
#include "filters/verdict.h"

namespace sw::filters {

// Header names the gateway owns: set by us on scanned mail, removed when a client sends them.
inline constexpr const char* kSpamFlagHeader = "X-Spam-Flag";
inline constexpr const char* kSpamScoreHeader = "X-Spam-Score";
inline constexpr const char* kSpamStatusHeader = "X-Spam-Status";
inline constexpr const char* kUnscannedHeader = "X-SpamWeeder-Unscanned";

// One filter's result with the failure policy that applied to it.
struct PolicyInput {
  FilterResult result;
  config::OnFailure on_failure = config::OnFailure::kTempfail;
};

// Precedence: virus (554 5.7.1) > spam at/over reject_score or rspamd "reject" when the
// threshold is unset, or a forced (pre-filter) reject (550 5.7.1) > a failed filter under
// `tempfail` (451 4.7.1) > rspamd "soft reject" (451 4.7.1) > tag > accept. Every accepted
// scanned message gets X-Spam-Score / X-Spam-Status (when a spam score exists), rspamd's
// milter header changes, X-Spam-Flag: YES and the subject tag when tagged, and
// X-SpamWeeder-Unscanned naming the filters passed under `on_failure: accept`.
Verdict Decide(const config::DomainConfig& domain, const std::vector<PolicyInput>& inputs);

// The verdict for a domain without filtering: accept, no headers, nothing scanned.
Verdict Unfiltered();

// True when mail for both domains may go through one transaction: the same filtering flag
// and, when filtering, the same spam thresholds, subject tag and virus action.
bool SamePolicy(const config::DomainConfig& a, const config::DomainConfig& b);

// "7.63" (two decimals, "-0.00" avoided).
std::string FormatScore(double score);

// X-Spam-Status value: "Yes, score=7.63 required=6.00 tests=A,B" folded at 78 columns.
std::string SpamStatusValue(bool spam, double score, double required,
                            const std::vector<Symbol>& symbols);

}  // namespace sw::filters

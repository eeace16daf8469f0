// Owns the merged verdict of a message: accept, tag, reject or tempfail, plus what to log.
// Plain data built by policy.cc; nothing here fails.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "filters/filter.h"

namespace sw::filters {

enum class Disposition { kAccept, kTag, kReject, kTempfail };

const char* DispositionName(Disposition d);  // "accept", "tag", "reject", "tempfail"

struct Verdict {
  Disposition disposition = Disposition::kAccept;
  bool scanned = false;  // false: the domain does not filter (no headers at all)

  // Reply for kReject / kTempfail, e.g. 550 "5.7.1" "Spam message rejected".
  int code = 250;
  std::string enhanced;
  std::string text;
  std::string reason;  // short log reason: "virus", "spam", "soft reject", "rspamd failed"

  // Header changes for accepted messages (inserted after our Received header).
  std::vector<HeaderField> add_headers;
  std::vector<HeaderRemoval> remove_headers;
  std::string subject_prefix;  // prepended to Subject (tag)
  std::string new_subject;     // replaces Subject (rspamd "rewrite subject"); wins over prefix

  // For the `scanned` log line and metrics.
  std::optional<double> score;
  double required = 0;
  std::string action;                                     // rspamd's action
  std::vector<Symbol> symbols;                            // top symbols, highest score first
  std::string virus;                                      // empty: none
  std::vector<std::pair<std::string, double>> filter_ms;  // per filter
  std::vector<std::string> unscanned;  // failed filters that were passed (on_failure: accept)
  std::vector<std::string> failures;   // every failed filter: "name: error"

  std::string Reply() const { return std::to_string(code) + " " + enhanced + " " + text; }
};

inline const char* DispositionName(Disposition d) {
  switch (d) {
    case Disposition::kAccept:
      return "accept";
    case Disposition::kTag:
      return "tag";
    case Disposition::kReject:
      return "reject";
    case Disposition::kTempfail:
      return "tempfail";
  }
  return "accept";
}

}  // namespace sw::filters

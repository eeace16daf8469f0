// Owns the machine- and human-readable output of `spamweeder scan`: per-message rows and the
// summary as text, JSON or CSV. Pure formatting to a stream; nothing here fails.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "qa/scan_stats.h"

namespace sw::qa {

enum class Format { kText, kJson, kCsv };
std::optional<Format> ParseFormat(std::string_view s);

// The domain thresholds the scan ran with (marked next to the suggestion).
struct PolicyInfo {
  std::string domain;
  std::optional<double> tag_score;
  std::optional<double> reject_score;
};

// How many symbols a row names.
inline constexpr size_t kRowSymbols = 5;

std::string CsvField(std::string_view s);  // quoted when it holds , " CR LF
std::string SymbolList(const ScanRow& row, size_t n = kRowSymbols);  // "A(3.10),B(1.00)"
std::string Percent(const Rate& r);                                  // "95.12% (780/820)"

// text: one line per message then the summary; json: {"messages":[...],"summary":{...}};
// csv: a header line and one line per message (the summary goes to `summary_out` as text).
void WriteRows(std::ostream& out, Format format, const std::vector<ScanRow>& rows);
void WriteSummary(std::ostream& out, Format format, const ScanSummary& s, const PolicyInfo& p);
// The JSON document of rows and summary (format json): one message per line; numbers rounded
// as the text shows them (scores and rates to 4 places, milliseconds to 2).
void WriteJson(std::ostream& out, const std::vector<ScanRow>& rows, const ScanSummary& s,
               const PolicyInfo& p);

}  // namespace sw::qa

// Owns the self-contained HTML report of a corpus scan: summary, score histogram (inline SVG),
// threshold table, worst misses, virus hits. Pure formatting; every text is HTML-escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/html_text.h"
#include "qa/scan_output.h"
#include "qa/scan_stats.h"

namespace sw::qa {

using sw::HtmlEscape;  // common/html_text.h

struct ReportInfo {
  PolicyInfo policy;
  std::vector<std::string> inputs;  // the PATH arguments
  std::string generated;            // "2026-11-27 21:30 UTC"
  std::string version;
};

// How many worst false positives / negatives and virus hits are listed.
inline constexpr size_t kReportListed = 25;

std::string RenderHtmlReport(const std::vector<ScanRow>& rows, const ScanSummary& summary,
                             const ReportInfo& info);

}  // namespace sw::qa

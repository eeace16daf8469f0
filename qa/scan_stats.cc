// Owns the numbers of a corpus scan: per-message rows in, counts, rates, percentiles and the
// threshold table out. Pure functions over plain data; nothing here fails.
#include "qa/scan_stats.h"

#include <algorithm>
#include <cmath>

namespace sw::qa {

bool Detected(const ScanRow& r) { return r.verdict == "tag" || r.verdict == "reject"; }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(i, values.size() - 1)];
}

std::vector<ThresholdRow> ThresholdTable(const std::vector<ScanRow>& rows, double step) {
  std::vector<double> spam, ham;
  std::map<std::string, std::vector<double>> by_group;
  for (const auto& r : rows) {
    if (!r.score || r.verdict == "error") continue;
    if (r.label == Label::kSpam) spam.push_back(*r.score);
    if (r.label == Label::kHam) ham.push_back(*r.score);
    if (r.label != Label::kUnknown) by_group[r.group].push_back(*r.score);
  }
  std::vector<ThresholdRow> table;
  if (spam.empty() && ham.empty()) return table;
  double lo = 1e300, hi = -1e300;
  for (double s : spam) lo = std::min(lo, s), hi = std::max(hi, s);
  for (double s : ham) lo = std::min(lo, s), hi = std::max(hi, s);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step + step;
  // Integer steps: no accumulated floating-point drift.
  long n = std::lround((hi - lo) / step);
  for (long i = 0; i <= n; ++i) {
    ThresholdRow row;
    row.threshold = lo + step * static_cast<double>(i);
    row.spam.total = spam.size();
    row.ham.total = ham.size();
    for (double s : spam) row.spam.hits += s >= row.threshold;
    for (double s : ham) row.ham.hits += s >= row.threshold;
    for (const auto& [name, scores] : by_group) {
      Rate& g = row.groups[name];
      g.total = scores.size();
      for (double s : scores) g.hits += s >= row.threshold;
    }
    table.push_back(row);
  }
  return table;
}

void SuggestThresholds(const std::vector<ThresholdRow>& table, double max_tag_fp,
                       std::optional<double>* tag, std::optional<double>* reject) {
  tag->reset();
  reject->reset();
  if (table.empty() || table[0].spam.total == 0 || table[0].ham.total == 0) return;
  for (const auto& row : table) {
    if (!*tag && row.ham.value() <= max_tag_fp + 1e-12) *tag = row.threshold;
    if (!*reject && row.ham.hits == 0) *reject = row.threshold;
  }
  if (*tag && *reject && **reject < **tag) *reject = *tag;
}

std::map<std::string, GroupSuggestion> SuggestByHamGroup(const std::vector<ThresholdRow>& table,
                                                         const std::map<std::string, GroupStats>& g,
                                                         double max_tag_fp) {
  std::map<std::string, GroupSuggestion> out;
  std::vector<std::string> ham_groups;
  for (const auto& [name, stats] : g)
    if (stats.label == Label::kHam) ham_groups.push_back(name);
  if (ham_groups.size() < 2 || table.empty() || table[0].spam.total == 0) return out;
  for (const auto& name : ham_groups) {
    for (const auto& row : table) {
      auto it = row.groups.find(name);
      if (it == row.groups.end() || it->second.total == 0) break;
      if (it->second.value() <= max_tag_fp + 1e-12) {
        out[name] = {row.threshold, row.spam, it->second};
        break;
      }
    }
  }
  return out;
}

ScanSummary Summarize(const std::vector<ScanRow>& rows, double wall_seconds) {
  ScanSummary s;
  std::vector<double> ms;
  for (const auto& r : rows) {
    ++s.messages;
    ++s.counts[LabelName(r.label)][r.verdict];
    if (r.verdict == "error") {
      ++s.errors;
      s.scanner_errors += r.scanner_error;
      continue;
    }
    ms.push_back(r.ms);
    bool detected = Detected(r);
    if (r.label == Label::kSpam) {
      ++s.spam_detection.total;
      s.spam_detection.hits += detected;
    } else if (r.label == Label::kHam) {
      ++s.ham_false_positive.total;
      s.ham_false_positive.hits += detected;
    }
    if (!r.virus.empty()) ++s.viruses;
    if (r.verdict == "tempfail") ++s.tempfails;
    GroupStats& g = s.groups[r.group];
    if (g.messages == 0) g.label = r.label;
    if (g.label != r.label) g.label = Label::kUnknown;  // a mixed directory
    ++g.messages;
    ++g.detected.total;
    g.detected.hits += detected;
  }
  s.wall_seconds = wall_seconds;
  s.throughput = wall_seconds > 0 ? static_cast<double>(ms.size()) / wall_seconds : 0;
  s.p50_ms = Percentile(ms, 50);
  s.p95_ms = Percentile(ms, 95);
  s.p99_ms = Percentile(ms, 99);
  s.max_ms = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  s.thresholds = ThresholdTable(rows);
  SuggestThresholds(s.thresholds, 0.005, &s.suggested_tag, &s.suggested_reject);
  s.suggested_by_ham_group = SuggestByHamGroup(s.thresholds, s.groups, 0.005);
  return s;
}

}  // namespace sw::qa

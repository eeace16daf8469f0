// Owns the numbers of a corpus scan: per-message rows in, counts, rates, percentiles and the
// threshold table out. Pure functions over plain data; nothing here fails.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "filters/filter.h"
#include "qa/corpus_reader.h"

namespace sw::qa {

// What happened to one message. `verdict`: accept, tag, reject, tempfail (the gateway's
// dispositions) or "error" (an unreadable file, or a scanner that failed: nothing measured, so
// not counted in any rate).
struct ScanRow {
  std::string path;
  std::string group;
  Label label = Label::kUnknown;
  std::string verdict;
  std::string reason;  // the verdict's log reason: "spam", "virus", "scanner failed", ...
  std::optional<double> score;
  std::string action;                    // rspamd's action
  std::vector<filters::Symbol> symbols;  // top symbols (positive scores), highest first
  std::string virus;
  double ms = 0;               // wall time of the pipeline scan
  std::string error;           // unreadable file, or the filter failures ("rspamd: ...")
  bool scanner_error = false;  // "error" because a scanner failed (not an unreadable file)
};

bool Detected(const ScanRow& r);  // tagged or rejected

struct Rate {
  uint64_t hits = 0;
  uint64_t total = 0;
  double value() const { return total ? static_cast<double>(hits) / total : 0.0; }
};

struct ThresholdRow {
  double threshold = 0;
  Rate spam;                           // spam scoring >= threshold
  Rate ham;                            // ham scoring >= threshold
  std::map<std::string, Rate> groups;  // labelled messages of each group scoring >= threshold
};

// A tag_score tuned for one ham group alone (e.g. easy-ham-2 without hard-ham-1).
struct GroupSuggestion {
  double tag = 0;        // lowest threshold with this group's FP <= 0.5%
  Rate spam_detection;   // all spam scoring >= tag
  Rate false_positives;  // this group's ham scoring >= tag
};

struct GroupStats {
  Label label = Label::kUnknown;  // kUnknown when its messages carry different labels
  uint64_t messages = 0;
  Rate detected;  // tagged or rejected
};

struct ScanSummary {
  uint64_t messages = 0;        // rows, errors included
  uint64_t errors = 0;          // rows with verdict "error": unreadable + scanner errors
  uint64_t scanner_errors = 0;  // of them, messages a scanner failed on
  // counts[label][verdict], labels "spam", "ham", "" (unlabelled).
  std::map<std::string, std::map<std::string, uint64_t>> counts;
  Rate spam_detection;      // spam tagged or rejected / spam scanned
  Rate ham_false_positive;  // ham tagged or rejected / ham scanned
  uint64_t viruses = 0;
  uint64_t tempfails = 0;  // the gateway would answer 4xx (rspamd's soft reject)
  double wall_seconds = 0;
  double throughput = 0;  // scanned messages per second of wall time
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  std::map<std::string, GroupStats> groups;  // by directory name
  std::vector<ThresholdRow> thresholds;
  std::optional<double> suggested_tag;
  std::optional<double> suggested_reject;
  std::map<std::string, GroupSuggestion> suggested_by_ham_group;  // when 2+ ham groups
};

// Nearest-rank percentile (p in 0..100) of `values`; 0 when empty. Sorts a copy.
double Percentile(std::vector<double> values, double p);

// Candidate thresholds every `step` from floor(min score) to ceil(max score) + step, over the
// labelled rows with a score; the rates of spam and ham scoring at least each.
std::vector<ThresholdRow> ThresholdTable(const std::vector<ScanRow>& rows, double step = 0.5);

// tag: the lowest threshold with ham FP <= `max_tag_fp` (0.005); reject: the lowest with no ham
// at or above it, never below tag. nullopt without both spam and ham scores.
void SuggestThresholds(const std::vector<ThresholdRow>& table, double max_tag_fp,
                       std::optional<double>* tag, std::optional<double>* reject);

// For each ham group (when there are two or more): the tag threshold that group alone allows.
std::map<std::string, GroupSuggestion> SuggestByHamGroup(const std::vector<ThresholdRow>& table,
                                                         const std::map<std::string, GroupStats>& g,
                                                         double max_tag_fp);

ScanSummary Summarize(const std::vector<ScanRow>& rows, double wall_seconds);

}  // namespace sw::qa

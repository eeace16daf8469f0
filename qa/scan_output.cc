// Owns the machine- and human-readable output of `spamweeder scan`: per-message rows and the
// summary as text, JSON or CSV. Pure formatting to a stream; nothing here fails.
#include "qa/scan_output.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "common/json_text.h"
#include "filters/policy.h"

namespace sw::qa {

namespace {

namespace json = boost::json;

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ScoreText(const std::optional<double>& s) { return s ? filters::FormatScore(*s) : "-"; }

std::string OptText(const std::optional<double>& s) {
  return s ? filters::FormatScore(*s) : "unset";
}

// `v` as the text shows it with `decimals` places, read back ("-0.0000" as 0): the JSON
// holds the numbers it held when it was written with printf.
double Rounded(double v, int decimals) {
  return std::strtod(Fixed(v, decimals).c_str(), nullptr) + 0.0;
}

json::value JsonNumber(double v) { return Rounded(v, 4); }

json::value JsonOpt(const std::optional<double>& v) {
  return v ? JsonNumber(*v) : json::value(nullptr);
}

json::value JsonLabel(Label label) {
  return label == Label::kUnknown ? json::value(nullptr) : json::value(LabelName(label));
}

json::value JsonOptString(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::object JsonRate(const Rate& r) {
  return {{"hits", r.hits}, {"total", r.total}, {"rate", JsonNumber(r.value())}};
}

json::object RowJson(const ScanRow& r) {
  json::array symbols;
  for (const auto& sym : r.symbols) {
    if (symbols.size() == kRowSymbols) break;
    symbols.push_back(json::object{{"name", sym.name}, {"score", JsonNumber(sym.score)}});
  }
  json::object o;
  o["path"] = r.path;
  o["group"] = r.group;
  o["label"] = JsonLabel(r.label);
  o["verdict"] = r.verdict;
  o["reason"] = r.reason;
  o["score"] = JsonOpt(r.score);
  o["action"] = r.action;
  o["symbols"] = std::move(symbols);
  o["virus"] = JsonOptString(r.virus);
  o["ms"] = Rounded(r.ms, 2);
  o["error"] = JsonOptString(r.error);
  return o;
}

json::object SummaryJson(const ScanSummary& s, const PolicyInfo& p) {
  json::object o;
  o["domain"] = p.domain;
  o["tag_score"] = JsonOpt(p.tag_score);
  o["reject_score"] = JsonOpt(p.reject_score);
  o["messages"] = s.messages;
  o["errors"] = s.errors;
  o["scanner_errors"] = s.scanner_errors;
  o["unreadable"] = s.errors - s.scanner_errors;
  json::object counts;
  for (const auto& [label, verdicts] : s.counts) {
    json::object by_verdict;
    for (const auto& [verdict, n] : verdicts) by_verdict[verdict] = n;
    counts[label.empty() ? "unlabelled" : label] = std::move(by_verdict);
  }
  o["counts"] = std::move(counts);
  o["spam_detection"] = JsonRate(s.spam_detection);
  o["ham_false_positive"] = JsonRate(s.ham_false_positive);
  o["viruses"] = s.viruses;
  o["tempfails"] = s.tempfails;
  o["wall_seconds"] = JsonNumber(s.wall_seconds);
  o["throughput"] = JsonNumber(s.throughput);
  o["scan_ms"] = {{"p50", Rounded(s.p50_ms, 2)},
                  {"p95", Rounded(s.p95_ms, 2)},
                  {"p99", Rounded(s.p99_ms, 2)},
                  {"max", Rounded(s.max_ms, 2)}};
  json::object groups;
  for (const auto& [name, g] : s.groups)
    groups[name] = {{"label", JsonLabel(g.label)}, {"detected", JsonRate(g.detected)}};
  o["groups"] = std::move(groups);
  json::array thresholds;
  for (const auto& t : s.thresholds) {
    json::object by_group;
    for (const auto& [name, r] : t.groups) by_group[name] = JsonRate(r);
    thresholds.push_back(json::object{{"threshold", JsonNumber(t.threshold)},
                                      {"spam", JsonRate(t.spam)},
                                      {"ham", JsonRate(t.ham)},
                                      {"groups", std::move(by_group)}});
  }
  o["thresholds"] = std::move(thresholds);
  o["suggested_tag_score"] = JsonOpt(s.suggested_tag);
  o["suggested_reject_score"] = JsonOpt(s.suggested_reject);
  json::object by_ham_group;
  for (const auto& [name, g] : s.suggested_by_ham_group) {
    by_ham_group[name] = {{"tag_score", JsonNumber(g.tag)},
                          {"spam_detection", JsonRate(g.spam_detection)},
                          {"false_positives", JsonRate(g.false_positives)}};
  }
  o["suggested_by_ham_group"] = std::move(by_ham_group);
  return o;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view s) {
  if (s == "text") return Format::kText;
  if (s == "json") return Format::kJson;
  if (s == "csv") return Format::kCsv;
  return std::nullopt;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string SymbolList(const ScanRow& row, size_t n) {
  std::string out;
  size_t k = 0;
  for (const auto& s : row.symbols) {
    if (k++ == n) break;
    out += (out.empty() ? "" : ",") + s.name + "(" + filters::FormatScore(s.score) + ")";
  }
  return out;
}

std::string Percent(const Rate& r) {
  return Fixed(100.0 * r.value(), 2) + "% (" + std::to_string(r.hits) + "/" +
         std::to_string(r.total) + ")";
}

void WriteRows(std::ostream& out, Format format, const std::vector<ScanRow>& rows) {
  if (format == Format::kCsv) {
    out << "path,label,verdict,score,action,symbols,virus,ms,error\n";
    for (const auto& r : rows) {
      out << CsvField(r.path) << "," << LabelName(r.label) << "," << r.verdict << ","
          << (r.score ? filters::FormatScore(*r.score) : "") << "," << CsvField(r.action) << ","
          << CsvField(SymbolList(r)) << "," << CsvField(r.virus) << "," << Fixed(r.ms, 1) << ","
          << CsvField(r.error) << "\n";
    }
    return;
  }
  if (format != Format::kText) return;
  for (const auto& r : rows) {
    out << r.path << "  " << (r.label == Label::kUnknown ? "-" : LabelName(r.label)) << "  "
        << r.verdict << "  " << ScoreText(r.score) << "  " << (r.action.empty() ? "-" : r.action)
        << "  " << Fixed(r.ms, 1) << "ms";
    std::string sym = SymbolList(r);
    if (!sym.empty()) out << "  " << sym;
    if (!r.virus.empty()) out << "  virus=" << r.virus;
    if (!r.error.empty()) out << "  error=\"" << r.error << "\"";
    out << "\n";
  }
}

void WriteSummary(std::ostream& out, Format format, const ScanSummary& s, const PolicyInfo& p) {
  if (format == Format::kJson) return;  // part of WriteJson
  out << "\nsummary (domain " << p.domain << ", tag_score " << OptText(p.tag_score)
      << ", reject_score " << OptText(p.reject_score) << ")\n";
  out << "  messages        " << s.messages << " (" << s.errors - s.scanner_errors
      << " unreadable)\n";
  if (s.scanner_errors)
    out << "  scanner errors  " << s.scanner_errors
        << " (a scanner failed: not measured, counted in no rate)\n";
  for (const auto& [label, verdicts] : s.counts) {
    out << "  " << (label.empty() ? "unlabelled" : label) << ":";
    for (const auto& [verdict, n] : verdicts) out << " " << verdict << "=" << n;
    out << "\n";
  }
  out << "  spam detection  " << Percent(s.spam_detection) << "\n";
  out << "  ham false pos.  " << Percent(s.ham_false_positive) << "\n";
  out << "  viruses         " << s.viruses << "\n";
  if (s.tempfails) out << "  tempfails       " << s.tempfails << " (rspamd soft reject)\n";
  out << "  throughput      " << Fixed(s.throughput, 1) << " msg/s (" << Fixed(s.wall_seconds, 2)
      << " s wall)\n";
  out << "  scan time       p50 " << Fixed(s.p50_ms, 1) << " ms, p95 " << Fixed(s.p95_ms, 1)
      << " ms, p99 " << Fixed(s.p99_ms, 1) << " ms, max " << Fixed(s.max_ms, 1) << " ms\n";
  if (s.groups.size() > 1) {
    out << "  by group:\n";
    for (const auto& [name, g] : s.groups)
      out << "    " << (name.empty() ? "." : name) << " ("
          << (g.label == Label::kUnknown ? "unlabelled" : LabelName(g.label))
          << "): tagged or rejected " << Percent(g.detected) << "\n";
  }
  out << "  suggested       tag_score " << OptText(s.suggested_tag) << ", reject_score "
      << OptText(s.suggested_reject) << " (ham FP <= 0.5% / none)\n";
  for (const auto& [name, g] : s.suggested_by_ham_group)
    out << "  with " << name << " alone: tag_score " << filters::FormatScore(g.tag)
        << " (spam detection " << Percent(g.spam_detection) << ", " << name << " FP "
        << Percent(g.false_positives) << ")\n";
}

void WriteJson(std::ostream& out, const std::vector<ScanRow>& rows, const ScanSummary& s,
               const PolicyInfo& p) {
  // One message per line, then the summary: greppable without a JSON tool.
  out << "{\"messages\":[";
  bool first = true;
  for (const auto& r : rows) {
    out << (first ? "\n" : ",\n") << json_text::Serialize(RowJson(r));
    first = false;
  }
  out << "\n],\n\"summary\":" << json_text::Serialize(SummaryJson(s, p)) << "}\n";
}

}  // namespace sw::qa

// Owns the machine- and human-readable output of `spamweeder scan`: per-message rows and the
// summary as text, JSON or CSV. Pure formatting to a stream; nothing here fails.
#include "qa/scan_output.h"

#include <cstdio>

#include "common/json_string.h"
#include "filters/policy.h"

namespace sw::qa {

namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ScoreText(const std::optional<double>& s) { return s ? filters::FormatScore(*s) : "-"; }

std::string OptText(const std::optional<double>& s) {
  return s ? filters::FormatScore(*s) : "unset";
}

std::string JsonNumber(double v) { return Fixed(v, 4); }

std::string JsonOpt(const std::optional<double>& v) { return v ? JsonNumber(*v) : "null"; }

void JsonRate(std::ostream& out, const Rate& r) {
  out << "{\"hits\":" << r.hits << ",\"total\":" << r.total << ",\"rate\":" << JsonNumber(r.value())
      << "}";
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view s) {
  if (s == "text") return Format::kText;
  if (s == "json") return Format::kJson;
  if (s == "csv") return Format::kCsv;
  return std::nullopt;
}

std::string JsonString(std::string_view s) { return json::Quote(s); }

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
  out << "  messages        " << s.messages << " (" << s.errors << " unreadable)\n";
  for (const auto& [label, verdicts] : s.counts) {
    out << "  " << (label.empty() ? "unlabelled" : label) << ":";
    for (const auto& [verdict, n] : verdicts) out << " " << verdict << "=" << n;
    out << "\n";
  }
  out << "  spam detection  " << Percent(s.spam_detection) << "\n";
  out << "  ham false pos.  " << Percent(s.ham_false_positive) << "\n";
  out << "  viruses         " << s.viruses << "\n";
  if (s.tempfails) out << "  tempfails       " << s.tempfails << " (scanner failures)\n";
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
  out << "{\"messages\":[";
  bool first = true;
  for (const auto& r : rows) {
    out << (first ? "\n" : ",\n");
    first = false;
    out << "{\"path\":" << JsonString(r.path) << ",\"group\":" << JsonString(r.group)
        << ",\"label\":" << (r.label == Label::kUnknown ? "null" : JsonString(LabelName(r.label)))
        << ",\"verdict\":" << JsonString(r.verdict) << ",\"reason\":" << JsonString(r.reason)
        << ",\"score\":" << JsonOpt(r.score) << ",\"action\":" << JsonString(r.action)
        << ",\"symbols\":[";
    size_t k = 0;
    for (const auto& sym : r.symbols) {
      if (k == kRowSymbols) break;
      out << (k++ ? "," : "") << "{\"name\":" << JsonString(sym.name)
          << ",\"score\":" << JsonNumber(sym.score) << "}";
    }
    out << "],\"virus\":" << (r.virus.empty() ? "null" : JsonString(r.virus))
        << ",\"ms\":" << Fixed(r.ms, 2)
        << ",\"error\":" << (r.error.empty() ? "null" : JsonString(r.error)) << "}";
  }
  out << "\n],\n\"summary\":{\"domain\":" << JsonString(p.domain)
      << ",\"tag_score\":" << JsonOpt(p.tag_score)
      << ",\"reject_score\":" << JsonOpt(p.reject_score) << ",\"messages\":" << s.messages
      << ",\"errors\":" << s.errors << ",\"counts\":{";
  bool fl = true;
  for (const auto& [label, verdicts] : s.counts) {
    out << (fl ? "" : ",") << JsonString(label.empty() ? "unlabelled" : label) << ":{";
    fl = false;
    bool fv = true;
    for (const auto& [verdict, n] : verdicts) {
      out << (fv ? "" : ",") << JsonString(verdict) << ":" << n;
      fv = false;
    }
    out << "}";
  }
  out << "},\"spam_detection\":";
  JsonRate(out, s.spam_detection);
  out << ",\"ham_false_positive\":";
  JsonRate(out, s.ham_false_positive);
  out << ",\"viruses\":" << s.viruses << ",\"tempfails\":" << s.tempfails
      << ",\"wall_seconds\":" << JsonNumber(s.wall_seconds)
      << ",\"throughput\":" << JsonNumber(s.throughput)
      << ",\"scan_ms\":{\"p50\":" << Fixed(s.p50_ms, 2) << ",\"p95\":" << Fixed(s.p95_ms, 2)
      << ",\"p99\":" << Fixed(s.p99_ms, 2) << ",\"max\":" << Fixed(s.max_ms, 2) << "},\"groups\":{";
  bool fg = true;
  for (const auto& [name, g] : s.groups) {
    out << (fg ? "" : ",") << JsonString(name)
        << ":{\"label\":" << (g.label == Label::kUnknown ? "null" : JsonString(LabelName(g.label)))
        << ",\"detected\":";
    JsonRate(out, g.detected);
    out << "}";
    fg = false;
  }
  out << "},\"thresholds\":[";
  for (size_t i = 0; i < s.thresholds.size(); ++i) {
    const auto& t = s.thresholds[i];
    out << (i ? "," : "") << "{\"threshold\":" << JsonNumber(t.threshold) << ",\"spam\":";
    JsonRate(out, t.spam);
    out << ",\"ham\":";
    JsonRate(out, t.ham);
    out << ",\"groups\":{";
    bool fg2 = true;
    for (const auto& [name, r] : t.groups) {
      out << (fg2 ? "" : ",") << JsonString(name) << ":";
      JsonRate(out, r);
      fg2 = false;
    }
    out << "}}";
  }
  out << "],\"suggested_tag_score\":" << JsonOpt(s.suggested_tag)
      << ",\"suggested_reject_score\":" << JsonOpt(s.suggested_reject)
      << ",\"suggested_by_ham_group\":{";
  bool fs = true;
  for (const auto& [name, g] : s.suggested_by_ham_group) {
    out << (fs ? "" : ",") << JsonString(name) << ":{\"tag_score\":" << JsonNumber(g.tag)
        << ",\"spam_detection\":";
    JsonRate(out, g.spam_detection);
    out << ",\"false_positives\":";
    JsonRate(out, g.false_positives);
    out << "}";
    fs = false;
  }
  out << "}}}\n";
}

}  // namespace sw::qa

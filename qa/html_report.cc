// Owns the self-contained HTML report of a corpus scan: summary, score histogram (inline SVG),
// threshold table, worst misses, virus hits. Pure formatting; every text is HTML-escaped.
#include "qa/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "filters/policy.h"

namespace sw::qa {

namespace {

constexpr const char* kStyle = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;
  background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;margin-bottom:16px}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.cur td{background:#fff4cc}tr.sug td{background:#dff3df}tr.cur.sug td{background:#e8f0c8}
.tag{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;margin-left:4px}
.tcur{background:#f5c542}.tsug{background:#6cc070;color:#fff}
.spam{color:#b3261e}.ham{color:#1e7b34}.sym{font-family:ui-monospace,monospace;font-size:12px}
.path{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.kpi{display:inline-block;border:1px solid #ddd;border-radius:6px;padding:8px 14px;
  margin:4px 8px 4px 0}
.kpi b{display:block;font-size:20px}
.warn{background:#fde2e1;border:1px solid #b3261e;border-radius:6px;padding:8px 12px}
)css";

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string E(std::string_view s) { return HtmlEscape(s); }

std::string Score(const std::optional<double>& s) { return s ? filters::FormatScore(*s) : "-"; }

std::string Pct(const Rate& r) { return Fixed(100.0 * r.value(), 2) + "%"; }

bool Near(double a, const std::optional<double>& b, double step) {
  return b && std::fabs(a - *b) < step / 2 - 1e-9;
}

std::string Symbols(const ScanRow& r) {
  std::string out;
  size_t k = 0;
  for (const auto& s : r.symbols) {
    if (k++ == 8) break;
    out += (out.empty() ? "" : ", ") + E(s.name) + "&nbsp;" + filters::FormatScore(s.score);
  }
  return out;
}

void Kpi(std::string* h, const std::string& label, const std::string& value) {
  *h += "<div class=\"kpi\"><b>" + value + "</b>" + E(label) + "</div>";
}

void SummarySection(std::string* h, const ScanSummary& s, const ReportInfo& info) {
  *h += "<h2>Summary</h2>";
  if (s.scanner_errors)
    *h += "<p class=\"warn\">" + std::to_string(s.scanner_errors) +
          " messages were not measured: a scanner failed (listed under Errors). They are "
          "counted in no rate.</p>";
  *h += "<div>";
  Kpi(h, "spam detected (tag or reject)", Pct(s.spam_detection));
  Kpi(h, "ham false positives", Pct(s.ham_false_positive));
  Kpi(h, "virus detections", std::to_string(s.viruses));
  if (s.scanner_errors) Kpi(h, "scanner errors", std::to_string(s.scanner_errors));
  Kpi(h, "messages / s", Fixed(s.throughput, 1));
  Kpi(h, "scan p50 / p95 / p99 ms",
      Fixed(s.p50_ms, 0) + " / " + Fixed(s.p95_ms, 0) + " / " + Fixed(s.p99_ms, 0));
  *h += "</div><table><tr><th>label</th><th>messages</th>";
  static const char* kVerdicts[] = {"accept", "tag", "reject", "tempfail", "error"};
  for (const char* v : kVerdicts) *h += std::string("<th>") + v + "</th>";
  *h += "</tr>";
  for (const auto& [label, verdicts] : s.counts) {
    uint64_t total = 0;
    for (const auto& [v, n] : verdicts) total += n;
    *h += "<tr><td>" + E(label.empty() ? "unlabelled" : label) + "</td><td class=\"n\">" +
          std::to_string(total) + "</td>";
    for (const char* v : kVerdicts) {
      auto it = verdicts.find(v);
      *h += "<td class=\"n\">" + std::to_string(it == verdicts.end() ? 0 : it->second) + "</td>";
    }
    *h += "</tr>";
  }
  *h += "</table>";
  *h += "<p>Spam detection " + E(Percent(s.spam_detection)) + "; ham false positives " +
        E(Percent(s.ham_false_positive)) + "; " + std::to_string(s.messages) + " messages (" +
        std::to_string(s.errors - s.scanner_errors) + " unreadable, " +
        std::to_string(s.scanner_errors) + " scanner errors, " + std::to_string(s.tempfails) +
        " tempfailed) in " + Fixed(s.wall_seconds, 2) + " s.</p>";
  if (s.groups.size() > 1) {
    *h +=
        "<table><tr><th>group</th><th>label</th><th>messages</th><th>tagged or rejected</th>"
        "</tr>";
    for (const auto& [name, g] : s.groups)
      *h += "<tr><td>" + E(name.empty() ? "." : name) + "</td><td>" +
            E(g.label == Label::kUnknown ? "-" : LabelName(g.label)) + "</td><td class=\"n\">" +
            std::to_string(g.messages) + "</td><td class=\"n\">" + E(Percent(g.detected)) +
            "</td></tr>";
    *h += "</table>";
  }
  (void)info;
}

// Whole-number score bins over [lo, hi), at most 60, their width a power of two.
struct ScoreBins {
  double lo = 0, hi = 0, width = 1;
  std::vector<uint64_t> spam, ham;  // messages per bin
};

ScoreBins MakeBins(const std::vector<double>& spam, const std::vector<double>& ham) {
  ScoreBins b;
  double lo = 1e300, hi = -1e300;
  for (double v : spam) lo = std::min(lo, v), hi = std::max(hi, v);
  for (double v : ham) lo = std::min(lo, v), hi = std::max(hi, v);
  b.lo = std::floor(lo);
  b.hi = std::floor(hi) + 1;
  while ((b.hi - b.lo) / b.width > 60) b.width *= 2;
  size_t nbins = static_cast<size_t>(std::ceil((b.hi - b.lo) / b.width));
  b.spam.assign(nbins, 0);
  b.ham.assign(nbins, 0);
  auto bin = [&](double v) {
    auto i = static_cast<size_t>(std::floor((v - b.lo) / b.width));
    return std::min(i, nbins - 1);
  };
  for (double v : spam) ++b.spam[bin(v)];
  for (double v : ham) ++b.ham[bin(v)];
  return b;
}

void Histogram(std::string* h, const std::vector<ScanRow>& rows, const ReportInfo& info) {
  std::vector<double> spam, ham;
  for (const auto& r : rows) {
    if (!r.score || r.verdict == "error") continue;
    if (r.label == Label::kSpam) spam.push_back(*r.score);
    if (r.label == Label::kHam) ham.push_back(*r.score);
  }
  *h += "<h2>Score histogram</h2>";
  if (spam.empty() && ham.empty()) {
    *h += "<p>No labelled message has a spam score.</p>";
    return;
  }
  ScoreBins b = MakeBins(spam, ham);
  const double lo = b.lo, hi = b.hi, width = b.width;
  const size_t nbins = b.spam.size();
  const std::vector<uint64_t>&sb = b.spam, &hb = b.ham;
  uint64_t highest = 1;
  for (size_t i = 0; i < nbins; ++i) highest = std::max({highest, sb[i], hb[i]});
  // Four whole-number ticks: the axis ends at 4 x ceil(highest / 4).
  uint64_t tick = (highest + 3) / 4;
  uint64_t peak = tick * 4;
  const double W = 1100, H = 320, left = 50, bottom = 40, top = 20;
  double plot_w = W - left - 20, plot_h = H - bottom - top;
  double bw = plot_w / nbins;
  auto x_of = [&](double score) { return left + (score - lo) / width * bw; };
  *h += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(W, 0) + "\" height=\"" +
        Fixed(H, 0) + "\" role=\"img\" aria-label=\"score histogram\">";
  *h += "<rect x=\"0\" y=\"0\" width=\"" + Fixed(W, 0) + "\" height=\"" + Fixed(H, 0) +
        "\" fill=\"#fff\"/>";
  // y axis ticks
  for (int k = 0; k <= 4; ++k) {
    double y = top + plot_h - plot_h * k / 4.0;
    *h += "<line x1=\"" + Fixed(left, 1) + "\" x2=\"" + Fixed(W - 20, 1) + "\" y1=\"" +
          Fixed(y, 1) + "\" y2=\"" + Fixed(y, 1) + "\" stroke=\"#eee\"/>";
    *h += "<text x=\"" + Fixed(left - 6, 1) + "\" y=\"" + Fixed(y + 4, 1) +
          "\" font-size=\"11\" text-anchor=\"end\">" + std::to_string(tick * k) + "</text>";
  }
  for (size_t i = 0; i < nbins; ++i) {
    double x = left + i * bw;
    double sh = plot_h * sb[i] / peak, hh = plot_h * hb[i] / peak;
    std::string label = Fixed(lo + i * width, 0) + ".." + Fixed(lo + (i + 1) * width, 0);
    if (hb[i])
      *h += "<rect x=\"" + Fixed(x + 1, 1) + "\" y=\"" + Fixed(top + plot_h - hh, 1) +
            "\" width=\"" + Fixed(bw / 2 - 1, 1) + "\" height=\"" + Fixed(hh, 1) +
            "\" fill=\"#3a9a50\"><title>ham " + label + ": " + std::to_string(hb[i]) +
            "</title></rect>";
    if (sb[i])
      *h += "<rect x=\"" + Fixed(x + bw / 2, 1) + "\" y=\"" + Fixed(top + plot_h - sh, 1) +
            "\" width=\"" + Fixed(bw / 2 - 1, 1) + "\" height=\"" + Fixed(sh, 1) +
            "\" fill=\"#d0453a\"><title>spam " + label + ": " + std::to_string(sb[i]) +
            "</title></rect>";
    size_t every = nbins > 30 ? 5 : nbins > 15 ? 2 : 1;
    if (i % every == 0)
      *h += "<text x=\"" + Fixed(x, 1) + "\" y=\"" + Fixed(top + plot_h + 14, 1) +
            "\" font-size=\"11\" text-anchor=\"middle\">" + Fixed(lo + i * width, 0) + "</text>";
  }
  *h += "<line x1=\"" + Fixed(left, 1) + "\" x2=\"" + Fixed(W - 20, 1) + "\" y1=\"" +
        Fixed(top + plot_h, 1) + "\" y2=\"" + Fixed(top + plot_h, 1) + "\" stroke=\"#444\"/>";
  auto marker = [&](const std::optional<double>& t, const char* color, const std::string& name) {
    if (!t || *t < lo || *t > hi) return;
    double x = x_of(*t);
    *h += "<line x1=\"" + Fixed(x, 1) + "\" x2=\"" + Fixed(x, 1) + "\" y1=\"" + Fixed(top, 1) +
          "\" y2=\"" + Fixed(top + plot_h, 1) + "\" stroke=\"" + color +
          "\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>";
    *h += "<text x=\"" + Fixed(x + 3, 1) + "\" y=\"" + Fixed(top + 10, 1) +
          "\" font-size=\"11\" fill=\"" + color + "\">" + E(name) + " " + filters::FormatScore(*t) +
          "</text>";
  };
  marker(info.policy.tag_score, "#b8860b", "tag");
  marker(info.policy.reject_score, "#7b1fa2", "reject");
  *h += "<text x=\"" + Fixed(W / 2, 1) + "\" y=\"" + Fixed(H - 6, 1) +
        "\" font-size=\"12\" text-anchor=\"middle\">spam score (bins of " + Fixed(width, 0) +
        "); green: ham (" + std::to_string(ham.size()) + "), red: spam (" +
        std::to_string(spam.size()) + ")</text></svg>";
}

void ThresholdSection(std::string* h, const ScanSummary& s, const ReportInfo& info) {
  *h += "<h2>Thresholds</h2>";
  const auto& p = info.policy;
  *h += "<p>Current for " + E(p.domain) + ": tag_score <b>" + Score(p.tag_score) +
        "</b>, reject_score <b>" + Score(p.reject_score) + "</b>. Suggested: tag_score <b>" +
        Score(s.suggested_tag) +
        "</b> (lowest with ham false "
        "positives &le; 0.5%), reject_score <b>" +
        Score(s.suggested_reject) +
        "</b> (lowest with no ham at or above it). Rates are by score alone (viruses and "
        "forced actions aside).</p>";
  if (s.thresholds.empty()) {
    *h += "<p>No labelled message has a spam score.</p>";
    return;
  }
  for (const auto& [name, g] : s.suggested_by_ham_group)
    *h += "<p>With " + E(name) + " alone as the ham: tag_score <b>" + filters::FormatScore(g.tag) +
          "</b> catches " + E(Percent(g.spam_detection)) + " of the spam at " +
          E(Percent(g.false_positives)) + " false positives in " + E(name) + ".</p>";
  // Per-group columns when the scan spans several labelled groups.
  std::vector<std::string> groups;
  if (s.thresholds[0].groups.size() > 1)
    for (const auto& [name, r] : s.thresholds[0].groups) groups.push_back(name);
  *h +=
      "<table><tr><th>score &ge;</th><th>spam caught</th><th>ham caught (false positives)"
      "</th>";
  for (const auto& g : groups) *h += "<th>" + E(g) + "</th>";
  *h += "<th></th></tr>";
  const double step =
      s.thresholds.size() > 1 ? s.thresholds[1].threshold - s.thresholds[0].threshold : 0.5;
  for (const auto& t : s.thresholds) {
    bool cur = Near(t.threshold, p.tag_score, step) || Near(t.threshold, p.reject_score, step);
    bool sug =
        Near(t.threshold, s.suggested_tag, step) || Near(t.threshold, s.suggested_reject, step);
    std::string cls = std::string(cur ? "cur" : "") + (cur && sug ? " " : "") + (sug ? "sug" : "");
    std::string marks;
    if (Near(t.threshold, p.tag_score, step))
      marks += "<span class=\"tag tcur\">current tag</span>";
    if (Near(t.threshold, p.reject_score, step))
      marks += "<span class=\"tag tcur\">current reject</span>";
    if (Near(t.threshold, s.suggested_tag, step))
      marks += "<span class=\"tag tsug\">suggested tag</span>";
    if (Near(t.threshold, s.suggested_reject, step))
      marks += "<span class=\"tag tsug\">suggested reject</span>";
    *h += "<tr" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + "><td class=\"n\">" +
          Fixed(t.threshold, 1) + "</td><td class=\"n\">" + E(Percent(t.spam)) +
          "</td><td class=\"n\">" + E(Percent(t.ham)) + "</td>";
    for (const auto& g : groups) {
      auto it = t.groups.find(g);
      *h += "<td class=\"n\">" + (it == t.groups.end() ? std::string("-") : Pct(it->second)) +
            "</td>";
    }
    *h += "<td>" + marks + "</td></tr>";
  }
  *h += "</table>";
}

void RowTable(std::string* h, const std::vector<const ScanRow*>& list, bool with_virus) {
  *h += "<table><tr><th>message</th><th>verdict</th><th>score</th><th>action</th><th>" +
        std::string(with_virus ? "virus" : "top symbols") + "</th></tr>";
  for (const ScanRow* r : list)
    *h += "<tr><td class=\"path\">" + E(r->path) + "</td><td>" + E(r->verdict) +
          "</td><td class=\"n\">" + Score(r->score) + "</td><td>" + E(r->action) +
          "</td><td class=\"sym\">" + (with_virus ? E(r->virus) : Symbols(*r)) + "</td></tr>";
  *h += "</table>";
}

void MissSections(std::string* h, const std::vector<ScanRow>& rows) {
  std::vector<const ScanRow*> fp, fn, viruses, errors;
  for (const auto& r : rows) {
    if (r.verdict == "error") {
      errors.push_back(&r);
      continue;
    }
    if (!r.virus.empty()) viruses.push_back(&r);
    if (r.label == Label::kHam && (Detected(r) || r.score)) fp.push_back(&r);
    if (r.label == Label::kSpam && !Detected(r)) fn.push_back(&r);
  }
  auto score = [](const ScanRow* r) { return r->score.value_or(0); };
  // Worst false positives: detected ham first, then the highest-scoring ham.
  std::stable_sort(fp.begin(), fp.end(), [&](const ScanRow* a, const ScanRow* b) {
    if (Detected(*a) != Detected(*b)) return Detected(*a);
    return score(a) > score(b);
  });
  std::stable_sort(fn.begin(), fn.end(),
                   [&](const ScanRow* a, const ScanRow* b) { return score(a) < score(b); });
  size_t fp_hits = 0;
  for (const ScanRow* r : fp) fp_hits += Detected(*r);
  if (fp.size() > kReportListed) fp.resize(kReportListed);
  if (fn.size() > kReportListed) fn.resize(kReportListed);
  *h += "<h2>Worst false positives</h2><p>" + std::to_string(fp_hits) +
        " ham messages tagged or rejected; the highest-scoring ham:</p>";
  if (fp.empty())
    *h += "<p>None.</p>";
  else
    RowTable(h, fp, false);
  *h +=
      "<h2>Worst false negatives</h2><p>Spam neither tagged nor rejected, lowest score "
      "first:</p>";
  if (fn.empty())
    *h += "<p>None.</p>";
  else
    RowTable(h, fn, false);
  *h += "<h2>Virus hits</h2>";
  if (viruses.empty())
    *h += "<p>None.</p>";
  else
    RowTable(h, viruses, true);
  if (!errors.empty()) {
    *h += "<h2>Errors</h2><table><tr><th>path</th><th>kind</th><th>error</th></tr>";
    for (const ScanRow* r : errors)
      *h += "<tr><td class=\"path\">" + E(r->path) + "</td><td>" +
            (r->scanner_error ? "scanner failed" : "unreadable") + "</td><td>" + E(r->error) +
            "</td></tr>";
    *h += "</table>";
  }
}

}  // namespace

std::string RenderHtmlReport(const std::vector<ScanRow>& rows, const ScanSummary& summary,
                             const ReportInfo& info) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width\">"
       "<title>SpamWeeder scan report: " +
       E(info.policy.domain) + "</title><style>" + kStyle + "</style></head><body>\n";
  h += "<h1>SpamWeeder scan report</h1><div class=\"meta\">domain <b>" + E(info.policy.domain) +
       "</b>";
  if (!info.generated.empty()) h += " &middot; " + E(info.generated);
  if (!info.version.empty()) h += " &middot; spamweeder " + E(info.version);
  h += "<br>inputs:";
  for (const auto& in : info.inputs) h += " <span class=\"path\">" + E(in) + "</span>";
  h += "</div>\n";
  SummarySection(&h, summary, info);
  h += "\n";
  Histogram(&h, rows, info);
  h += "\n";
  ThresholdSection(&h, summary, info);
  h += "\n";
  MissSections(&h, rows);
  h += "\n</body></html>\n";
  return h;
}

}  // namespace sw::qa

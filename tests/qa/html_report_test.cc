// Tests the HTML report: escaping of every text, self-containment (no external assets), the
// histogram, marked thresholds and the worst-miss lists. Fails with an assertion.
#include "qa/html_report.h"

#include <gtest/gtest.h>

namespace sw::qa {
namespace {

TEST(HtmlEscapeTest, EntitiesControlsAndBadUtf8) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(HtmlEscape("\xff\x01"), "&#xFFFD;&#xFFFD;");
  EXPECT_EQ(HtmlEscape("tab\tok"), "tab\tok");
}

std::vector<ScanRow> Rows() {
  std::vector<ScanRow> rows;
  auto add = [&](const std::string& path, Label l, const std::string& verdict, double score,
                 const std::string& sym, const std::string& virus = "") {
    ScanRow r;
    r.path = path;
    r.group = l == Label::kSpam ? "spam" : "ham";
    r.label = l;
    r.verdict = verdict;
    r.score = score;
    r.action = "add header";
    r.symbols = {{sym, 3.0}};
    r.virus = virus;
    r.ms = 5;
    rows.push_back(r);
  };
  add("ham/<script>alert(1)</script>.eml", Label::kHam, "tag", 7.5, "EVIL_<b>SYM</b>");
  add("ham/ok.eml", Label::kHam, "accept", 0.5, "OK");
  add("spam/missed&.eml", Label::kSpam, "accept", 1.0, "LOW");
  add("spam/caught.eml", Label::kSpam, "reject", 16.0, "GTUBE");
  add("spam/virus.eml", Label::kSpam, "reject", 2.0, "X", "Eicar-\"Test\"");
  ScanRow err;
  err.path = "ham/<unreadable>";
  err.verdict = "error";
  err.error = "Permission <denied>";
  err.label = Label::kHam;
  rows.push_back(err);
  return rows;
}

TEST(HtmlReportTest, EscapedAndSelfContained) {
  auto rows = Rows();
  ScanSummary s = Summarize(rows, 1.0);
  ReportInfo info{{"exa<mple>.com", 6.0, 15.0}, {"in<put>"}, "2026-11-27 21:00 UTC", "0.1.0"};
  std::string h = RenderHtmlReport(rows, s, info);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(h.find("<b>SYM"), std::string::npos);
  EXPECT_NE(h.find("EVIL_&lt;b&gt;SYM&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(h.find("exa&lt;mple&gt;.com"), std::string::npos);
  EXPECT_NE(h.find("Eicar-&quot;Test&quot;"), std::string::npos);
  EXPECT_NE(h.find("Permission &lt;denied&gt;"), std::string::npos);
  EXPECT_NE(h.find("missed&amp;.eml"), std::string::npos);
  // Self-contained: no scripts, links, images or imports.
  for (const char* bad : {"src=", "href=", "<link", "@import", "url("})
    EXPECT_EQ(h.find(bad), std::string::npos) << bad;
  EXPECT_NE(h.find("<svg"), std::string::npos);
  EXPECT_NE(h.find("<style>"), std::string::npos);
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(h.find("</html>"), std::string::npos);
}

TEST(HtmlReportTest, ThresholdsMarkedAndMissesListed) {
  auto rows = Rows();
  ScanSummary s = Summarize(rows, 1.0);
  ReportInfo info{{"example.com", 6.0, 15.0}, {"x"}, "", ""};
  std::string h = RenderHtmlReport(rows, s, info);
  EXPECT_NE(h.find("current tag"), std::string::npos);
  EXPECT_NE(h.find("current reject"), std::string::npos);
  EXPECT_NE(h.find("suggested tag"), std::string::npos);
  // The tagged ham is the worst false positive, the 1.0 spam the worst false negative.
  size_t fp = h.find("Worst false positives");
  size_t fn = h.find("Worst false negatives");
  size_t vir = h.find("Virus hits");
  ASSERT_NE(fp, std::string::npos);
  ASSERT_NE(fn, std::string::npos);
  ASSERT_NE(vir, std::string::npos);
  size_t tagged_ham = h.find("alert(1)", fp);
  EXPECT_LT(tagged_ham, fn);
  size_t missed = h.find("missed&amp;.eml", fn);
  EXPECT_LT(missed, vir);
  EXPECT_NE(h.find("spam/virus.eml", vir), std::string::npos);
}

TEST(HtmlReportTest, ScannerErrorsWarnedAndListed) {
  auto rows = Rows();
  ScanRow failed;
  failed.path = "spam/not-measured.eml";
  failed.label = Label::kSpam;
  failed.verdict = "error";
  failed.reason = "scanner failed";
  failed.error = "rspamd: Couldn't <connect>";
  failed.scanner_error = true;
  rows.push_back(failed);
  ScanSummary s = Summarize(rows, 1.0);
  std::string h = RenderHtmlReport(rows, s, {{"example.com", 6.0, 15.0}, {"x"}, "", ""});
  EXPECT_NE(h.find("<p class=\"warn\">1 messages were not measured"), std::string::npos) << h;
  EXPECT_NE(h.find("1 unreadable, 1 scanner errors"), std::string::npos);
  size_t errors = h.find("<h2>Errors</h2>");
  ASSERT_NE(errors, std::string::npos);
  EXPECT_NE(h.find("spam/not-measured.eml</td><td>scanner failed</td><td>rspamd: Couldn&#39;t "
                   "&lt;connect&gt;",
                   errors),
            std::string::npos)
      << h;
  EXPECT_NE(h.find("<td>unreadable</td><td>Permission &lt;denied&gt;", errors), std::string::npos);
  // Without scanner errors, no warning.
  ScanSummary clean = Summarize(Rows(), 1.0);
  EXPECT_EQ(RenderHtmlReport(Rows(), clean, {{"e", {}, {}}, {}, "", ""}).find("class=\"warn\""),
            std::string::npos);
}

TEST(HtmlReportTest, EmptyScan) {
  ScanSummary s = Summarize({}, 0);
  std::string h = RenderHtmlReport({}, s, {{"example.com", 6.0, 15.0}, {}, "", ""});
  EXPECT_NE(h.find("No labelled message has a spam score"), std::string::npos);
}

}  // namespace
}  // namespace sw::qa

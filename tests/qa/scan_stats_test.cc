// Tests the scan statistics with fixed inputs and exact expected values: counts, rates,
// nearest-rank percentiles, the threshold table and the suggested thresholds.
#include "qa/scan_stats.h"

#include <gtest/gtest.h>

namespace sw::qa {
namespace {

ScanRow Row(Label label, const std::string& verdict, std::optional<double> score, double ms,
            const std::string& group = "g", const std::string& virus = "") {
  ScanRow r;
  r.path = "m";
  r.group = group;
  r.label = label;
  r.verdict = verdict;
  r.score = score;
  r.ms = ms;
  r.virus = virus;
  return r;
}

TEST(PercentileTest, NearestRank) {
  std::vector<double> v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
  EXPECT_EQ(Percentile(v, 50), 5);
  EXPECT_EQ(Percentile(v, 95), 10);
  EXPECT_EQ(Percentile(v, 99), 10);
  EXPECT_EQ(Percentile(v, 10), 1);
  EXPECT_EQ(Percentile(v, 0), 1);
  EXPECT_EQ(Percentile({}, 50), 0);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(Percentile(hundred, 95), 95);
  EXPECT_EQ(Percentile(hundred, 99), 99);
}

TEST(ThresholdTableTest, EveryHalfPointFromMinToMax) {
  std::vector<ScanRow> rows = {
      Row(Label::kSpam, "tag", 7.2, 1),          Row(Label::kSpam, "reject", 16, 1),
      Row(Label::kSpam, "accept", 1.1, 1),       Row(Label::kHam, "accept", -0.4, 1),
      Row(Label::kHam, "accept", 2.0, 1),        Row(Label::kUnknown, "accept", 40, 1),
      Row(Label::kHam, "error", std::nullopt, 0)};
  auto t = ThresholdTable(rows);
  // floor(-0.4 / 0.5) * 0.5 = -0.5 .. ceil(16 / 0.5) * 0.5 + 0.5 = 16.5: 35 rows.
  ASSERT_EQ(t.size(), 35u);
  EXPECT_DOUBLE_EQ(t.front().threshold, -0.5);
  EXPECT_DOUBLE_EQ(t.back().threshold, 16.5);
  EXPECT_EQ(t[0].spam.hits, 3u);
  EXPECT_EQ(t[0].spam.total, 3u);
  EXPECT_EQ(t[0].ham.hits, 2u);
  EXPECT_EQ(t[0].ham.total, 2u);
  // threshold 2.0 (index 5): spam 7.2, 16; ham 2.0 (>=).
  EXPECT_DOUBLE_EQ(t[5].threshold, 2.0);
  EXPECT_EQ(t[5].spam.hits, 2u);
  EXPECT_EQ(t[5].ham.hits, 1u);
  // threshold 2.5: no ham.
  EXPECT_EQ(t[6].ham.hits, 0u);
  EXPECT_EQ(t.back().spam.hits, 0u);
}

TEST(SuggestThresholdsTest, TagAtHalfPercentRejectAboveAllHam) {
  // 1000 ham: 995 at 0, 4 at 3.0, 1 at 9.0; spam at 4, 8, 12.
  std::vector<ScanRow> rows;
  for (int i = 0; i < 995; ++i) rows.push_back(Row(Label::kHam, "accept", 0.0, 1));
  for (int i = 0; i < 4; ++i) rows.push_back(Row(Label::kHam, "accept", 3.0, 1));
  rows.push_back(Row(Label::kHam, "tag", 9.0, 1));
  for (double s : {4.0, 8.0, 12.0}) rows.push_back(Row(Label::kSpam, "tag", s, 1));
  auto t = ThresholdTable(rows);
  std::optional<double> tag, reject;
  SuggestThresholds(t, 0.005, &tag, &reject);
  // At 0.5: 5/1000 = 0.5% ham, allowed.
  ASSERT_TRUE(tag);
  EXPECT_DOUBLE_EQ(*tag, 0.5);
  ASSERT_TRUE(reject);
  EXPECT_DOUBLE_EQ(*reject, 9.5);
  // Stricter: 0.1% -> above the four 3.0 hams (1/1000 at 3.5).
  SuggestThresholds(t, 0.001, &tag, &reject);
  EXPECT_DOUBLE_EQ(*tag, 3.5);
}

TEST(SuggestThresholdsTest, NeedsBothLabels) {
  std::vector<ScanRow> rows = {Row(Label::kSpam, "tag", 7, 1)};
  std::optional<double> tag = 1, reject = 2;
  SuggestThresholds(ThresholdTable(rows), 0.005, &tag, &reject);
  EXPECT_FALSE(tag);
  EXPECT_FALSE(reject);
}

TEST(SuggestByHamGroupTest, EachHamGroupAlone) {
  std::vector<ScanRow> rows;
  for (double v : {4.0, 8.0, 12.0}) rows.push_back(Row(Label::kSpam, "tag", v, 1, "spam-2"));
  for (int i = 0; i < 200; ++i) rows.push_back(Row(Label::kHam, "accept", 0.0, 1, "easy"));
  rows.push_back(Row(Label::kHam, "accept", 5.0, 1, "easy"));
  for (int i = 0; i < 10; ++i) rows.push_back(Row(Label::kHam, "tag", 6.0, 1, "hard"));
  ScanSummary s = Summarize(rows, 1);
  // The threshold table counts each group too.
  ASSERT_FALSE(s.thresholds.empty());
  EXPECT_EQ(s.thresholds[0].groups.size(), 3u);
  EXPECT_EQ(s.thresholds[0].groups["hard"].total, 10u);
  ASSERT_EQ(s.suggested_by_ham_group.size(), 2u);
  const GroupSuggestion& easy = s.suggested_by_ham_group["easy"];
  EXPECT_DOUBLE_EQ(easy.tag, 0.5);  // 1/201 = 0.4975% <= 0.5%
  EXPECT_EQ(easy.spam_detection.hits, 3u);
  EXPECT_EQ(easy.false_positives.hits, 1u);
  EXPECT_EQ(easy.false_positives.total, 201u);
  const GroupSuggestion& hard = s.suggested_by_ham_group["hard"];
  EXPECT_DOUBLE_EQ(hard.tag, 6.5);
  EXPECT_EQ(hard.spam_detection.hits, 2u);
  EXPECT_EQ(hard.false_positives.hits, 0u);
  // All ham together: 11/211 at 5.0, 10/211 above: tag 6.5.
  EXPECT_DOUBLE_EQ(*s.suggested_tag, 6.5);
}

TEST(SummarizeTest, CountsRatesAndPercentiles) {
  std::vector<ScanRow> rows = {
      Row(Label::kSpam, "reject", 20, 10, "spam-2"),
      Row(Label::kSpam, "tag", 7, 20, "spam-2"),
      Row(Label::kSpam, "accept", 2, 30, "spam-2"),
      Row(Label::kSpam, "reject", std::nullopt, 40, "spam-2", "Eicar-Test-Signature"),
      Row(Label::kHam, "accept", 0, 50, "easy-ham-2"),
      Row(Label::kHam, "tag", 6.5, 60, "easy-ham-2"),
      Row(Label::kHam, "tempfail", std::nullopt, 70, "easy-ham-2"),
      Row(Label::kUnknown, "accept", 1, 80, "x"),
      Row(Label::kHam, "error", std::nullopt, 0, "easy-ham-2"),
  };
  ScanSummary s = Summarize(rows, 2.0);
  EXPECT_EQ(s.messages, 9u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.scanner_errors, 0u);
  EXPECT_EQ(s.counts["spam"]["reject"], 2u);
  EXPECT_EQ(s.counts["spam"]["tag"], 1u);
  EXPECT_EQ(s.counts["spam"]["accept"], 1u);
  EXPECT_EQ(s.counts["ham"]["tempfail"], 1u);
  EXPECT_EQ(s.counts["ham"]["error"], 1u);
  EXPECT_EQ(s.counts[""]["accept"], 1u);
  EXPECT_EQ(s.spam_detection.hits, 3u);
  EXPECT_EQ(s.spam_detection.total, 4u);
  EXPECT_DOUBLE_EQ(s.spam_detection.value(), 0.75);
  EXPECT_EQ(s.ham_false_positive.hits, 1u);
  EXPECT_EQ(s.ham_false_positive.total, 3u);
  EXPECT_EQ(s.viruses, 1u);
  EXPECT_EQ(s.tempfails, 1u);
  EXPECT_DOUBLE_EQ(s.throughput, 4.0);  // 8 scanned in 2 s
  EXPECT_EQ(s.p50_ms, 40);
  EXPECT_EQ(s.p95_ms, 80);
  EXPECT_EQ(s.p99_ms, 80);
  EXPECT_EQ(s.max_ms, 80);
  ASSERT_EQ(s.groups.size(), 3u);
  EXPECT_EQ(s.groups["spam-2"].detected.hits, 3u);
  EXPECT_EQ(s.groups["spam-2"].label, Label::kSpam);
  EXPECT_EQ(s.groups["easy-ham-2"].detected.total, 3u);  // the unreadable one aside
  // Scored labelled rows: spam 20, 7, 2; ham 0, 6.5.
  ASSERT_FALSE(s.thresholds.empty());
  EXPECT_DOUBLE_EQ(s.thresholds.front().threshold, 0);
  EXPECT_DOUBLE_EQ(s.thresholds.back().threshold, 20.5);
  ASSERT_TRUE(s.suggested_tag);
  EXPECT_DOUBLE_EQ(*s.suggested_tag, 7.0);  // ham 6.5 is 50% of the scored ham
  EXPECT_DOUBLE_EQ(*s.suggested_reject, 7.0);
}

TEST(SummarizeTest, ScannerErrorsAreErrorsInNoRate) {
  ScanRow failed = Row(Label::kSpam, "error", std::nullopt, 3);
  failed.scanner_error = true;
  ScanRow unreadable = Row(Label::kHam, "error", std::nullopt, 0);
  ScanSummary s = Summarize({failed, failed, unreadable, Row(Label::kSpam, "tag", 9, 5)}, 1.0);
  EXPECT_EQ(s.messages, 4u);
  EXPECT_EQ(s.errors, 3u);
  EXPECT_EQ(s.scanner_errors, 2u);
  EXPECT_EQ(s.counts["spam"]["error"], 2u);
  EXPECT_EQ(s.spam_detection.hits, 1u);
  EXPECT_EQ(s.spam_detection.total, 1u);
  EXPECT_DOUBLE_EQ(s.throughput, 1.0);  // measured messages only
}

}  // namespace
}  // namespace sw::qa

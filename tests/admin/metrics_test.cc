// Tests the metrics registry: counters, label sets, callbacks, histograms, text format.
// Fails by gtest assertion; each test uses its own Registry (Global() only where named).
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace sw::metrics {
namespace {

TEST(MetricsTest, RendersCountersWithHelpAndType) {
  Registry r;
  Counter& c = r.AddCounter("x_total", "Things counted");
  c.Inc();
  c.Inc(41);
  EXPECT_EQ(r.Render(), "# HELP x_total Things counted\n# TYPE x_total counter\nx_total 42\n");
}

TEST(MetricsTest, LabelSetsShareOneFamilyAndSameLabelsShareOneCounter) {
  Registry r;
  Counter& a = r.AddCounter("rej_total", "Rejected", {{"reason", "a"}});
  Counter& b = r.AddCounter("rej_total", "Rejected", {{"reason", "b"}});
  Counter& a2 = r.AddCounter("rej_total", "Rejected", {{"reason", "a"}});
  EXPECT_EQ(&a, &a2);
  EXPECT_NE(&a, &b);
  a.Inc();
  a2.Inc();
  b.Inc();
  EXPECT_EQ(r.Render(),
            "# HELP rej_total Rejected\n# TYPE rej_total counter\n"
            "rej_total{reason=\"a\"} 2\nrej_total{reason=\"b\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Registry r;
  r.AddCounter("e_total", "line1\nback\\slash", {{"k", "v\"q"}}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP e_total line1\\nback\\\\slash\n# TYPE e_total counter\n"
            "e_total{k=\"v\\\"q\"} 1\n");
}

TEST(MetricsTest, CallbacksRenderEachTimeAndUnregisterWithTheirHandle) {
  Registry r;
  double depth = 3;
  {
    CallbackHandle h = r.AddCallback("q_messages", "Queued", Type::kGauge, [&] {
      return std::vector<Sample>{{{{"domain", "a.test"}}, depth}, {{{"domain", "b.test"}}, 0.25}};
    });
    EXPECT_EQ(r.Render(),
              "# HELP q_messages Queued\n# TYPE q_messages gauge\n"
              "q_messages{domain=\"a.test\"} 3\nq_messages{domain=\"b.test\"} 0.25\n");
    depth = 7;
    EXPECT_NE(r.Render().find("q_messages{domain=\"a.test\"} 7\n"), std::string::npos);
    CallbackHandle moved = std::move(h);
    EXPECT_NE(r.Render().find("a.test"), std::string::npos) << "moving keeps it registered";
  }
  EXPECT_EQ(r.Render(), "") << "a family without series is not rendered";
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInf) {
  Registry r;
  Histogram& h = r.AddHistogram("lat_seconds", "Latency", {1, 0.5, 10});  // sorted for us
  h.Observe(0.25);
  h.Observe(0.5);  // le is inclusive
  h.Observe(3);
  h.Observe(100);
  EXPECT_EQ(r.Render(),
            "# HELP lat_seconds Latency\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.5\"} 2\n"
            "lat_seconds_bucket{le=\"1\"} 2\n"
            "lat_seconds_bucket{le=\"10\"} 3\n"
            "lat_seconds_bucket{le=\"+Inf\"} 4\n"
            "lat_seconds_sum 103.75\n"
            "lat_seconds_count 4\n");
  EXPECT_EQ(h.count(), 4u);
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1.5), "1.5");
  EXPECT_EQ(FormatValue(12345678), "12345678");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, CountersAreAtomicAcrossThreads) {
  Registry r;
  Counter& c = r.AddCounter("t_total", "Threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) c.Inc();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 400000u);
}

TEST(MetricsTest, WellKnownRejectReasonsFoldUnknownIntoOther) {
  RegisterWellKnown();
  uint64_t relay = RejectedCounter("relay_denied").value();
  uint64_t other = RejectedCounter("other").value();
  Rejected("relay_denied");
  Rejected("no such reason");
  EXPECT_EQ(RejectedCounter("relay_denied").value(), relay + 1);
  EXPECT_EQ(RejectedCounter("other").value(), other + 1);
  std::string text = Global().Render();
  for (auto reason : kRejectReasons)
    EXPECT_NE(text.find("spamweeder_rejected_total{reason=\"" + std::string(reason) + "\"}"),
              std::string::npos)
        << reason;
  EXPECT_NE(text.find("# TYPE spamweeder_delivery_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("spamweeder_delivery_latency_seconds_bucket{le=\"+Inf\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace sw::metrics

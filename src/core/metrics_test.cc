#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace argus {
namespace {

TEST(MetricsTest, RendersCountersWithEscapedLabels) {
  MetricsRegistry r;
  auto& fam = r.AddCounter("argus_things_total", "Things seen.", {"kind"});
  fam.WithLabels({"a\"b"}).Inc();
  fam.WithLabels({"a\"b"}).Inc(2);
  std::string text = r.Render();
  EXPECT_NE(
      text.find("# HELP argus_things_total Things seen.\n# TYPE argus_things_total counter\n"),
      std::string::npos);
  EXPECT_NE(text.find("argus_things_total{kind=\"a\\\"b\"} 3\n"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  auto& h = r.AddHistogram("argus_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  auto& child = h.WithLabels({"/x"});
  child.Observe(0.05);
  child.Observe(0.5);
  child.Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("argus_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("argus_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("argus_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("argus_latency_seconds_sum{route=\"/x\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("argus_latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry r;
  Counter& c = r.AddCounter("argus_c_total", "C.").WithLabels({});
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&c] {
      for (int j = 0; j < 10000; ++j) c.Inc();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.Value(), 40000);
}

TEST(MetricsTest, SameNameReturnsSameFamilyAndCollectorsAppend) {
  MetricsRegistry r;
  EXPECT_EQ(&r.AddGauge("argus_g", "G."), &r.AddGauge("argus_g", "G."));
  r.AddCollector([](std::string& out) { out += "# HELP x X.\n# TYPE x gauge\nx 1\n"; });
  EXPECT_NE(r.Render().find("\nx 1\n"), std::string::npos);
}

}  // namespace
}  // namespace argus

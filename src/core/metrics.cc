#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace argus {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

namespace {

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

void AppendEscaped(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
  out += "# HELP " + name + " ";
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  out += "\n# TYPE " + name + " ";
  out += type;
  out += "\n";
}

template <typename M>
Family<M>& AddFamily(std::mutex& mu, std::map<std::string, std::unique_ptr<Family<M>>>& map,
                     std::string name, std::string help, std::vector<std::string> labels,
                     std::function<std::unique_ptr<M>()> make) {
  std::lock_guard lock(mu);
  auto& slot = map[name];
  if (!slot) {
    slot = std::make_unique<Family<M>>(std::move(name), std::move(help), std::move(labels),
                                       std::move(make));
  }
  return *slot;
}

}  // namespace

void AppendSample(std::string& out, std::string_view name,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, double value,
                  std::string_view extra_label, std::string_view extra_value) {
  out += name;
  if (!label_names.empty() || !extra_label.empty()) {
    out.push_back('{');
    bool first = true;
    for (size_t i = 0; i < label_names.size() && i < label_values.size(); ++i) {
      if (!first) out.push_back(',');
      first = false;
      out += label_names[i];
      out += "=\"";
      AppendEscaped(out, label_values[i]);
      out.push_back('"');
    }
    if (!extra_label.empty()) {
      if (!first) out.push_back(',');
      out += extra_label;
      out += "=\"";
      AppendEscaped(out, extra_value);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  out += FormatValue(value);
  out.push_back('\n');
}

Family<Counter>& MetricsRegistry::AddCounter(std::string name, std::string help,
                                             std::vector<std::string> labels) {
  return AddFamily<Counter>(mu_, counters_, std::move(name), std::move(help), std::move(labels),
                            [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& MetricsRegistry::AddGauge(std::string name, std::string help,
                                         std::vector<std::string> labels) {
  return AddFamily<Gauge>(mu_, gauges_, std::move(name), std::move(help), std::move(labels),
                          [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                 std::vector<std::string> labels,
                                                 std::vector<double> bounds) {
  return AddFamily<Histogram>(mu_, histograms_, std::move(name), std::move(help), std::move(labels),
                              [bounds] { return std::make_unique<Histogram>(bounds); });
}

void MetricsRegistry::AddCollector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mu_);
  for (const auto& [name, fam] : counters_) {
    AppendHeader(out, name, fam->help(), "counter");
    fam->ForEach([&](const std::vector<std::string>& labels, const Counter& c) {
      AppendSample(out, name, fam->label_names(), labels, c.Value());
    });
  }
  for (const auto& [name, fam] : gauges_) {
    AppendHeader(out, name, fam->help(), "gauge");
    fam->ForEach([&](const std::vector<std::string>& labels, const Gauge& g) {
      AppendSample(out, name, fam->label_names(), labels, g.Value());
    });
  }
  for (const auto& [name, fam] : histograms_) {
    AppendHeader(out, name, fam->help(), "histogram");
    fam->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
      auto counts = h.BucketCounts();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
        AppendSample(out, name + "_bucket", fam->label_names(), labels,
                     static_cast<double>(cumulative), "le", le);
      }
      AppendSample(out, name + "_sum", fam->label_names(), labels, h.Sum());
      AppendSample(out, name + "_count", fam->label_names(), labels,
                   static_cast<double>(h.Count()));
    });
  }
  for (const auto& collect : collectors_) collect(out);
  return out;
}

}  // namespace argus

// coloop::metrics: the user's registry (counters, gauges, histograms, labels, validation) and the
// Prometheus text exposition, parsed back here and checked by promtool when it is installed.

#include <gtest/gtest.h>

#include <coloop/core/metrics.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/prometheus_text.hpp"

namespace {

using coloop::metrics::registry;
using coloop::test::parse_prometheus;

std::string text_of(const registry& r) {
  std::ostringstream os;
  r.write_prometheus(os);
  return os.str();
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(metrics_registry, counter_gauge_histogram_round_trip) {
  registry r;
  coloop::metrics::counter& ok = r.counter("http_requests", "Requests served.", {{"code", "200"}});
  coloop::metrics::counter& bad = r.counter("http_requests", "Requests served.", {{"code", "500"}});
  ok.inc();
  ok.inc(4);
  bad.inc();
  EXPECT_EQ(&r.counter("http_requests", "ignored", {{"code", "200"}}), &ok);  // same series
  coloop::metrics::gauge& g = r.gauge("queue_depth", "Items waiting.");
  g.set(10);
  g.dec(2.5);
  g.inc();
  coloop::metrics::histogram& h = r.histogram("latency_seconds", "Latency.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // le: on the bound counts in that bucket
  h.observe(3);
  EXPECT_EQ(h.count(), 3u);

  const coloop::test::prom_text t = parse_prometheus(text_of(r));
  EXPECT_EQ(t.types.at("http_requests_total"), "counter");
  EXPECT_EQ(t.helps.at("http_requests_total"), "Requests served.");
  EXPECT_EQ(t.sum("http_requests_total", {{"code", "200"}}), 5);
  EXPECT_EQ(t.sum("http_requests_total", {{"code", "500"}}), 1);
  EXPECT_EQ(t.types.at("queue_depth"), "gauge");
  EXPECT_DOUBLE_EQ(t.sum("queue_depth"), 8.5);
  EXPECT_EQ(t.types.at("latency_seconds"), "histogram");
  EXPECT_EQ(t.sum("latency_seconds_bucket", {{"le", "0.1"}}), 2);  // cumulative
  EXPECT_EQ(t.sum("latency_seconds_bucket", {{"le", "1"}}), 2);
  EXPECT_EQ(t.sum("latency_seconds_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_EQ(t.sum("latency_seconds_count"), 3);
  EXPECT_DOUBLE_EQ(t.sum("latency_seconds_sum"), 3.15);
}

TEST(metrics_registry, total_suffix_not_doubled) {
  registry r;
  r.counter("jobs_total", "Jobs.").inc();
  const std::string text = text_of(r);
  EXPECT_NE(text.find("# TYPE jobs_total counter\njobs_total 1\n"), std::string::npos) << text;
}

TEST(metrics_registry, label_values_and_help_escaped) {
  registry r;
  r.gauge("g", "line one\nback\\slash", {{"path", "a\"b\\c\nd"}}).set(1);
  const std::string text = text_of(r);
  EXPECT_NE(text.find("# HELP g line one\\nback\\\\slash\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(parse_prometheus(text).samples.at(0).labels.at("path"), "a\"b\\c\nd");
}

TEST(metrics_registry, bad_names_throw_naming_the_problem) {
  registry r;
  EXPECT_NE(message_of([&] { r.counter("2xx", "h"); }).find("invalid metric name \"2xx\""),
            std::string::npos);
  EXPECT_NE(message_of([&] { r.gauge("a-b", "h"); }).find("\"a-b\""), std::string::npos);
  EXPECT_NE(message_of([&] { r.gauge("", "h"); }).find("invalid metric name"), std::string::npos);
  EXPECT_NE(message_of([&] { r.gauge("g", "h", {{"bad-label", "x"}}); }).find("label name"),
            std::string::npos);
  EXPECT_NE(message_of([&] { r.gauge("g", "h", {{"__x", "x"}}); }).find("reserved"),
            std::string::npos);
  EXPECT_NE(message_of([&] { r.gauge("g", "h", {{"a", "1"}, {"a", "2"}}); }).find("twice"),
            std::string::npos);
  EXPECT_NE(message_of([&] { r.histogram("h", "h", {1}, {{"le", "1"}}); }).find("\"le\""),
            std::string::npos);
  EXPECT_NE(message_of([&] { r.histogram("h", "h", {2, 1}); }).find("strictly increasing"),
            std::string::npos);
  r.gauge("taken", "h");
  EXPECT_NE(message_of([&] { r.histogram("taken", "h"); }).find("already registered as a gauge"),
            std::string::npos);
  EXPECT_NO_THROW(r.gauge("ns:sub_name", "colons are allowed in metric names"));
}

TEST(metrics_registry, concurrent_updates_and_registration) {
  registry r;
  constexpr int threads = 4, per_thread = 10000;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&r] {
      coloop::metrics::counter& c = r.counter("hits", "Hits.");
      coloop::metrics::histogram& h = r.histogram("sizes", "Sizes.", {10});
      for (int j = 0; j < per_thread; ++j) {
        c.inc();
        h.observe(j % 20);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  EXPECT_EQ(r.counter("hits", "Hits.").value(), std::uint64_t{threads * per_thread});
  EXPECT_EQ(r.histogram("sizes", "Sizes.", {10}).count(), std::uint64_t{threads * per_thread});
}

TEST(metrics_registry, default_registry_in_write_prometheus) {
  coloop::metrics::default_registry().counter("app_events", "Events.", {{"kind", "x"}}).inc(7);
  const coloop::test::prom_text t = coloop::test::scrape();
  EXPECT_EQ(t.sum("app_events_total", {{"kind", "x"}}), 7);
  EXPECT_TRUE(t.has("coloop_tasks_spawned_total"));  // coloop's own figures beside the user's
}

/// promtool's verdict on `text` ("" when it accepts it), or nullopt without promtool.
std::optional<std::string> promtool_check(const std::string& text) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return std::nullopt;
  const std::string in = ::testing::TempDir() + "coloop_metrics.txt";
  const std::string out = ::testing::TempDir() + "coloop_promtool.txt";
  std::ofstream(in) << text;
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::stringstream verdict;
  verdict << std::ifstream(out).rdbuf();
  std::remove(in.c_str());
  std::remove(out.c_str());
  return rc == 0 && verdict.str().empty() ? "" : "rc " + std::to_string(rc) + ": " + verdict.str();
}

TEST(metrics_registry, promtool_accepts_the_exposition) {
  registry& r = coloop::metrics::default_registry();
  r.counter("promtool_requests", "Requests.", {{"code", "200"}}).inc();
  r.gauge("promtool_temperature_celsius", "A gauge with \"quotes\" in help.").set(-3.5);
  r.histogram("promtool_latency_seconds", "Latency.").observe(0.2);
  std::ostringstream os;
  coloop::metrics::write_prometheus(os);
  const std::optional<std::string> verdict = promtool_check(os.str());
  if (!verdict) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  EXPECT_EQ(*verdict, "") << os.str();
}

}  // namespace

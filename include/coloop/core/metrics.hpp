#pragma once
// Metrics (DESIGN.md §8): the application's own counters, gauges and histograms, with labels,
// and the Prometheus text exposition (format 0.0.4) of those and of coloop's own figures (loops,
// runtimes, workers, thread pools, servers, streams: docs/observability.md lists them).
// Registration locks; updates are lock-free atomics.

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coloop::metrics {

/// Label pairs of one series, e.g. {{"method", "GET"}, {"code", "200"}}.
using label_set = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Lock-free; any thread.
class counter {
 public:
  /// Adds `n`.
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};  // relaxed: a count orders nothing else
};

/// A value that goes up and down. Lock-free; any thread.
class gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void inc(double d = 1) noexcept { add(d); }
  void dec(double d = 1) noexcept { add(-d); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  void add(double d) noexcept;
  std::atomic<double> v_{0};  // relaxed: a level orders nothing else
};

/// Observations counted in buckets with fixed upper bounds (plus +Inf), with their sum.
/// observe() is lock-free; any thread. A reader may see a count and a sum from slightly
/// different moments (as every Prometheus client library).
class histogram {
 public:
  /// `bounds`: finite and strictly increasing (else std::invalid_argument); +Inf is implied.
  explicit histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Observations in bucket i (not cumulative); i == bounds().size() is the +Inf bucket.
  std::uint64_t bucket_count(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  std::uint64_t count() const noexcept;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // relaxed: counts order nothing
  std::atomic<double> sum_{0};
};

/// Upper bounds for latencies in seconds, 100 µs to 10 s.
std::vector<double> default_latency_bounds();

/// A set of named metrics. Registering the same name and labels again returns the same object;
/// objects live as long as the registry. Names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names:
/// [a-zA-Z_][a-zA-Z0-9_]* not starting with "__" ("le" is reserved for histograms). A bad name,
/// a name already registered with another type, or a duplicate label name throws
/// std::invalid_argument naming it. All members are thread-safe.
class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// A counter, exposed as NAME_total (the suffix is added unless `name` has it).
  metrics::counter& counter(std::string_view name, std::string_view help, label_set labels = {});
  metrics::gauge& gauge(std::string_view name, std::string_view help, label_set labels = {});
  /// `bounds` as histogram's; registering an existing series ignores them.
  metrics::histogram& histogram(std::string_view name, std::string_view help,
                                std::vector<double> bounds = default_latency_bounds(),
                                label_set labels = {});
  /// This registry's metrics in the Prometheus text format 0.0.4.
  void write_prometheus(std::ostream& out) const;

  struct impl;

 private:
  friend void write_prometheus(std::ostream& out);
  std::unique_ptr<impl> impl_;
};

/// The process-wide registry write_prometheus(out) exposes. Thread-safe.
registry& default_registry();

/// The default registry's metrics and coloop's own (coloop_*), in the Prometheus text format
/// 0.0.4 (what a /metrics endpoint serves, content type "text/plain; version=0.0.4"). Takes
/// a lock that loops and pools take when they start and stop; never blocks their hot paths.
/// Throws what the stream throws. Thread-safe.
void write_prometheus(std::ostream& out);

}  // namespace coloop::metrics

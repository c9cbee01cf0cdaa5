#pragma once
// How coloop's parts (loops, runtimes, pools, servers) publish their figures into write_prometheus
// without a metric object per event: each registers a collector, a function that reads its own
// counters and hands them to a metric_writer, while it lives. Collection runs under the collectors'
// lock, so unregistering waits for a collection in progress; the hot paths never take it.

#include <atomic>
#include <cstdint>
#include <exception>
#include <span>
#include <string_view>

#include <coloop/core/metrics.hpp>

namespace coloop::detail {

/// Receives samples; series of one name are grouped into one family, whatever the order.
class metric_writer {
 public:
  virtual void counter(std::string_view name, std::string_view help,
                       const metrics::label_set& labels, double value) = 0;
  virtual void gauge(std::string_view name, std::string_view help,
                     const metrics::label_set& labels, double value) = 0;
  /// `counts`: per bucket, not cumulative, bounds.size() + 1 of them (the last is +Inf).
  virtual void histogram(std::string_view name, std::string_view help,
                         const metrics::label_set& labels, std::span<const double> bounds,
                         std::span<const std::uint64_t> counts, double sum) = 0;

 protected:
  ~metric_writer() = default;
};

using collector_fn = void (*)(const void* self, metric_writer& out);

/// A collector's reading of a counter or gauge another thread updates. Relaxed: a recent value
/// is all a sample needs; it orders nothing.
template <class T>
double sample(const std::atomic<T>& c) noexcept {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

/// Registers `fn(self, ...)` until the matching remove_collector. Thread-safe.
void add_collector(collector_fn fn, const void* self);
/// Unregisters; returns once no collection calls it any more. Thread-safe; not from a collector.
void remove_collector(collector_fn fn, const void* self) noexcept;

/// A histogram's buckets written by one thread at a time (load + store), read by any: what a
/// single-threaded part (a loop's lag probe) keeps. Bounds are the caller's, fixed.
template <std::size_t N>
struct local_histogram {
  std::atomic<std::uint64_t> counts[N + 1] = {};
  std::atomic<double> sum{0};
  void observe(std::span<const double, N> bounds, double v) noexcept {
    std::size_t i = 0;
    while (i < N && v > bounds[i]) ++i;
    // Relaxed load + store: one writer; readers want a recent value, not an order.
    counts[i].store(counts[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum.store(sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  void write(metric_writer& out, std::string_view name, std::string_view help,
             const metrics::label_set& labels, std::span<const double, N> bounds) const {
    std::uint64_t c[N + 1];
    for (std::size_t i = 0; i <= N; ++i) c[i] = counts[i].load(std::memory_order_relaxed);
    out.histogram(name, help, labels, bounds, c, sum.load(std::memory_order_relaxed));
  }
};

/// Process-wide counts kept per thread (each thread writes only its own block, load + store, so
/// the hot path pays no atomic read-modify-write): summed over the live threads plus those that
/// exited when collected.
enum class thread_count : unsigned {
  tasks_spawned,
  tasks_finished,
  tasks_failed,
  tasks_cancelled,
  stream_bytes_read,
  stream_bytes_written,
  accepts_out_of_resources,
  count_
};
struct thread_counters {
  std::atomic<std::uint64_t> v[static_cast<unsigned>(thread_count::count_)] = {};
  bool linked = false;
  thread_counters* next_ = nullptr;  // the list of live threads' blocks (under its lock)
  thread_counters* prev_ = nullptr;
};
extern constinit thread_local thread_counters this_thread_counters;
/// Links this thread's block into the list (once per thread) and arms the fold at thread exit.
void link_thread_counters() noexcept;

inline void count(thread_count which, std::uint64_t n = 1) noexcept {
  thread_counters& t = this_thread_counters;
  if (!t.linked) [[unlikely]] link_thread_counters();
  std::atomic<std::uint64_t>& c = t.v[static_cast<unsigned>(which)];
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // one writer
}

void count_task_error(const std::exception_ptr& error) noexcept;
/// A spawned task ended: counted as finished, and as failed or cancelled when it was.
inline void count_task_end(const std::exception_ptr& error) noexcept {
  count(thread_count::tasks_finished);
  if (error) [[unlikely]] count_task_error(error);
}

}  // namespace coloop::detail

#pragma once
// A driver's figures for metrics (docs/observability.md): its turns, I/O events, the task steps
// of the event loop that owns it, the time it spent blocked, and the loop lag probe. Written by
// the one thread that drives at a time (relaxed load + store), read by write_prometheus from any
// thread through the collector the driver registers for its life.
//
// Loop lag, as tokio-metrics and Node's monitorEventLoopDelay measure it: a probe deadline every
// `lag_probe_interval`; the driver's turn that first finds the clock past it records how late
// it is. It reads the clock drive() reads anyway, so it costs no clock read per task. A poll
// that may block wakes for the probe when drive() read the clock before it (a timer is armed,
// or a sampled poll); one that blocked without a bound proves nothing, and the probe starts
// over. On the manual clock the probe never wakes a poll nor makes time jump, and a jump
// resets it.
//
// Idle time (busy ratio): a clock read before every blocking poll costs ~60 instructions, 3% of
// an echo round trip; so one blocking poll in idle_sampling (32) is timed and counts that many
// times: an estimate, unbiased when poll lengths do not follow the sampling's period.

#include <atomic>
#include <cstdint>

#include "core/metrics_source.hpp"

namespace coloop::detail {

inline constexpr std::int64_t lag_probe_interval = 100'000'000;  // ns

/// Upper bounds (seconds) of the lag histogram.
inline constexpr double lag_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                        1,      2.5,     5,      10};
inline constexpr std::size_t lag_bucket_count = std::size(lag_bounds);

struct driver_stats {
  driver_stats(bool is_shared, std::int64_t now) noexcept;
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    // Relaxed load + store: one writer at a time; readers want a recent total, not an order.
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// drive()'s clock reading `now` at the end of a turn: records lag when the probe is due,
  /// unless the poll of this turn could have blocked past it (then it starts over: that wait
  /// was idle, not lag).
  void probe(std::int64_t now, bool unbounded_poll) noexcept {
    if (now >= probe_deadline) [[unlikely]] probe_due(now, unbounded_poll);
  }
  void probe_due(std::int64_t now, bool unbounded_poll) noexcept;
  /// The next probe deadline after `t`, saturating (a manual clock may reach the end of time).
  static std::int64_t probe_after(std::int64_t t) noexcept {
    return t > INT64_MAX - lag_probe_interval ? INT64_MAX : t + lag_probe_interval;
  }
  /// Whether this blocking poll is one of the 1 in idle_sampling whose length is measured.
  bool sample_blocking_poll() noexcept {
    const std::uint64_t n = parks.load(std::memory_order_relaxed) + 1;
    parks.store(n, std::memory_order_relaxed);  // one writer: see bump
    return (n & (idle_sampling - 1)) == 0;
  }
  void add_idle_sample(std::int64_t ns) noexcept {
    bump(idle_ns, static_cast<std::uint64_t>(ns) * idle_sampling);  // the estimate's weight
  }
  static constexpr unsigned idle_sampling = 32;  // a power of two

  const std::uint32_t id;  // "loop" label: unique in the process
  const bool shared;       // a runtime's driver (workers) or an event loop's
  const std::int64_t started_ns;
  std::atomic<unsigned> next_worker{0};   // ordinals of the threads that drive it (log origin)
  std::int64_t probe_deadline;            // the driving thread's only
  std::atomic<std::uint64_t> parks{0};      // drive() calls that may block
  std::atomic<std::uint64_t> io_events{0};  // readiness / completion events the reactor returned
  std::atomic<std::uint64_t> polls{0};      // task steps (an event loop's; a runtime's per worker)
  std::atomic<std::uint64_t> idle_ns{0};    // time blocked in the reactor (estimated)
  local_histogram<lag_bucket_count> lag;
};

}  // namespace coloop::detail

#pragma once
// Options of an event_loop, and the clock types of the runtime layer.

#include <chrono>

namespace coloop {

/// The loop clock: monotonic, integer nanoseconds.
using clock = std::chrono::steady_clock;
using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<clock, duration>;

struct loop_options {
  /// Virtual time for tests: the clock starts at the real now and moves only by
  /// event_loop::advance_time, or by jumping to the next timer when nothing else can run
  /// (so sleep_for(1h) completes at once without sleeping).
  bool manual_clock = false;
  /// coloop::run: more than 1 runs `main` on a multi-threaded runtime with this many workers.
  /// runtime: its worker count, 0 meaning one per hardware thread.
  unsigned workers = 0;
  /// runtime, for tests: non-zero shuffles the ready queues and the steals with this seed, which
  /// is printed to stderr so a failing interleaving can be replayed. The environment variable
  /// COLOOP_SCHEDULE_SEED sets it when this is 0.
  unsigned long long schedule_seed = 0;
};

}  // namespace coloop

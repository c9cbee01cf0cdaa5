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
};

}  // namespace coloop

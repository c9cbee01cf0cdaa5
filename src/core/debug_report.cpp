// Debug mode's reports that need only the core layer: a task destroyed unfinished. The runtime
// layer installs the per-step hook (runtime/debug_mode.cpp).

#include <coloop/core/future.hpp>
#include <coloop/core/task.hpp>

#include "core/log_format.hpp"

namespace coloop::detail {

void (*debug_suspend)(const await_record& r, void* cancel) noexcept = nullptr;

void debug_task_dropped(const await_record& r) noexcept {
  // No try: logf already catches what formatting throws (no memory), and nothing else throws.
  if (r.state == 0) {
    logf(log_level::warn,
         "coloop debug: a task was destroyed without ever being awaited or spawned: {} ({}:{})",
         r.at.function(), r.at.file(), r.at.line());
  } else {
    logf(log_level::warn,
         "coloop debug: a task was destroyed while still pending, suspended in {} at {}:{}",
         r.at.function(), r.at.file(), r.at.line());
  }
}

void debug_future_dropped(const std::exception_ptr& e) noexcept {
  log_exception(
      log_level::warn, e, "coloop debug: a future was destroyed with an exception nobody retrieved",
      "coloop debug: a future was destroyed with a non-standard exception nobody retrieved");
}

}  // namespace coloop::detail

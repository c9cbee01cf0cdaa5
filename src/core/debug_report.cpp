// Debug mode's reports that need only the core layer: a task destroyed unfinished. The runtime
// layer installs the per-step hook (runtime/debug_mode.cpp).

#include <coloop/core/task.hpp>

#include "core/log_format.hpp"

namespace coloop::detail {

void (*debug_suspend)(const await_record& r, void* cancel) noexcept = nullptr;

void debug_task_dropped(const await_record& r) noexcept {
  if (!log_enabled(log_level::warn)) return;
  try {
    if (r.state == 0) {
      logf(log_level::warn,
           "coloop debug: a task was destroyed without ever being awaited or spawned: {} ({}:{})",
           r.at.function(), r.at.file(), r.at.line());
    } else {
      logf(log_level::warn,
           "coloop debug: a task was destroyed while still pending, suspended in {} at {}:{}",
           r.at.function(), r.at.file(), r.at.line());
    }
  } catch (...) {  // no memory for the message: the report is lost, never the program
  }
}

}  // namespace coloop::detail

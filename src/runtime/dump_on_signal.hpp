#pragma once
// COLOOP_DUMP_ON: the event loops and runtimes a signal dumps (dump_on_signal.cpp).

#include <vector>

#include <coloop/runtime/task_dump.hpp>

namespace coloop::detail {

class context;

/// Registers `c` for the signal's dumps while it lives (a no-op unless $COLOOP_DUMP_ON names a
/// signal); unwatch before `c` goes.
void watch_dump_signal(context& c);
void unwatch_dump_signal(context& c);
/// Logs `tasks` (warn level) as the dump of `who` ("event loop", "runtime").
void log_task_dump(const char* who, const std::vector<task_info>& tasks) noexcept;

}  // namespace coloop::detail

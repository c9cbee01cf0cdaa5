// The thread's context (context.hpp) and the default handler of detached tasks' exceptions.
// Threading: the context pointer is thread-local, set by the scheduler that runs the thread
// (loop_scheduler::run, a runtime worker's run loop) for exactly as long as it runs it, and
// with it the origin log messages from the thread carry ("loop 3", "runtime 2 worker 0").

#include "runtime/context.hpp"

#include "core/log_format.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

namespace coloop::detail {

constinit thread_local context* this_context = nullptr;

void context::report(std::exception_ptr e) noexcept {
  try {
    if (exception_handler) {
      exception_handler(std::move(e));
    } else {
      log_exception(log_level::error, e, "coloop: unhandled exception in a detached task",
                    "coloop: unhandled non-standard exception in a detached task");
    }
  } catch (...) {
    log(log_level::error, "coloop: the exception handler threw; exception dropped");
  }
}

context& current_context(const char* api) {
  if (this_context == nullptr) {
    throw std::logic_error(fmt::format("{}: no event loop is running on this thread", api));
  }
  return *this_context;
}

void require_running_loop(const char* api) { current_context(api); }

reactor* current_reactor() noexcept {
  return this_context != nullptr ? &this_context->drv().io() : nullptr;
}

context* set_current_context(context* c) noexcept {
  if (c == nullptr) {
    set_log_origin({});
  } else {
    driver_stats& s = c->drv().stats();
    char buf[48];
    // A runtime's threads are numbered in the order they start (relaxed: only unique).
    const auto end =
        s.shared ? fmt::format_to_n(buf, sizeof buf, "runtime {} worker {}", s.id,
                                    s.next_worker.fetch_add(1, std::memory_order_relaxed))
                 : fmt::format_to_n(buf, sizeof buf, "loop {}", s.id);
    set_log_origin(std::string_view(buf, end.size < sizeof buf ? end.size : sizeof buf));
  }
  return std::exchange(this_context, c);
}

}  // namespace coloop::detail

// The thread's context (context.hpp) and the default handler of detached tasks' exceptions.
// Threading: the context pointer is thread-local, set by the scheduler that runs the thread
// (loop_scheduler::run, a runtime worker's run loop) for exactly as long as it runs it.

#include "runtime/context.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>
#include <utility>

namespace coloop::detail {
namespace {

constinit thread_local context* current = nullptr;

void log_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    fmt::print(stderr, "coloop: unhandled exception in a detached task: {}\n", ex.what());
  } catch (...) {
    fmt::print(stderr, "coloop: unhandled non-standard exception in a detached task\n");
  }
}

}  // namespace

void context::report(std::exception_ptr e) noexcept {
  try {
    if (exception_handler) {
      exception_handler(std::move(e));
    } else {
      log_exception(std::move(e));
    }
  } catch (...) {
    std::fputs("coloop: the exception handler threw; exception dropped\n", stderr);
  }
}

context& current_context(const char* api) {
  if (current == nullptr) {
    throw std::logic_error(fmt::format("{}: no event loop is running on this thread", api));
  }
  return *current;
}

context* current_context_or_null() noexcept { return current; }

void require_running_loop(const char* api) { current_context(api); }

reactor* current_reactor() noexcept { return current != nullptr ? &current->drv().io() : nullptr; }

context* set_current_context(context* c) noexcept { return std::exchange(current, c); }

}  // namespace coloop::detail

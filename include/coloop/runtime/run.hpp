#pragma once
// coloop::run: asyncio.run for coloop.

#include <utility>

#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/runtime.hpp>

namespace coloop {

namespace detail {
/// Throws std::logic_error naming `api` when an event loop or sync_wait runs on this thread.
void check_no_running_loop(const char* api);
}  // namespace detail

/// Makes a new event loop, runs `main` to completion on it, cancels and joins the tasks still
/// running, closes the loop, and returns main's value or rethrows its exception. With
/// options.workers > 1 the same happens on a multi-threaded runtime of that many workers.
/// Calling it while a loop runs on this thread throws std::logic_error.
template <class T>
T run(task<T> main, loop_options options = {}) {
  detail::check_no_running_loop("coloop::run");
  if (options.workers > 1) {
    runtime rt(options);  // its destructor cancels and joins what main left running
    return rt.block_on(std::move(main));
  }
  event_loop loop(options);
  struct finish {
    event_loop& loop;
    ~finish() {
      loop.cancel_all_tasks();
      loop.close();
    }
  };
  finish at_exit{loop};
  return loop.run_until_complete(std::move(main));
}

}  // namespace coloop

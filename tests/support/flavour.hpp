#pragma once
// Flavours: the ways a test body can be run (DESIGN.md §5: "every I/O test is one body run once
// per compiled backend"). A conformance suite is a TEST_P on coloop::test::flavour_test,
// instantiated with COLOOP_INSTANTIATE_FLAVOURS(Suite); its body calls run(main()) (or
// run(main(), {.manual_clock = true})) instead of coloop::run, and reads the clock with
// coloop::now() rather than through event_loop::current(), so it does not care what runs it.
//
// all_flavours() is the single list: the multi-threaded runtime appends its flavours (workers > 0)
// there, and every suite instantiated with it picks them up.

#include <gtest/gtest.h>

#include <chrono>
#include <coloop/core/task.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/now.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/yield.hpp>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coloop::test {

struct flavour {
  coloop::backend backend = coloop::backend::automatic;
  /// 0: a single-threaded event_loop (coloop::run); > 0: a runtime with that many workers.
  unsigned workers = 0;
};

/// Every flavour this build can run: one event_loop per compiled-in backend, and the
/// multi-threaded runtime with 1 and 2 workers on the default backend and with 2 on every other.
inline std::vector<flavour> all_flavours() {
  std::vector<flavour> out;
  const std::vector<coloop::backend> backends = coloop::available_backends();
  for (coloop::backend b : backends) out.push_back({b, 0});
  out.push_back({backends.front(), 1});
  for (coloop::backend b : backends) out.push_back({b, 2});
  return out;
}

/// The flavours that are a single event_loop (one per backend): for suites whose bodies drive an
/// event_loop themselves (call_soon, run_forever on a thread, set_exception_handler, ...).
inline std::vector<flavour> loop_flavours() {
  std::vector<flavour> out;
  for (const flavour& f : all_flavours()) {
    if (f.workers == 0) out.push_back(f);
  }
  return out;
}

/// The gtest-printable name: "epoll", "libuv", ... ("epoll_mt4" for 4 workers, later).
inline std::string name_of(const flavour& f) {
  std::string name(coloop::to_string(f.backend));
  if (f.workers > 0) name += "_mt" + std::to_string(f.workers);
  return name;
}

inline void PrintTo(const flavour& f, std::ostream* os) { *os << name_of(f); }

struct flavour_name {
  std::string operator()(const testing::TestParamInfo<flavour>& info) const {
    return name_of(info.param);
  }
};

/// `base` with the flavour's backend.
inline loop_options options_for(const flavour& f, loop_options base = {}) {
  base.backend = f.backend;
  return base;
}

/// coloop::run(main, options) on flavour `f`.
template <class T>
T run_on(const flavour& f, task<T> main, loop_options options = {}) {
  options = options_for(f, options);
  if (f.workers == 0) return coloop::run(std::move(main), options);
  options.workers = f.workers;
  coloop::runtime rt(options);  // shut down (tasks cancelled and joined) as it goes
  return rt.block_on(std::move(main));
}

/// Fixture of a conformance suite: `class Sleep : public coloop::test::flavour_test {};`.
class flavour_test : public testing::TestWithParam<flavour> {
 protected:
  template <class T>
  T run(task<T> main, loop_options options = {}) {
    return run_on(GetParam(), std::move(main), options);
  }
  /// Options of an event_loop the body builds itself; only in suites instantiated with
  /// COLOOP_INSTANTIATE_LOOP_FLAVOURS.
  loop_options options(loop_options base = {}) const {
    if (GetParam().workers != 0) {
      throw std::logic_error(
          "flavour_test::options: this suite drives an event_loop itself; "
          "instantiate it with COLOOP_INSTANTIATE_LOOP_FLAVOURS");
    }
    return options_for(GetParam(), base);
  }
  /// The backend name the running loop reports (checks the flavour is really in use).
  static std::string_view running_backend() { return coloop::running_backend(); }
};

// Flavour-neutral stand-ins for what a body would otherwise ask event_loop::current() (nullptr on
// a runtime worker). On the runtime a task may resume on any worker between two awaits, spawned
// tasks run in parallel, and there is no FIFO order between tasks: a body that needs another
// task to have reached some point waits for it explicitly (a future, yield_until, a join).

/// What runs tasks on the calling thread: its event_loop, or the runtime whose worker it is;
/// nullptr on any other thread (a pool thread, the test's own thread). A task sees the same value
/// after every await: the loop's thread, or any one of the runtime's workers.
inline const void* current_executor() noexcept {
  if (coloop::runtime* rt = coloop::runtime::current()) return rt;
  return coloop::event_loop::current();
}

/// Spawned tasks not finished on the running loop or runtime (from inside one of its tasks).
inline std::size_t live_tasks() {
  if (coloop::runtime* rt = coloop::runtime::current()) return rt->live_tasks();
  return coloop::event_loop::current()->live_tasks();
}

/// Installs the exception handler of the running loop or runtime (from inside one of its tasks,
/// before spawning what may report). On the runtime it runs on whichever worker a detached task
/// ends on: synchronise what it touches.
inline void set_exception_handler(std::function<void(std::exception_ptr)> handler) {
  if (coloop::runtime* rt = coloop::runtime::current()) {
    rt->set_exception_handler(std::move(handler));
  } else {
    coloop::event_loop::current()->set_exception_handler(std::move(handler));
  }
}

/// Yields until `done()` holds; false if it still does not after 10 s (a bound that turns a lost
/// wake-up into a failure instead of a hang, not a guess at how long the work takes). `done` is
/// polled from whichever worker the task is on: make what it reads atomic. Pass a named lambda
/// (g++ 12 mishandles a closure temporary in a co_await operand).
template <class Pred>
task<bool> yield_until(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await coloop::yield();
  }
  co_return true;
}

/// With loop_options::manual_clock only: returns once nothing else can run, i.e. every other
/// task is suspended waiting for something (I/O, a timer, a join). The manual clock moves only
/// when the loop, or every worker of the runtime, is idle with no I/O ready, so a 1 ns sleep
/// completes exactly then (provided no other timer falls due at the same jump); on a real clock
/// it would prove nothing.
inline task<void> until_idle() { co_await coloop::sleep_for(std::chrono::nanoseconds(1)); }

}  // namespace coloop::test

/// Runs every TEST_P of `suite` once per flavour, named Suite.Test/epoll, Suite.Test/libuv, ...
#define COLOOP_INSTANTIATE_FLAVOURS(suite)                                           \
  INSTANTIATE_TEST_SUITE_P(, suite, testing::ValuesIn(coloop::test::all_flavours()), \
                           coloop::test::flavour_name{})

/// Like COLOOP_INSTANTIATE_FLAVOURS, over loop_flavours() only.
#define COLOOP_INSTANTIATE_LOOP_FLAVOURS(suite)                                       \
  INSTANTIATE_TEST_SUITE_P(, suite, testing::ValuesIn(coloop::test::loop_flavours()), \
                           coloop::test::flavour_name{})

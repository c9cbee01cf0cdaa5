// Misuse that must not compile silently (issue 11 §3). Built with -fsyntax-only once per case by
// run_case.cmake, with -DCOLOOP_CASE_<name>: the `ok` case must compile cleanly (so the others
// fail for their own reason, not a broken include), every other case must fail with the
// diagnostic tests/compile/CMakeLists.txt expects.

#include <chrono>
#include <coloop/core/task.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/core/when_any.hpp>
#include <coloop/net/stream_writer.hpp>
#include <coloop/net/tcp.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

coloop::task<int> compute() { co_return 1; }

[[maybe_unused]] coloop::task<void> body(coloop::tcp_stream& s, coloop::stream_writer& w,
                                         std::vector<coloop::task<int>> tasks) {
  [[maybe_unused]] char buf[16];
#if defined(COLOOP_CASE_ok)
  // The correct forms, and the discards that are legitimate.
  co_await coloop::sleep_for(100ms);
  co_await coloop::yield();
  (void)co_await s.read_some(buf, sizeof buf);
  co_await w.drain();
  (void)co_await compute();
  coloop::spawn(compute());  // fire and forget: join_handle is discardable
  (void)compute();           // an explicit discard is allowed
  (void)co_await coloop::when_all(std::move(tasks));
#elif defined(COLOOP_CASE_sleep_for)
  coloop::sleep_for(100ms);
#elif defined(COLOOP_CASE_yield)
  coloop::yield();
#elif defined(COLOOP_CASE_read_some)
  s.read_some(buf, sizeof buf);
#elif defined(COLOOP_CASE_drain)
  w.drain();
#elif defined(COLOOP_CASE_task)
  compute();
#elif defined(COLOOP_CASE_when_all_lvalue)
  (void)co_await coloop::when_all(tasks);
#elif defined(COLOOP_CASE_when_any_lvalue)
  (void)co_await coloop::when_any(tasks);
#else
#error "no COLOOP_CASE_<name> given"
#endif
  co_return;
}

}  // namespace

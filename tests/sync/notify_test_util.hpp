#pragma once
// Helpers shared by the notify primitives' tests (event, latch, barrier, broadcast, watch).

#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/core/task.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <system_error>
#include <vector>

namespace coloop::test {

inline loop_options manual() { return {.manual_clock = true}; }

/// How a joined task ended.
enum class ending { returned, cancelled, closed, other };

/// Joins `h` and says how it ended (without rethrowing).
template <class T>
task<ending> ending_of(join_handle<T>& h) {
  try {
    co_await h;
    co_return ending::returned;
  } catch (const cancelled_error&) {
    co_return ending::cancelled;
  } catch (const std::system_error& e) {
    co_return e.code() == make_error_code(errc::closed) ? ending::closed : ending::other;
  } catch (...) {
    co_return ending::other;
  }
}

/// Whether `f` throws std::system_error(errc::closed).
template <class F>
bool throws_closed(F&& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return e.code() == make_error_code(errc::closed);
  }
  return false;
}

}  // namespace coloop::test

#pragma once
// Helpers shared by the net tests: the error a task ends with, and raising RLIMIT_NOFILE.

#include <coloop/core/errors.hpp>
#include <coloop/core/task.hpp>
#include <exception>
#include <system_error>
#include <utility>

namespace coloop::test {

/// Awaits `aw` and returns the error code of the std::system_error it throws ({} for none;
/// errc::cancelled for cancelled_error).
template <class Awaitable>
task<std::error_code> error_of(Awaitable aw) {
  try {
    co_await std::move(aw);
  } catch (const std::system_error& e) {
    co_return e.code();
  }
  co_return std::error_code{};
}

inline std::error_code errno_code(int e) { return {e, std::generic_category()}; }

}  // namespace coloop::test

#pragma once
// coloop's own error codes and the exceptions coroutine APIs throw.

#include <system_error>

namespace coloop {

/// Errors of coloop itself (OS failures use std::generic_category with errno instead).
enum class errc {
  cancelled = 1,     ///< the operation's task was cancelled
  timed_out,         ///< wait_for expired
  closed,            ///< the loop, channel or stream was closed
  limit_overrun,     ///< a read passed its size limit
  incomplete_read,   ///< end of stream before the requested bytes arrived
  rejected,          ///< an executor refused the work
  broken_promise,    ///< a promise was destroyed without a value
};

/// The category of coloop::errc; its name() is "coloop".
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// Thrown by a pending co_await in a task that was cancelled.
class cancelled_error : public std::system_error {
 public:
  cancelled_error();
};

/// Thrown by wait_for when its deadline passes before the inner operation completes.
class timeout_error : public std::system_error {
 public:
  timeout_error();
};

}  // namespace coloop

template <>
struct std::is_error_code_enum<coloop::errc> : std::true_type {};

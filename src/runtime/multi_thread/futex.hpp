#pragma once
// futex_wait / futex_wake_one: the raw Linux futex the parker and runtime::block_on sleep on.
// Under TSan a sleep lasts at most 10 ms and then runs the signal handlers TSan deferred
// (runtime/tsan_signals.hpp); callers already treat any return as "look at the state again".

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "runtime/tsan_signals.hpp"

namespace coloop::detail {

/// Sleeps while *word == expected, at most `timeout` (null: no limit); may return early (EINTR,
/// EAGAIN, a spurious wake, a TSan slice).
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       const timespec* timeout) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free);
#ifdef COLOOP_TSAN_DEFERS_SIGNALS
  constexpr timespec slice{0, 10'000'000};
  if (timeout == nullptr || timeout->tv_sec > 0 || timeout->tv_nsec > slice.tv_nsec) {
    timeout = &slice;
  }
#endif
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            timeout, nullptr, 0);
  run_deferred_signal_handlers();
}

/// Wakes one thread sleeping in futex_wait on `word`.
inline void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

}  // namespace coloop::detail

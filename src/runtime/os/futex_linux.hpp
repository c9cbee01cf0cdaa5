// Linux's futex behind runtime/os/futex.hpp (contracts there), inline: unpark's wake is on the
// runtime's hot path. Only futex.hpp includes this file.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <ctime>

#include "runtime/tsan_signals.hpp"

namespace coloop::detail::os {

inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
#ifdef COLOOP_TSAN_DEFERS_SIGNALS
  static constexpr timespec slice{0, 10'000'000};  // see runtime/tsan_signals.hpp
  const timespec* limit = &slice;
#else
  const timespec* limit = nullptr;
#endif
  // EAGAIN (word changed), EINTR and ETIMEDOUT (TSan's slice) all mean "look at the state again".
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            limit, nullptr, 0);
  run_deferred_signal_handlers();
}

inline void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX,
            nullptr, nullptr, 0);
}

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace coloop::detail::os

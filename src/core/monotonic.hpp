#pragma once
// monotonic_ns: the steady clock in ns, what the loop's real clock, the backends' EINTR retries
// and the pool's queue-wait figures all read.

#include <chrono>
#include <cstdint>

namespace coloop::detail {

inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace coloop::detail

// Linux's wake_fd (runtime/os/wake_fd.hpp): an eventfd. notify and drain are inline, being on
// the cross-thread wake path; the constructor and destructor are in wake_fd_linux.cpp. Only
// wake_fd.hpp includes this file.
#pragma once

#include <errno.h>
#include <unistd.h>

#include <cstdint>

namespace coloop::detail::os {

inline void wake_fd::notify() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: a wake-up is pending anyway. EINTR: try again.
  while (::write(write_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

inline void wake_fd::drain() noexcept {
  std::uint64_t count = 0;  // one read resets the counter
  while (::read(read_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

}  // namespace coloop::detail::os

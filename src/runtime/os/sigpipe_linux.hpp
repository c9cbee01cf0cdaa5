// Linux's discard_pending_sigpipe (runtime/os/sigpipe.hpp, contract there). Only sigpipe.hpp
// includes this file.
#pragma once

#include <errno.h>
#include <signal.h>
#include <time.h>

namespace coloop::detail::os {

inline void discard_pending_sigpipe() noexcept {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  // A SIGPIPE raised by this thread's write is directed at it, which sigtimedwait takes first.
  const timespec zero{};
  while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
  }
}

}  // namespace coloop::detail::os

// The portable discard_pending_sigpipe (runtime/os/sigpipe.hpp): what macOS (no sigtimedwait)
// and the BSDs run, and Linux with COLOOP_PORTABLE_FALLBACKS=ON. sigwait returns at once for a
// pending signal; asking sigpending first keeps it from blocking when the write raised none
// (a socket with SO_NOSIGPIPE fails with EPIPE silently).

#include <signal.h>

#include "runtime/os/sigpipe.hpp"

namespace coloop::detail::os {

void discard_pending_sigpipe() noexcept {
  sigset_t pending;
  if (sigpending(&pending) < 0 || sigismember(&pending, SIGPIPE) != 1) return;
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  int taken = 0;
  sigwait(&pipe_only, &taken);  // returns an error number, never EINTR
}

}  // namespace coloop::detail::os

// Discarding the SIGPIPE a failed write() on a pipe raised while the thread blocked it
// (io/async_fd.cpp's write_without_sigpipe). Linux: sigtimedwait with a zero timeout,
// inline (sigpipe_linux.hpp). Elsewhere (sigpipe_portable.cpp): sigpending, then sigwait only
// if SIGPIPE is pending, so it cannot block; macOS has no sigtimedwait.
#pragma once

#include "runtime/os/config.hpp"

namespace coloop::detail::os {

#if COLOOP_PORTABLE_FALLBACKS
/// Takes a pending SIGPIPE off the calling thread, which must have SIGPIPE blocked; does
/// nothing when none is pending. Never blocks; never throws.
void discard_pending_sigpipe() noexcept;
#endif

}  // namespace coloop::detail::os

#if !COLOOP_PORTABLE_FALLBACKS
#include "runtime/os/sigpipe_linux.hpp"
#endif

#pragma once
// Signals under ThreadSanitizer. TSan does not run a signal handler when the signal arrives: it
// defers it until the receiving thread is inside an intercepted blocking call, or passes its
// next interceptor. A thread asleep in a call TSan does not intercept (a raw futex, which
// SA_RESTART restarts; epoll_pwait2 or io_uring_enter, retried after EINTR) would hold a
// signal_set's signal until woken for some other reason, so an idle loop or runtime would never
// see SIGTERM. Those sleeps call run_deferred_signal_handlers() after each wake-up, and under
// TSan a futex sleep is cut into 10 ms slices (runtime/os/futex_linux.hpp; the portable futex
// sleeps in pthread_cond_wait, which TSan intercepts). Outside TSan: nothing.

#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define COLOOP_TSAN_DEFERS_SIGNALS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define COLOOP_TSAN_DEFERS_SIGNALS 1
#endif
#endif

namespace coloop::detail {

/// Under TSan, runs the signal handlers it deferred on this thread (any intercepted call does;
/// usleep(0) is one); a no-op otherwise.
inline void run_deferred_signal_handlers() noexcept {
#ifdef COLOOP_TSAN_DEFERS_SIGNALS
  ::usleep(0);
#endif
}

/// A poll(2) timeout for a thread that waits for a signal's effect: under TSan the thread may
/// hold the very signal it waits for, so it sleeps in 10 ms slices and runs the deferred
/// handlers between them; elsewhere -1 (no timeout).
#ifdef COLOOP_TSAN_DEFERS_SIGNALS
inline constexpr int signal_wait_slice_ms = 10;
#else
inline constexpr int signal_wait_slice_ms = -1;
#endif

}  // namespace coloop::detail

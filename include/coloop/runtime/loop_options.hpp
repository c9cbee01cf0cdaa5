#pragma once
// Options of an event_loop, the clock types of the runtime layer, and the choice of I/O backend.

#include <chrono>
#include <string_view>
#include <vector>

namespace coloop {

/// The loop clock: monotonic, integer nanoseconds.
using clock = std::chrono::steady_clock;
using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<clock, duration>;

/// The OS mechanism a loop waits on. Which ones exist depends on the platform and on how coloop
/// was built (available_backends()).
enum class backend {
  automatic,  ///< $COLOOP_BACKEND when set, otherwise the first of available_backends()
  epoll,      ///< Linux
  kqueue,     ///< BSD, macOS
  io_uring,   ///< Linux with liburing
  libuv,      ///< anywhere libuv is (COLOOP_WITH_LIBUV): the loop waits inside uv_run
};

struct loop_options {
  /// Virtual time for tests: the clock starts at the real now and moves only by
  /// event_loop::advance_time, or by jumping to the next timer when nothing else can run
  /// (so sleep_for(1h) completes at once without sleeping).
  bool manual_clock = false;
  /// The I/O backend. Constructing a loop with one that is not compiled in (or with an unknown
  /// $COLOOP_BACKEND under automatic) throws std::invalid_argument naming the available ones.
  coloop::backend backend = coloop::backend::automatic;
  /// coloop::run: more than 1 runs `main` on a multi-threaded runtime with this many workers.
  /// runtime: its worker count, 0 meaning one per hardware thread.
  unsigned workers = 0;
  /// runtime, for tests: non-zero shuffles the ready queues and the steals with this seed, which
  /// is printed to stderr so a failing interleaving can be replayed. The environment variable
  /// COLOOP_SCHEDULE_SEED sets it when this is 0.
  unsigned long long schedule_seed = 0;
  /// Debug mode (asyncio's): reports slow steps, unretrieved exceptions, tasks never awaited or
  /// destroyed pending, a loop closed with live tasks, and calls from the wrong thread, and
  /// keeps a profile per task (docs/debugging.md). COLOOP_DEBUG=1 turns it on too.
  bool debug = false;
  /// Debug mode: a step (a task from resume to suspend, or a callback) longer than this is
  /// reported.
  duration slow_callback_duration = std::chrono::milliseconds(100);
};

/// Whether loop_options `o` asks for debug mode, or $COLOOP_DEBUG is set to anything but "" or
/// "0".
bool debug_mode_requested(const loop_options& o) noexcept;

/// The backends compiled into this build, most preferred first (automatic picks the first).
/// Never empty, never contains backend::automatic. Thread-safe.
std::vector<backend> available_backends();
/// True when `b` is compiled in (automatic always is).
bool is_available(backend b) noexcept;
/// "automatic", "epoll", "kqueue", "io_uring" or "libuv".
std::string_view to_string(backend b) noexcept;
/// The backend called `name` (as to_string spells it), for --backend NAME and $COLOOP_BACKEND.
/// Throws std::invalid_argument naming the known and the available backends when unknown; does
/// not check that the backend is compiled in (see is_available).
backend parse_backend(std::string_view name);

}  // namespace coloop

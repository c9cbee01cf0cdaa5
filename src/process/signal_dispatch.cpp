// Signal dispatch, as libuv does it: a real sigaction handler per watched signal, installed
// process-wide (over SIG_IGN too), that wakes every watcher of that signal. The kernel may run
// it on whichever thread does not block the signal, and no thread needs to block anything, so
// threads started before or after a signal_set (the default pool, the runtime's workers) make
// no difference, and children inherit no blocked mask (exec resets handled signals to SIG_DFL).
//
// State: a fixed table of slots, one per open signal_set. A slot holds the set's signal mask
// (0: nobody), a pending mask the handler ORs bits into, the write end of the set's wake pipe,
// and `busy`, the number of handlers currently looking at the slot. The handler only loads and
// updates atomics and calls write(), all async-signal-safe; it saves and restores errno. Per
// signal, the number of watchers and the disposition found before the first one (restored by
// the last) are only touched under `mutex_`, never by the handler.
//
// Delivery: the handler sets the pending bit, then writes one byte. The set's wait() takes a
// pending bit first and reads the pipe only when none is set, so a bit set after the take comes
// with a byte that wakes the read: no wake-up is lost. A burst coalesces into one bit (and the
// kernel itself does not queue standard signals); bytes left over from a burst make wait() read
// again, find no bit and wait on: they cost a loop turn, never a false delivery.
//
// Unregistration (the race with a handler running on another thread): unwatch clears the slot's
// mask, then waits until `busy` is 0, and only then closes the write fd and frees the slot. A
// handler raises `busy` before loading the mask, both sequentially consistent, so either it saw
// the cleared mask (and touches nothing) or unwatch sees it busy and waits for it: no write can
// land on a closed fd, or on a reused fd number. The wait is a few instructions long (a
// handler's work) and never happens inside a handler. The write end closes before the read end
// (the set's async_fd), so the handler's write never raises SIGPIPE.

#include "process/signal_dispatch.hpp"

#include "runtime/os/sockets.hpp"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <mutex>
#include <stdexcept>
#include <string>

namespace coloop::detail::signals {
namespace {

constexpr int max_slots = 128;

struct slot {
  std::atomic<std::uint64_t> signals{0};  // bit n-1: watches signal n; 0 while free
  std::atomic<std::uint64_t> pending{0};  // bit n-1: signal n arrived, not yet taken
  std::atomic<int> write_fd{-1};
  std::atomic<unsigned> busy{0};  // handlers between their look at `signals` and their last write
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<unsigned>::is_always_lock_free &&
                  std::atomic<int>::is_always_lock_free,
              "the signal handler may only use lock-free atomics");

slot slots_[max_slots];
// One past the highest slot ever used: the handler walks no further.
std::atomic<int> high_water_{0};

std::mutex mutex_;  // guards what follows, and the allocation of slots
bool in_use_[max_slots] = {};
int watchers_[max_signal + 1] = {};
struct sigaction previous_[max_signal + 1];

void on_signal(int signo) {
  if (signo < 1 || signo > max_signal) return;
  const int saved_errno = errno;
  const std::uint64_t bit = 1ULL << (signo - 1);
  // acquire: pairs with watch()'s release, so the slots below it are initialised.
  const int n = high_water_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    slot& s = slots_[i];
    // seq_cst (this and the next load): the Dekker pair with unwatch's store of `signals` and
    // load of `busy` (see the top).
    s.busy.fetch_add(1, std::memory_order_seq_cst);
    if ((s.signals.load(std::memory_order_seq_cst) & bit) != 0) {
      // release: the bit is visible to a reader woken by the byte below.
      s.pending.fetch_or(bit, std::memory_order_release);
      const char byte = 0;
      // relaxed: set before `signals` was published, which the load above acquired.
      const ssize_t r = ::write(s.write_fd.load(std::memory_order_relaxed), &byte, 1);
      (void)r;  // EAGAIN: the pipe is full of wakes already
    }
    // release: unwatch, which acquires `busy`, closes the fd only after this handler's write.
    s.busy.fetch_sub(1, std::memory_order_release);
  }
  errno = saved_errno;
}

/// Gives back the signals in `counted` (restoring a disposition when its last watcher goes),
/// then retires slot `index` as described at the top. Under mutex_.
void release_locked(int index, std::uint64_t counted) noexcept {
  for (int signo = 1; signo <= max_signal; ++signo) {
    if ((counted >> (signo - 1) & 1) != 0 && --watchers_[signo] == 0) {
      ::sigaction(signo, &previous_[signo], nullptr);
    }
  }
  slot& s = slots_[index];
  s.signals.store(0, std::memory_order_seq_cst);  // seq_cst: see on_signal
  while (s.busy.load(std::memory_order_seq_cst) != 0) ::sched_yield();
  ::close(s.write_fd.load(std::memory_order_relaxed));  // relaxed: only written under mutex_
  s.write_fd.store(-1, std::memory_order_relaxed);
  in_use_[index] = false;
}

}  // namespace

void make_wake_pipe(int fds[2]) { os::cloexec_pipe(fds, "coloop::signal_set: pipe", true); }

int watch(std::uint64_t mask, int write_fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  int index = 0;
  while (index < max_slots && in_use_[index]) ++index;
  if (index == max_slots) {
    ::close(write_fd);
    throw std::length_error("coloop::signal_set: more than " + std::to_string(max_slots) +
                            " signal_sets open at once");
  }
  slot& s = slots_[index];
  in_use_[index] = true;
  // relaxed: published by the seq_cst store of `signals` below.
  s.pending.store(0, std::memory_order_relaxed);
  s.write_fd.store(write_fd, std::memory_order_relaxed);
  // relaxed load: only written under mutex_. release store: a handler that reads the new mark
  // sees the slot's initial state.
  if (index >= high_water_.load(std::memory_order_relaxed)) {
    high_water_.store(index + 1, std::memory_order_release);
  }
  // Published before any handler is installed, so a signal arriving right after is not missed.
  s.signals.store(mask, std::memory_order_seq_cst);  // seq_cst: see on_signal
  std::uint64_t counted = 0;
  for (int signo = 1; signo <= max_signal; ++signo) {
    if ((mask >> (signo - 1) & 1) == 0) continue;
    if (watchers_[signo] == 0) {
      struct sigaction action {};
      action.sa_handler = &on_signal;
      sigfillset(&action.sa_mask);  // one handler at a time per thread
      action.sa_flags = SA_RESTART;
      if (::sigaction(signo, &action, &previous_[signo]) != 0) {
        const int err = errno;
        release_locked(index, counted);
        throw std::invalid_argument("coloop::signal_set: cannot handle signal " +
                                    std::to_string(signo) + ": " + ::strerror(err));
      }
    }
    ++watchers_[signo];
    counted |= 1ULL << (signo - 1);
  }
  return index;
}

void unwatch(int index) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  // relaxed: only changed under mutex_ outside the handler.
  release_locked(index, slots_[index].signals.load(std::memory_order_relaxed));
}

int take_pending(int index) noexcept {
  std::atomic<std::uint64_t>& pending = slots_[index].pending;
  // acquire: pairs with the handler's release (the bit came with the byte that woke us).
  std::uint64_t bits = pending.load(std::memory_order_acquire);
  while (bits != 0) {
    const std::uint64_t lowest = bits & (~bits + 1);
    if (pending.compare_exchange_weak(bits, bits & ~lowest, std::memory_order_acquire)) {
      return std::countr_zero(lowest) + 1;
    }
  }
  return 0;
}

}  // namespace coloop::detail::signals

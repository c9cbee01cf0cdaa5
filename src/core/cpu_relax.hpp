#pragma once
// cpu_relax: the spin-wait hint (x86 pause, Arm yield) used by every spin-then-park loop, and
// spin_lock, for the locks held a few instructions.

#include <sched.h>

#include <atomic>

namespace coloop::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Polls `done()` up to `polls` times, true once it holds. Every 32nd poll gives the CPU away:
/// the thread that will wake us (a loop this thread just posted to, with wake-affine
/// scheduling) may need this core and must not wait for the spin to end.
template <class Done>
bool spin_until(unsigned polls, Done done) noexcept {
  for (unsigned i = 0; i < polls; ++i) {
    if (done()) return true;
    if ((i & 31) == 31) {
      ::sched_yield();
    } else {
      cpu_relax();
    }
  }
  return false;
}

/// Held for a few instructions (link, unlink): cheaper than a mutex uncontended, which is the
/// common case. Yields after a short spin, as a preempted holder may hold it a while.
class spin_lock {
 public:
  void lock() noexcept {
    // acquire: what the previous holder wrote under the lock is visible once we hold it.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // relaxed: only a hint to retry the exchange, which does the acquiring.
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          cpu_relax();
        } else {
          ::sched_yield();
        }
      }
    }
  }
  // release: publishes what we wrote under the lock to the next holder.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace coloop::detail

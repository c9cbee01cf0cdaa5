#pragma once
// cpu_relax: the spin-wait hint (x86 pause, Arm yield) used by every spin-then-park loop.

#include <sched.h>

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

}  // namespace coloop::detail

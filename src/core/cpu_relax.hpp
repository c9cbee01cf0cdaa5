#pragma once
// cpu_relax: the spin-wait hint (x86 pause, Arm yield) used by every spin-then-park loop.

namespace coloop::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace coloop::detail

// A futex, the one blocking primitive of the runtime's parkers and of block_on: sleep while a
// 32-bit word holds a value, wake the sleepers of a word. Linux: the futex syscall, inline
// (futex_linux.hpp). Elsewhere: futex_portable.cpp, a mutex and condition variable per bucket of
// a fixed table keyed by the word's address. Not std::atomic::wait: that is a futex on Linux, so
// a build forcing the fallback would test nothing (and the library does not use it either).
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/os/config.hpp"

namespace coloop::detail::os {

#if COLOOP_PORTABLE_FALLBACKS

/// Blocks while `word` holds `expected`, until futex_wake_one(word). May return early for no
/// reason: the caller re-checks its state. Any thread; never throws.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept;

/// Wakes at least one thread blocked in futex_wait(word). Only the address is used, so `word`
/// may already be destroyed (block_on's waiter may be gone). Any thread; never throws.
void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept;

/// Wakes every thread blocked in futex_wait(word). As futex_wake_one otherwise.
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

#endif

}  // namespace coloop::detail::os

#if !COLOOP_PORTABLE_FALLBACKS
#include "runtime/os/futex_linux.hpp"
#endif

#pragma once
// The process-wide side of signal_set: one sigaction handler per watched signal, and the table of
// watchers it wakes (see signal_dispatch.cpp for the design and its invariants).

#include <cstdint>

namespace coloop::detail::signals {

/// The highest signal number a watcher can name (bit n-1 of a mask is signal n).
inline constexpr int max_signal = 64;

/// Makes the wake pipe of one watcher: both ends close-on-exec, the write end non-blocking (the
/// handler must never block; a full pipe already holds a wake). Throws std::system_error.
void make_wake_pipe(int fds[2]);

/// Registers a watcher of the signals in `mask` that the handler wakes by writing a byte to
/// `write_fd` (owned from here on, closed even when this throws), installing the handler for each
/// signal nobody watched yet (over whatever was there, SIG_IGN included). Returns the watcher's
/// slot. Throws std::invalid_argument for a signal the OS refuses to handle, std::length_error
/// when every slot is taken. Thread-safe.
int watch(std::uint64_t mask, int write_fd);

/// Unregisters a slot: restores the disposition each of its signals had before the first watcher
/// took it, if it was the last watcher of that signal; waits until no handler can still be using
/// the slot; closes its write fd. Thread-safe; never from a signal handler.
void unwatch(int slot) noexcept;

/// Takes one signal that arrived for `slot` since it was last taken (the lowest number when
/// several did); 0 when none did. A signal that arrives several times before it is taken is
/// taken once. Thread-safe.
int take_pending(int slot) noexcept;

}  // namespace coloop::detail::signals

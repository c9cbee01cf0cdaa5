#pragma once
// Logging: the one door every message of coloop goes through (DESIGN.md §8). A level, filtered
// with one relaxed load, and a sink: stderr by default, replaceable by the application.
// Formatting is the caller's (coloop formats its own messages with fmt in its .cpp files), so
// this header stays light and pulls no fmt into the application.

#include <atomic>
#include <string_view>

namespace coloop {

/// Severity of a message, lowest first; `off` as a threshold silences everything.
enum class log_level : int { debug = 1, info = 2, warn = 3, error = 4, off = 5 };

/// "debug", "info", "warn", "error" or "off".
std::string_view to_string(log_level l) noexcept;
/// The level called `name` (as to_string spells it). Throws std::invalid_argument naming the
/// valid names when unknown.
log_level parse_log_level(std::string_view name);

/// One message as a sink receives it. `origin` names the scheduler of the thread that wrote it
/// ("loop 1", "runtime 2 worker 0") or is "" on any other thread. Valid during the call only.
struct log_record {
  log_level level;
  std::string_view origin;
  std::string_view text;  // without a trailing newline
};

/// A sink: called for every message at or above the threshold, on the thread that logs it,
/// possibly from several threads at once (the sink synchronises itself). Must not throw (an
/// exception is swallowed) and must not log.
using log_sink_fn = void (*)(void* user, const log_record& record) noexcept;

/// Replaces the sink; nullptr restores the default (stderr: "<UTC time> coloop <level> [origin]
/// text"). `user` is passed back on each call. Thread-safe; a message being written while the
/// sink changes may still reach the old one, so keep `user` alive until no thread logs.
void set_log_sink(log_sink_fn fn, void* user = nullptr) noexcept;

/// Sets the threshold: messages below it are dropped. The default comes from $COLOOP_LOG
/// (debug|info|warn|error|off), read at the first message; `info` when it is unset, `info`
/// plus a warning naming the valid values when it is not one of them. Thread-safe.
void set_log_level(log_level l) noexcept;
/// The current threshold (reads $COLOOP_LOG first if nothing did yet). Thread-safe.
log_level get_log_level() noexcept;

namespace detail {
/// The threshold, 0 until $COLOOP_LOG has been read (so every message then takes the slow path
/// once, which reads it).
extern constinit std::atomic<int> log_threshold;
void log_write(log_level l, std::string_view text) noexcept;
}  // namespace detail

/// Whether a message at `l` would be written: one relaxed load. Thread-safe.
inline bool log_enabled(log_level l) noexcept {
  // Relaxed: a level change need not order anything else; a message racing it may go either way.
  return static_cast<int>(l) >= detail::log_threshold.load(std::memory_order_relaxed);
}

/// Writes `text` at level `l` through the sink when enabled. Never throws. Thread-safe.
inline void log(log_level l, std::string_view text) noexcept {
  if (log_enabled(l)) detail::log_write(l, text);
}

}  // namespace coloop

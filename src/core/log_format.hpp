#pragma once
// coloop's own messages: log(level, "fmt {}", args...) formatted with fmt only when the level
// is enabled. Private: the public header (coloop/core/log.hpp) takes finished text.

#include <fmt/format.h>

#include <exception>
#include <string>

#include <coloop/core/log.hpp>

namespace coloop::detail {

template <class... Args>
void logf(log_level l, fmt::format_string<Args...> f, Args&&... args) noexcept {
  if (!log_enabled(l)) return;
  try {
    log_write(l, fmt::format(f, std::forward<Args>(args)...));
  } catch (...) {
    log_write(l, "coloop: (a log message could not be formatted)");
  }
}

/// What sinks get as the origin of messages from this thread (copied, cut to 47 characters);
/// set by the runtime layer on the threads that run a scheduler, "" to clear.
void set_log_origin(std::string_view origin) noexcept;

/// e's what(), or `otherwise` when it is not a std::exception; "(null)" when e is empty.
std::string what_of(const std::exception_ptr& e, const char* otherwise);

/// Logs "`with_what`: e.what()", or `otherwise` when `e` (not empty) is not a std::exception.
void log_exception(log_level l, const std::exception_ptr& e, const char* with_what,
                   const char* otherwise) noexcept;

}  // namespace coloop::detail

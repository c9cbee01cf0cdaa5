// The logging facade (coloop/core/log.hpp). The threshold is one atomic read by every
// log_enabled(); it starts at 0 so the first message reads $COLOOP_LOG and stores the real
// threshold. The sink is a (function, user) pair behind a mutex
// (changing it is rare; writing a message already costs a formatted string). The default sink
// writes one line per message with a single fwrite, so lines from several threads do not mix.

#include <coloop/core/log.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/log_format.hpp"

namespace coloop {
namespace detail {

constinit std::atomic<int> log_threshold{0};

namespace {

constexpr std::string_view level_names[] = {"debug", "info", "warn", "error", "off"};
constinit thread_local char origin_of_thread[48] = {};

void stderr_sink(void*, const log_record& r) noexcept {
  try {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line), "{:%Y-%m-%dT%H:%M:%S}.{:03}Z {:<5}",
                   std::chrono::time_point_cast<std::chrono::seconds>(now), ms.count() % 1000,
                   to_string(r.level));
    if (!r.origin.empty()) fmt::format_to(std::back_inserter(line), " [{}]", r.origin);
    fmt::format_to(std::back_inserter(line), " {}\n", r.text);
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
    std::fwrite(r.text.data(), 1, r.text.size(), stderr);  // no memory: the text alone
    std::fputc('\n', stderr);
  }
}

using sink_ref = std::pair<log_sink_fn, void*>;
struct sink_slot {
  std::mutex mutex;
  sink_ref to{&stderr_sink, nullptr};
};
sink_slot& sink() {
  // Never destroyed: statics' constructors and destructors, and threads still running at exit,
  // may log.
  static sink_slot* s = new sink_slot;
  return *s;
}

sink_ref current_sink() noexcept {
  sink_slot& s = sink();
  std::lock_guard lock(s.mutex);
  return s.to;
}

int read_env_threshold() noexcept {
  const char* v = std::getenv("COLOOP_LOG");
  if (v == nullptr || *v == '\0') return static_cast<int>(log_level::info);
  try {
    return static_cast<int>(parse_log_level(v));
  } catch (const std::exception& e) {
    // Before the store below: this message passes the threshold 0 and must not recurse here.
    const std::string text = fmt::format("coloop: COLOOP_LOG: {}; using info", e.what());
    const auto [fn, user] = current_sink();
    fn(user, log_record{log_level::warn, origin_of_thread, text});
    return static_cast<int>(log_level::info);
  }
}

int resolve_threshold() noexcept {
  // Threads racing here all read the same environment; the first store wins, and a
  // set_log_level before the first message wins over the environment. Relaxed: the threshold
  // guards no other data.
  int expected = 0;
  const int from_env = read_env_threshold();
  log_threshold.compare_exchange_strong(expected, from_env, std::memory_order_relaxed);
  return log_threshold.load(std::memory_order_relaxed);
}

}  // namespace

void set_log_origin(std::string_view origin) noexcept {
  const std::size_t n = std::min(origin.size(), sizeof origin_of_thread - 1);
  std::copy_n(origin.data(), n, origin_of_thread);
  origin_of_thread[n] = '\0';
}

void log_write(log_level l, std::string_view text) noexcept {
  int threshold = log_threshold.load(std::memory_order_relaxed);
  if (threshold == 0) threshold = resolve_threshold();
  if (static_cast<int>(l) < threshold || l == log_level::off) return;
  const auto [fn, user] = current_sink();
  try {
    fn(user, log_record{l, origin_of_thread, text});
  } catch (...) {  // a sink that throws anyway: the message is lost, the caller unharmed
  }
}

void log_exception(log_level l, const std::exception_ptr& e, const char* with_what,
                   const char* otherwise) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    logf(l, "{}: {}", with_what, x.what());
  } catch (...) {
    log(l, otherwise);
  }
}

}  // namespace detail

std::string_view to_string(log_level l) noexcept {
  const int i = static_cast<int>(l);
  return i >= 1 && i <= 5 ? detail::level_names[i - 1] : std::string_view("?");
}

log_level parse_log_level(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (name == detail::level_names[i]) return static_cast<log_level>(i + 1);
  }
  throw std::invalid_argument(fmt::format(
      "unknown log level \"{}\" (expected debug, info, warn, error or off)", name));
}

void set_log_sink(log_sink_fn fn, void* user) noexcept {
  detail::sink_slot& s = detail::sink();
  std::lock_guard lock(s.mutex);
  s.to = {fn != nullptr ? fn : &detail::stderr_sink, fn != nullptr ? user : nullptr};
}

void set_log_level(log_level l) noexcept {
  // Relaxed: the threshold guards no other data.
  detail::log_threshold.store(static_cast<int>(l), std::memory_order_relaxed);
}

log_level get_log_level() noexcept { return static_cast<log_level>(detail::resolve_threshold()); }

}  // namespace coloop

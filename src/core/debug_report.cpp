// Debug mode's reports that need only the core layer: a task destroyed unfinished. The runtime
// layer installs the per-step hook (runtime/debug_mode.cpp).

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include <coloop/core/task.hpp>

#include "core/log_format.hpp"

namespace coloop::detail {

void (*debug_suspend)(const await_record& r, void* cancel) noexcept = nullptr;

namespace {
/// The coroutine function of a frame that never ran: the symbol of its resume function, which
/// both compilers keep in the frame's first word ("f(int) [clone .actor]" with g++). Found only
/// for exported symbols (executables linked with -rdynamic, shared libraries).
std::string coroutine_symbol(std::coroutine_handle<> h) {
  void* resume = nullptr;
  __builtin_memcpy(&resume, h.address(), sizeof resume);
  Dl_info info{};
  if (dladdr(resume, &info) == 0 || info.dli_sname == nullptr) return "an unnamed coroutine";
  int status = 0;
  char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : info.dli_sname;
  std::free(demangled);
  return name;
}
}  // namespace

void debug_task_dropped(std::coroutine_handle<> h, const await_record& r) noexcept {
  if (!log_enabled(log_level::warn)) return;
  try {
    if (r.state == 0) {
      logf(log_level::warn,
           "coloop debug: a task was destroyed without ever being awaited or spawned: {}",
           coroutine_symbol(h));
    } else {
      logf(log_level::warn,
           "coloop debug: a task was destroyed while still pending, suspended in {} at {}:{}",
           r.at.function(), r.at.file(), r.at.line());
    }
  } catch (...) {  // no memory for the message: the report is lost, never the program
  }
}

}  // namespace coloop::detail

// Temporary backend choice for new loops (reactor.hpp, make_env_reactor), so the io_uring backend
// can be run before backend selection (loop_options::backend, COLOOP_BACKEND, select.cpp) lands;
// that change replaces this file. COLOOP_BACKEND unset, "", "automatic" or "epoll": epoll;
// "io_uring": io_uring when compiled in and the kernel allows it, else epoll with one line on
// stderr per process.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "runtime/reactor.hpp"

#if COLOOP_HAVE_IO_URING
#include "backend/io_uring/io_uring_reactor.hpp"
#endif

namespace coloop::detail {

std::unique_ptr<reactor> make_env_reactor() {
  const char* env = std::getenv("COLOOP_BACKEND");
  const std::string_view name = env != nullptr ? env : "";
  if (name.empty() || name == "automatic" || name == "epoll") return make_epoll_reactor();
  if (name != "io_uring") {
    throw std::invalid_argument("coloop: COLOOP_BACKEND=" + std::string(name) +
                                ": unknown backend (known: automatic, epoll, io_uring)");
  }
#if COLOOP_HAVE_IO_URING
  try {
    return make_io_uring_reactor();
  } catch (const io_uring_unavailable& e) {
    log_io_uring_fallback(e);
  }
#else
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true)) {
    std::fputs("coloop: io_uring not compiled in (COLOOP_WITH_IO_URING=OFF); using epoll\n",
               stderr);
  }
#endif
  return make_epoll_reactor();
}

}  // namespace coloop::detail

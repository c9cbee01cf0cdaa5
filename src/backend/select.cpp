// Backend selection: which reactors this build has, how they are named, and which one a loop
// gets (loop_options::backend, overridden under `automatic` by $COLOOP_BACKEND).
//
// The COLOOP_HAVE_<NAME> definitions come from CMake (CMakeLists.txt): one per backend compiled
// into the library, each providing make_<name>_reactor(). The order of compiled_backends() is the
// preference order: the OS's own readiness API first, the optional ones after it.

#include <algorithm>
#include <coloop/runtime/loop_options.hpp>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver/reactor.hpp"
#if COLOOP_HAVE_IO_URING
#include "backend/io_uring/io_uring_reactor.hpp"
#endif

#ifndef COLOOP_HAVE_EPOLL
#define COLOOP_HAVE_EPOLL 0
#endif
#ifndef COLOOP_HAVE_KQUEUE
#define COLOOP_HAVE_KQUEUE 0
#endif
#ifndef COLOOP_HAVE_IO_URING
#define COLOOP_HAVE_IO_URING 0
#endif
#ifndef COLOOP_HAVE_LIBUV
#define COLOOP_HAVE_LIBUV 0
#endif

namespace coloop {
namespace {

constexpr backend compiled[] = {
#if COLOOP_HAVE_EPOLL
    backend::epoll,
#endif
#if COLOOP_HAVE_KQUEUE
    backend::kqueue,
#endif
#if COLOOP_HAVE_IO_URING
    backend::io_uring,
#endif
#if COLOOP_HAVE_LIBUV
    backend::libuv,
#endif
};
static_assert(sizeof compiled / sizeof compiled[0] > 0, "coloop: no I/O backend compiled in");

constexpr backend all_named[] = {backend::automatic, backend::epoll, backend::kqueue,
                                 backend::io_uring, backend::libuv};

/// "epoll, libuv": for error messages.
std::string list(const backend* first, const backend* last) {
  std::string out;
  for (const backend* b = first; b != last; ++b) {
    if (!out.empty()) out += ", ";
    out += to_string(*b);
  }
  return out;
}

std::string compiled_list() { return list(std::begin(compiled), std::end(compiled)); }

}  // namespace

std::vector<backend> available_backends() { return {std::begin(compiled), std::end(compiled)}; }

bool is_available(backend b) noexcept {
  return b == backend::automatic || std::ranges::find(compiled, b) != std::end(compiled);
}

std::string_view to_string(backend b) noexcept {
  constexpr std::string_view names[] = {"automatic", "epoll", "kqueue", "io_uring", "libuv"};
  const auto i = static_cast<std::size_t>(b);  // the enumerators are 0, 1, ... in this order
  return i < std::size(names) ? names[i] : "unknown";
}

backend parse_backend(std::string_view name) {
  for (backend b : all_named) {
    if (to_string(b) == name) return b;
  }
  throw std::invalid_argument("coloop: unknown backend '" + std::string(name) +
                              "' (known: " + list(std::begin(all_named), std::end(all_named)) +
                              "; compiled in: " + compiled_list() + ")");
}

namespace detail {

backend resolve_backend(backend requested) {
  const char* env = requested == backend::automatic ? std::getenv("COLOOP_BACKEND") : nullptr;
  const std::string from = env != nullptr && *env != '\0' ? "COLOOP_BACKEND: " : "";
  if (!from.empty()) {
    try {
      requested = parse_backend(env);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(from + e.what());
    }
  }
  if (requested == backend::automatic) return compiled[0];
  if (!is_available(requested)) {
    throw std::invalid_argument(from + "coloop: backend '" + std::string(to_string(requested)) +
                                "' is not compiled in (available: " + compiled_list() + ")");
  }
  return requested;
}

std::unique_ptr<reactor> make_reactor(backend requested, bool shared) {
  switch (resolve_backend(requested)) {
#if COLOOP_HAVE_EPOLL
    case backend::epoll:
      return make_epoll_reactor();
#endif
#if COLOOP_HAVE_KQUEUE
    case backend::kqueue:
      return make_kqueue_reactor();
#endif
#if COLOOP_HAVE_IO_URING
    case backend::io_uring:
      try {
        return make_io_uring_reactor(shared);
      } catch (const io_uring_unavailable& e) {
        log_io_uring_fallback(e);  // once per process
        return make_reactor(backend::epoll);
      }
#endif
#if COLOOP_HAVE_LIBUV
    case backend::libuv:
      return make_libuv_reactor();
#endif
    default:
      break;
  }
  throw std::logic_error("coloop: resolve_backend returned a backend with no factory");
}

}  // namespace detail
}  // namespace coloop

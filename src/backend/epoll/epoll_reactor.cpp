// The epoll reactor (Linux): a readiness backend for runtime/io/io_ops.cpp.
//
// Each fd is added once, edge-triggered, for read and write (EPOLLIN|EPOLLOUT|EPOLLRDHUP|
// EPOLLET) with data.ptr = its fd_entry; there is no epoll_ctl per operation. poll() turns each
// event into on_ready(entry, readable, writable); io_ops.cpp keeps the cached readiness and the
// queues. wake() notifies a wake-up fd (runtime/os/wake_fd.hpp: an eventfd, or a pipe with the
// portable fallbacks) registered level-triggered with data.ptr = nullptr; poll() drains it.
//
// Invariants:
//  - Every member but wake() runs on the loop's thread.
//  - A registered fd_entry is in live_ until deregister_fd, which removes the fd from the epoll
//    set before the entry is freed. on_ready only posts waiters (no user code runs while an
//    event batch is processed), so no entry can be freed while a batch still points at it.
//  - The timeout is never shortened: epoll_pwait2 takes it in ns; the epoll_wait fallback (old
//    kernels: ENOSYS, remembered) rounds it up to whole ms; EINTR retries with the time left.
//
// Shutdown: the loop destroys its tasks first (their awaiters withdraw from the queues and their
// async_fds deregister), then this reactor. Entries still registered then (a handle leaked past
// its loop) are withdrawn from silently and freed; epoll and the wake-up fd are closed last.

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <memory>

#include "runtime/io/readiness_reactor.hpp"
#include "runtime/os/wake_fd.hpp"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define COLOOP_HAVE_EPOLL_PWAIT2 1
#else
#define COLOOP_HAVE_EPOLL_PWAIT2 0
#endif

namespace coloop::detail {
namespace {

class epoll_reactor final : public readiness_reactor {
 public:
  epoll_reactor() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_errno(errno, "epoll_create1");
    // Level-triggered: stays reported until drained. data.ptr null: the wake-up fd.
    epoll_event ev{.events = EPOLLIN, .data = {.ptr = nullptr}};
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_.fd(), &ev) < 0) {
      const int err = errno;
      ::close(epfd_);
      throw_errno(err, "epoll_ctl(wake fd)");
    }
  }

  ~epoll_reactor() override {
    while (readiness_entry* e = take_leaked()) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, e->fd, nullptr);
      delete e;
    }
    ::close(epfd_);  // wake_ closes after this
  }

  fd_entry* register_fd(int fd) override {
    auto e = std::make_unique<readiness_entry>();
    e->fd = fd;
    epoll_event ev{.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                   .data = {.ptr = static_cast<fd_entry*>(e.get())}};
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno(errno, "epoll_ctl(ADD)");
    return adopt(*e.release());
  }

  void deregister_fd(fd_entry* entry) noexcept override {
    auto* e = static_cast<readiness_entry*>(entry);
    // Fails (EBADF/ENOENT) only if the fd was closed behind our back; nothing left to undo then.
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, e->fd, nullptr);
    forget(*e);
    delete e;
  }

  std::size_t poll(std::int64_t timeout_ns) override {
    const int n = wait_past_eintr(timeout_ns, "epoll_wait",
                                  [this](std::int64_t t) { return wait_once(t); });
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[i];
      if (ev.data.ptr == nullptr) {
        wake_.drain();
        continue;
      }
      const std::uint32_t f = ev.events;
      const bool readable = (f & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
      const bool writable = (f & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
      auto& entry = *static_cast<fd_entry*>(ev.data.ptr);
      if ((f & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) entry.peer_closed = true;
      on_ready(entry, readable, writable);
    }
    return static_cast<std::size_t>(n);
  }

  void wake() noexcept override { wake_.notify(); }

  const char* name() const noexcept override { return "epoll"; }

 private:
  static constexpr int max_events = 256;

  /// epoll_pwait2/epoll_wait with `timeout_ns` (negative: no limit): the events in events_.
  int wait_once(std::int64_t timeout_ns) {
#if COLOOP_HAVE_EPOLL_PWAIT2
    if (have_pwait2_) {
      timespec ts{};
      const int n =
          ::epoll_pwait2(epfd_, events_, max_events, as_timespec(timeout_ns, ts), nullptr);
      if (n >= 0 || errno != ENOSYS) return n;
      have_pwait2_ = false;  // kernel older than 5.11
    }
#endif
    int ms = -1;
    if (timeout_ns >= 0) {
      const std::int64_t up = (timeout_ns + 999'999) / 1'000'000;  // never wake early
      ms = up > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                                : static_cast<int>(up);
    }
    return ::epoll_wait(epfd_, events_, max_events, ms);
  }

  int epfd_ = -1;
  os::wake_fd wake_;  // opened before the epoll fd (the constructor body), closed after it
  bool have_pwait2_ = COLOOP_HAVE_EPOLL_PWAIT2 != 0;
  epoll_event events_[max_events];
};

}  // namespace

std::unique_ptr<reactor> make_epoll_reactor() { return std::make_unique<epoll_reactor>(); }

}  // namespace coloop::detail

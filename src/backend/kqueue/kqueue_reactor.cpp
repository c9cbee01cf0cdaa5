// The kqueue reactor (FreeBSD, OpenBSD, NetBSD, DragonFly, macOS): a readiness backend for
// runtime/io/io_ops.cpp, built the way the epoll one is (epoll_reactor.cpp: its invariants and
// shutdown hold here too) and compiled only where <sys/event.h> exists and the OS is not Linux
// (cmake/coloop_backends.cmake).
//
// Each fd gets an EVFILT_READ and an EVFILT_WRITE filter once (either alone is accepted for fds
// that take only one, see register_fd), both EV_CLEAR (edge style, as EPOLLET), with udata = its
// fd_entry. EV_EOF (the peer's end of stream, or a reset: then fflags holds the errno) sets
// fd_entry::peer_closed like EPOLLRDHUP/EPOLLHUP do. wake() triggers an EVFILT_USER event
// (EV_CLEAR, so it resets itself); where EVFILT_USER does not exist (older OpenBSD) a wake_fd
// (runtime/os/wake_fd.hpp: a non-blocking self-pipe there) does the same. Regular files and
// directories are refused with EPERM as epoll refuses them: kqueue would accept them (EVFILT_READ
// on a vnode) and report them always ready. The timeout is a timespec in ns.

#include <errno.h>
#include <fcntl.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <coloop/core/errors.hpp>
#include <cstdint>
#include <memory>
#include <system_error>

#include "runtime/io/readiness_reactor.hpp"
#include "runtime/os/wake_fd.hpp"

#ifdef EVFILT_USER
#define COLOOP_KQUEUE_USER_WAKE 1
#else
#define COLOOP_KQUEUE_USER_WAKE 0
#endif

namespace coloop::detail {
namespace {

/// Fills `ev` field by field: EV_SET would assign a pointer to udata, which is an intptr_t on
/// NetBSD before 10.
void set_event(struct kevent& ev, std::uintptr_t ident, int filter, unsigned flags, unsigned fflags,
               void* udata) noexcept {
  ev = {};
  ev.ident = ident;
  ev.filter = static_cast<decltype(ev.filter)>(filter);
  ev.flags = static_cast<decltype(ev.flags)>(flags);
  ev.fflags = static_cast<decltype(ev.fflags)>(fflags);
  ev.udata = reinterpret_cast<decltype(ev.udata)>(udata);
}

class kqueue_reactor final : public readiness_reactor {
 public:
  kqueue_reactor() {
    kq_ = ::kqueue();
    if (kq_ < 0) throw_errno(errno, "kqueue");
    if (::fcntl(kq_, F_SETFD, FD_CLOEXEC) < 0) fail_setup(errno, "fcntl(kqueue)");
#if COLOOP_KQUEUE_USER_WAKE
    struct kevent ev;
    set_event(ev, wake_ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, nullptr);
    if (::kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0) fail_setup(errno, "kevent(EVFILT_USER)");
#else
    struct kevent ev;
    set_event(ev, static_cast<std::uintptr_t>(wake_.fd()), EVFILT_READ, EV_ADD, 0, nullptr);
    if (::kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0) fail_setup(errno, "kevent(wake pipe)");
#endif
  }

  ~kqueue_reactor() override {
    while (readiness_entry* e = take_leaked()) {
      delete_filters(e->fd);
      delete e;
    }
    ::close(kq_);  // wake_ (if any) closes after this
  }

  kqueue_reactor(const kqueue_reactor&) = delete;
  kqueue_reactor& operator=(const kqueue_reactor&) = delete;

  fd_entry* register_fd(int fd) override {
    struct stat st {};
    if (::fstat(fd, &st) < 0) throw_errno(errno, "fstat");
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) throw_errno(EPERM, "kevent(EV_ADD)");
    auto e = std::make_unique<readiness_entry>();
    e->fd = fd;
    // One kevent() per filter, so that each reports its own error: some fds take only one
    // (a pipe's write end whose reader is gone refuses EVFILT_WRITE with EPIPE on FreeBSD). A
    // direction without a filter still works when its syscall fails at once (EPIPE, EBADF),
    // which is the case for those fds; only an fd that takes neither is refused.
    void* udata = static_cast<fd_entry*>(e.get());
    int errors[2] = {0, 0};
    int i = 0;
    for (int filter : {EVFILT_READ, EVFILT_WRITE}) {
      struct kevent change;
      set_event(change, static_cast<std::uintptr_t>(fd), filter, EV_ADD | EV_CLEAR, 0, udata);
      if (::kevent(kq_, &change, 1, nullptr, 0, nullptr) < 0) errors[i] = errno;
      ++i;
    }
    if (errors[0] != 0 && errors[1] != 0) throw_errno(errors[0], "kevent(EV_ADD)");
    return adopt(*e.release());
  }

  void deregister_fd(fd_entry* entry) noexcept override {
    auto* e = static_cast<readiness_entry*>(entry);
    delete_filters(e->fd);
    forget(*e);
    delete e;
  }

  std::size_t poll(std::int64_t timeout_ns) override {
    const int n = wait(timeout_ns);
    for (int i = 0; i < n; ++i) {
      const struct kevent& ev = events_[i];
      if (is_wake(ev)) {
        drain_wakeups();
        continue;
      }
      auto& entry = *reinterpret_cast<fd_entry*>(ev.udata);
      if ((ev.flags & EV_ERROR) != 0) continue;  // a failed change; none are queued here
      if ((ev.flags & EV_EOF) != 0) entry.peer_closed = true;
      on_ready(entry, ev.filter == EVFILT_READ, ev.filter == EVFILT_WRITE);
    }
    return static_cast<std::size_t>(n);
  }

  void wake() noexcept override {
#if COLOOP_KQUEUE_USER_WAKE
    struct kevent ev;
    set_event(ev, wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, nullptr);
    while (::kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0 && errno == EINTR) {
    }
#else
    wake_.notify();
#endif
  }

  const char* name() const noexcept override { return "kqueue"; }

 private:
  static constexpr int max_events = 256;
  static constexpr std::uintptr_t wake_ident = 0;  // EVFILT_USER idents are not fds

  [[noreturn]] void fail_setup(int err, const char* what) {
    ::close(kq_);
    throw_errno(err, what);
  }

  bool is_wake(const struct kevent& ev) const noexcept {
#if COLOOP_KQUEUE_USER_WAKE
    return ev.filter == EVFILT_USER;
#else
    return ev.filter == EVFILT_READ && ev.ident == static_cast<std::uintptr_t>(wake_.fd());
#endif
  }

  void drain_wakeups() noexcept {
#if !COLOOP_KQUEUE_USER_WAKE
    wake_.drain();
#endif
    // EVFILT_USER with EV_CLEAR resets itself once reported.
  }

  /// Removes both filters of `fd`; fails (ENOENT, EBADF) only when they are gone already.
  void delete_filters(int fd) noexcept {
    for (int filter : {EVFILT_READ, EVFILT_WRITE}) {
      struct kevent ev;
      set_event(ev, static_cast<std::uintptr_t>(fd), filter, EV_DELETE, 0, nullptr);
      ::kevent(kq_, &ev, 1, nullptr, 0, nullptr);
    }
  }

  /// kevent() with `timeout_ns` (negative: no limit); retries EINTR with the time left.
  int wait(std::int64_t timeout_ns) {
    return wait_past_eintr(timeout_ns, "kevent", [this](std::int64_t t) {
      timespec ts{};
      return ::kevent(kq_, nullptr, 0, events_, max_events, as_timespec(t, ts));
    });
  }

#if !COLOOP_KQUEUE_USER_WAKE
  os::wake_fd wake_;  // opened before the kqueue (the constructor body), closed after it
#endif
  int kq_ = -1;
  struct kevent events_[max_events];
};

}  // namespace

std::unique_ptr<reactor> make_kqueue_reactor() { return std::make_unique<kqueue_reactor>(); }

}  // namespace coloop::detail

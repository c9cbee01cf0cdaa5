// The libuv reactor: the loop waits inside uv_run, the role uvloop gives libuv under asyncio.
// A readiness backend for runtime/io/io_ops.cpp, like epoll: each fd is one uv_poll_t whose reports
// become on_ready(entry, readable, writable). wake() is a uv_async_t; poll(timeout) bounds the
// wait with one uv_timer_t (coloop's own timer wheel decides what fires; this timer only ends
// uv_run in time). Why uv_poll_t and not libuv's streams: io_ops already owns the queues, the
// cached readiness and cancellation for every readiness backend, and the syscalls stay coloop's
// (so cancel-safety and zero-copy reads work the same on every backend).
//
// uv_poll_t is level-triggered, io_ops assumes edges. Interest is therefore kept per direction
// only while it is useful, with `want` tracking what we ask libuv for:
//  - a direction is asked for when an operation queues on it (readiness_reactor's on_queued,
//    since the queue only fills after EAGAIN, the level is low then and the next report is a
//    real edge);
//  - a report for a direction nobody waits on whose readiness is already cached repeats the
//    same level. For reads it is ignored while the loop has other work (poll(0): the task that
//    owns the fd is about to read) and drops the interest when the loop would block (nobody will
//    read: without the drop uv_run would return at once forever). Such reports are not counted
//    as events, so the manual clock still jumps to its next timer;
//  - write interest is dropped as soon as no write waits: a socket is writable almost always.
// Changes are applied in a batch before uv_run (the dirty list), because uv_poll_start costs two
// epoll_ctl calls (libuv stops the watcher and re-adds the fd): an echo connection keeps its
// read interest for good and never changes it. UV_DISCONNECT (EPOLLRDHUP) rides with read
// interest until the peer's end is seen (fd_entry::peer_closed), then leaves, being a level too.
//
// Threads: poll() runs on one thread at a time; wake() on any. on_queued runs wherever submit
// does, under the exclusion that serialises an entry's queues with on_ready; it only marks the
// entry dirty (under dirty_mutex_) and wakes a poll in progress, never touches libuv. No
// thread-local state.
//
// Shutdown: deregister_fd uv_close()s the handle (libuv removes the fd from its epoll set at once,
// so the caller may close the fd right after); the entry is freed by the close callback on the
// next uv_run. The destructor withdraws from entries still registered, closes every handle,
// runs the loop until the close callbacks ran, and uv_loop_close must then succeed
// (libuv_last_close_result, tested).

#include "backend/libuv/libuv_reactor.hpp"

#include "core/log_format.hpp"

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>

namespace coloop::detail {
namespace {

constexpr int rd = index(io_dir::read);
constexpr int wr = index(io_dir::write);

std::atomic<int> last_close_result{1};

[[noreturn]] void throw_uv(int err, const char* what) {
  // libuv's error codes are negated errno values on Unix.
  throw std::system_error(-err, std::generic_category(), what);
}

class libuv_reactor;

/// An fd_entry, its uv_poll_t and the reactor's bookkeeping for it.
struct uv_entry : readiness_entry {
  uv_poll_t handle{};
  uv_entry* dirty_next = nullptr;
  int os_events = 0;       // what libuv currently watches (0: stopped)
  int want = 0;            // UV_READABLE | UV_WRITABLE: directions to keep watching
  bool dirty = false;      // on the reactor's dirty list (guarded by its dirty_mutex_)
  bool closing = false;    // deregistered: uv_close'd, freed by the close callback
};

class libuv_reactor final : public readiness_reactor {
 public:
  libuv_reactor() : readiness_reactor(&on_queued) {
    if (const int r = uv_loop_init(&loop_); r < 0) throw_uv(r, "uv_loop_init");
    if (const int r = uv_async_init(&loop_, &wake_, &on_wake); r < 0) {
      uv_loop_close(&loop_);
      throw_uv(r, "uv_async_init");
    }
    wake_.data = this;
    uv_timer_init(&loop_, &timer_);  // cannot fail
    timer_.data = this;
  }

  ~libuv_reactor() override {
    while (readiness_entry* e = take_leaked()) close_entry(static_cast<uv_entry&>(*e));
    dirty_head_.store(nullptr, std::memory_order_relaxed);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);  // only close callbacks are left to run
    const int r = uv_loop_close(&loop_);
    last_close_result.store(r, std::memory_order_relaxed);
    if (r != 0) log(log_level::warn, "coloop: libuv loop closed with handles still open");
  }

  fd_entry* register_fd(int fd) override {
    auto e = std::make_unique<uv_entry>();
    e->fd = fd;
    if (const int r = uv_poll_init(&loop_, &e->handle, fd); r < 0) throw_uv(r, "uv_poll_init");
    e->handle.data = e.get();
    return adopt(*e.release());
  }

  void deregister_fd(fd_entry* entry) noexcept override {
    auto* e = static_cast<uv_entry*>(entry);
    forget(*e);
    close_entry(*e);  // may still be on the dirty list: apply_dirty skips closing entries
  }

  std::size_t poll(std::int64_t timeout_ns) override {
    // seq_cst pairs with mark_dirty: either it sees polling_ and wakes us, or we see its entry.
    polling_.store(true, std::memory_order_seq_cst);
    ++polls_;
    apply_dirty();
    events_ = 0;
    blocking_ = timeout_ns != 0;
    if (timeout_ns > 0) {
      // ms, rounded up: never wake early. The loop's cached time may be stale after the
      // callbacks that ran since the last uv_run; an early end would only cost a re-poll.
      uv_update_time(&loop_);
      const auto ms = static_cast<std::uint64_t>(timeout_ns / 1'000'000 +
                                                 (timeout_ns % 1'000'000 != 0 ? 1 : 0));
      uv_timer_start(&timer_, &on_timer, ms, 0);
    }
    uv_run(&loop_, blocking_ ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    if (timeout_ns > 0) uv_timer_stop(&timer_);
    polling_.store(false, std::memory_order_relaxed);
    return events_;
  }

  void wake() noexcept override { uv_async_send(&wake_); }

  const char* name() const noexcept override { return "libuv"; }

  std::size_t polls() const noexcept { return polls_; }

  std::size_t open_handles() noexcept {
    std::size_t n = 0;
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void* arg) {
          if (uv_is_closing(h) == 0) ++*static_cast<std::size_t*>(arg);
        },
        &n);
    return n;
  }

 private:
  static void on_wake(uv_async_t* h) { ++static_cast<libuv_reactor*>(h->data)->events_; }
  // Ends uv_run's wait. libuv 1.44 (Debian 12's) runs due timers *before* it computes the poll
  // timeout: when its ms clock ticks between uv_timer_start and uv_run, this timer fires first,
  // no timer is left, and the poll would wait without limit. uv_stop makes that poll's timeout 0
  // in every libuv (uv_backend_timeout checks the stop flag); uv_run clears the flag on return.
  static void on_timer(uv_timer_t* h) { uv_stop(h->loop); }
  static void on_closed(uv_handle_t* h) { delete static_cast<uv_entry*>(h->data); }

  /// readiness_reactor's on_queued: an operation waits on `d` now (any thread, see the top).
  static void on_queued(fd_entry& entry, io_dir d) noexcept {
    auto& e = static_cast<uv_entry&>(entry);
    const int watching = d == io_dir::read ? UV_READABLE : UV_WRITABLE;
    e.want |= watching;
    if ((e.os_events & watching) == 0) static_cast<libuv_reactor*>(e.owner)->mark_dirty(e, true);
  }

  static void on_poll(uv_poll_t* h, int status, int events) {
    auto& e = *static_cast<uv_entry*>(h->data);
    auto& self = *static_cast<libuv_reactor*>(e.owner);
    bool readable = (events & (UV_READABLE | UV_DISCONNECT)) != 0;
    bool writable = (events & UV_WRITABLE) != 0;
    {
      // The decisions read the queues and readiness, which workers change under this lock on a
      // runtime; on_ready below takes it again itself.
      entry_lock lock(e);
      if (status < 0) {
        // POLLERR: libuv stopped the watcher itself. Report both ways as epoll does for
        // EPOLLERR; watch again only for operations still waiting (a dead socket nobody reads
        // would report forever).
        e.os_events = 0;
        e.peer_closed = true;
        e.want = 0;
        readable = writable = true;
        self.mark_dirty(e, false);
      } else {
        if ((events & UV_DISCONNECT) != 0) {
          e.peer_closed = true;  // sticky; stop asking for UV_DISCONNECT, it stays reported
          self.mark_dirty(e, false);
        }
        if (readable && e.head[rd] == nullptr && e.ready[rd]) {  // the same level again
          readable = false;
          if (self.blocking_) self.unwant(e, UV_READABLE);
        }
        if (writable && e.head[wr] == nullptr && e.ready[wr]) writable = false;
        if (!readable && !writable) {
          if (e.head[wr] == nullptr && (e.want & UV_WRITABLE) != 0) self.unwant(e, UV_WRITABLE);
          return;
        }
      }
    }
    ++self.events_;
    on_ready(e, readable, writable);
    entry_lock lock(e);
    if (e.head[wr] == nullptr && (e.want & UV_WRITABLE) != 0) self.unwant(e, UV_WRITABLE);
  }

  /// Stops watching the directions in `w` (UV_READABLE, UV_WRITABLE), at the next apply_dirty.
  void unwant(uv_entry& e, int w) noexcept {
    e.want &= ~w;
    mark_dirty(e, false);
  }

  /// Queues `e` for apply_dirty. `remote`: called from on_queued, maybe on another thread than
  /// the poller's, which must then be woken to apply it.
  void mark_dirty(uv_entry& e, bool remote) noexcept {
    {
      std::lock_guard lock(dirty_mutex_);
      if (e.dirty) return;
      e.dirty = true;
      e.dirty_next = dirty_head_.load(std::memory_order_relaxed);
      // seq_cst, as the load of polling_ below: pairs with poll() (no fence: TSan has none).
      dirty_head_.store(&e, std::memory_order_seq_cst);
    }
    if (remote && polling_.load(std::memory_order_seq_cst)) wake();
  }

  /// Brings libuv's interest in line with `want` and the queued operations, for every dirty entry.
  void apply_dirty() noexcept {
    if (dirty_head_.load(std::memory_order_seq_cst) == nullptr) return;
    uv_entry* list = nullptr;
    {
      std::lock_guard lock(dirty_mutex_);
      list = dirty_head_.load(std::memory_order_relaxed);
      dirty_head_.store(nullptr, std::memory_order_relaxed);
    }
    while (uv_entry* e = list) {
      {
        // An entry leaves the list (dirty = false) just before it is applied: marked again from
        // then on, it goes on the next list, and rewriting its link cannot cut this walk short.
        std::lock_guard lock(dirty_mutex_);
        list = e->dirty_next;
        e->dirty = false;
      }
      if (!e->closing) apply(*e);
    }
  }

  void apply(uv_entry& e) noexcept {
    // Loops until stable: an operation queued while libuv was being told (on another worker)
    // saw the old os_events in on_queued, so it did not mark the entry dirty again.
    for (;;) {
      int events = 0;
      {
        entry_lock lock(e);  // on a runtime, workers queue operations meanwhile (on_queued)
        if (e.head[rd] != nullptr) e.want |= UV_READABLE;
        if (e.head[wr] != nullptr) e.want |= UV_WRITABLE;
        events = e.want;
        if ((e.want & UV_READABLE) != 0 && !e.peer_closed) events |= UV_DISCONNECT;
        if (events == e.os_events) return;
      }
      const int r =
          events == 0 ? uv_poll_stop(&e.handle) : uv_poll_start(&e.handle, events, &on_poll);
      {
        entry_lock lock(e);
        e.os_events = r < 0 ? 0 : events;
      }
      if (r < 0) {
        fail_all(e, -r);  // the fd cannot be watched: what waits on it fails with the reason
        return;
      }
    }
  }

  void close_entry(uv_entry& e) noexcept {
    e.closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&e.handle), &on_closed);
  }

  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t timer_{};
  std::size_t events_ = 0;  // reports that did something, during the current poll
  std::size_t polls_ = 0;   // poll() calls, for tests
  bool blocking_ = false;   // the current poll may block: the loop has nothing else to do
  std::atomic<bool> polling_{false};
  std::mutex dirty_mutex_;
  std::atomic<uv_entry*> dirty_head_{nullptr};
};

}  // namespace

std::unique_ptr<reactor> make_libuv_reactor() { return std::make_unique<libuv_reactor>(); }

std::size_t libuv_open_handles(reactor& r) { return static_cast<libuv_reactor&>(r).open_handles(); }

std::size_t libuv_poll_count(reactor& r) noexcept { return static_cast<libuv_reactor&>(r).polls(); }

int libuv_last_close_result() noexcept { return last_close_result.load(std::memory_order_relaxed); }

}  // namespace coloop::detail

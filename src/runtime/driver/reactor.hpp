#pragma once
// The private interface between the event loop and an OS readiness/completion backend
// (DESIGN.md §5). One reactor per loop; every member is called on the loop's thread except wake().
// A runtime's driver (shared) calls register_fd, deregister_fd and poll under its driver lock,
// wake() anywhere, and submit() and withdraw() run on any worker.

#include <cstdint>
#include <memory>
#include <vector>

#include <coloop/detail/io_op.hpp>
#include <coloop/runtime/loop_options.hpp>

#include "runtime/driver/file_op.hpp"

namespace coloop::detail {

class reactor {
 public:
  virtual ~reactor() = default;

  /// Registers `fd` once for its whole life (edge-triggered read+write interest); the returned
  /// entry caches readiness and queues waiting operations. Throws std::system_error.
  virtual fd_entry* register_fd(int fd) = 0;
  /// Forgets `fd`: waiting operations complete with errc::closed. Does not close the fd.
  virtual void deregister_fd(fd_entry* entry) noexcept = 0;
  /// The fds registered and not yet deregistered, in no order: debug mode's report of what a
  /// closing scheduler leaks. Read from the list of live entries each backend keeps anyway, so
  /// registration pays nothing for it. Only while nothing else uses the reactor (at close).
  virtual std::vector<int> open_fds() const = 0;

  /// Waits up to `timeout_ns` (0: don't block; negative: no limit) for readiness or a wake(),
  /// and completes the operations that became possible. Returns the number of OS events seen.
  virtual std::size_t poll(std::int64_t timeout_ns) = 0;
  /// Interrupts a blocking poll from any thread.
  virtual void wake() noexcept = 0;
  /// Name for logs and metrics: "epoll", "kqueue", "io_uring", "libuv".
  virtual const char* name() const noexcept = 0;

  // submit (DESIGN §5) is per entry: register_fd sets fd_entry::submit, which the awaiters call
  // directly (no virtual call on the I/O path).
  /// withdraw() of an operation whose awaiter is being destroyed: returns only once nothing
  /// (the kernel included) touches op's buffers any more; the waiter is never resumed.
  virtual void withdraw(io_op& op) noexcept = 0;
  /// Real time to wait for completions before a manual clock may jump: nonzero when they can
  /// lag behind the event that caused them (io_uring shared by workers, whose CQEs are posted
  /// by the submitting thread's task work).
  virtual std::int64_t completion_lag_ns() const noexcept { return 0; }

  /// File operations (src/runtime/driver/file_op.hpp) the backend runs itself: whether it runs
  /// one of kind `k`; if not (readiness backends), the caller runs it on the blocking pool.
  virtual bool runs_file_op(file_op::kind k) const noexcept { return (void)k, false; }
  /// Hands `op` (of a kind it runs) to the kernel; op.done() follows, on a thread polling this
  /// reactor. Called like submit(): the loop's thread, or any worker of a runtime.
  virtual void start_file_op(file_op& op) { (void)op; }
  /// Asks the kernel to stop a started `op` (best effort): done() still comes, with -ECANCELED
  /// or the result that beat the cancel.
  virtual void cancel_file_op(file_op& op) noexcept { (void)op; }
  /// Blocks (polling the kernel) until done() of a started `op` was called: its awaiter dies
  /// with the buffer the kernel writes into. Cancel it first.
  virtual void wait_file_op(file_op& op) noexcept { (void)op; }
};

// One factory per backend (src/backend/<name>/); only the compiled-in ones are defined (the
// COLOOP_HAVE_<NAME> definitions, see src/backend/select.cpp). Each throws std::system_error.
std::unique_ptr<reactor> make_epoll_reactor();
std::unique_ptr<reactor> make_kqueue_reactor();
std::unique_ptr<reactor> make_libuv_reactor();

/// The backend a loop asking for `requested` gets: automatic resolves to $COLOOP_BACKEND when
/// set, else to the first of available_backends(). Throws std::invalid_argument (naming the
/// available backends) for one that is not compiled in or an unknown $COLOOP_BACKEND.
backend resolve_backend(backend requested);
/// A new reactor of resolve_backend(requested) (src/backend/select.cpp). `shared`: for a
/// runtime's driver, whose operations start on any worker.
std::unique_ptr<reactor> make_reactor(backend requested, bool shared = false);

#if COLOOP_HAVE_IO_URING
/// The io_uring backend (`shared`: see make_reactor). Throws io_uring_unavailable
/// (src/backend/io_uring/io_uring_reactor.hpp) when the kernel refuses a ring (EPERM, ENOSYS,
/// seccomp, ...), std::system_error otherwise.
std::unique_ptr<reactor> make_io_uring_reactor(bool shared = false);
#endif

}  // namespace coloop::detail

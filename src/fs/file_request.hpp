#pragma once
// One file call in flight, shared by its awaiter and whatever runs it (a pool thread, or the
// io_uring reactor). See file_request.cpp for the state machine.

#include <atomic>
#include <coloop/core/cancellation.hpp>
#include <coroutine>
#include <cstdint>
#include <string>
#include <utility>

#include "runtime/driver/file_op.hpp"

namespace coloop::detail {

class scheduler;
class reactor;

class file_request : public file_op, private cancel_slot {
 public:
  /// A call on `fd`; `api` names it in error messages ("coloop::file::read_some").
  file_request(kind k, int file_fd, const char* api, std::string name);
  /// An open of `path` with O_* `flags`.
  file_request(std::string name, int open_flags);

  bool start(std::coroutine_handle<> waiter, cancel_state* cancel);
  std::uint64_t finish();
  /// The fd of a delivered open, now the caller's.
  int take_fd() noexcept { return static_cast<int>(std::exchange(result_, -1)); }
  void drop(bool suspended) noexcept;
  /// read_some/write_all: added to on delivery (the sequential position).
  std::uint64_t* advance = nullptr;
  const std::string& name() const noexcept { return path_; }

 private:
  // Phases (phase_): the call has not started; runs (on a pool thread or in the kernel); its
  // outcome is being posted / was posted to the waiter; or nobody waits for it any more
  // (cancelled or abandoned: whatever runs it drops the outcome, closing a late fd).
  enum phase : int { pending, running, posting, posted, dropped, abandoned };

  ~file_request();
  void release() noexcept;
  void run_blocking() noexcept;         // a pool thread
  void settle(long outcome) noexcept;    // the outcome is there: deliver or drop it
  static void on_done(file_op* op, long outcome) noexcept;
  static cancel_outcome on_cancel(cancel_slot* self) noexcept;
  /// Whether a running call may be abandoned at once: it touches no buffer of the caller's.
  bool prompt() const noexcept { return op != kind::read && op != kind::write; }

  std::atomic<int> phase_{pending};
  std::atomic<int> refs_{1};
  std::string path_;
  const char* api_;
  long result_ = -1;  // bytes, an fd (owned until taken), or -errno
  reactor* via_ = nullptr;  // the reactor running it (io_uring), else the pool
  bool cancelled_ = false;    // the waiter resumes to throw cancelled_error
  std::atomic<bool> cancel_sent_{false};  // an ASYNC_CANCEL went to the kernel for it
  std::coroutine_handle<> waiter_;
  scheduler* sched_ = nullptr;
  cancel_state* cancel_ = nullptr;
};

}  // namespace coloop::detail

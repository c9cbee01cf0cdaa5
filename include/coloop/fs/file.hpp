#pragma once
// coloop::file: files with co_await (tokio::fs::File, aiofiles). Regular files are never
// "ready" to a readiness backend, so each call runs elsewhere: as an io_uring SQE on the ring of
// the loop (or runtime) when it runs io_uring, otherwise as a blocking call on the default
// thread_pool (to_thread's). See docs/fs.md. No OS headers here: src/fs/.

#include <coloop/core/task.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace coloop {

/// How file::open opens a file: combine with `|`. read and/or write (append implies write);
/// create makes a missing file (permissions 0666 less the umask); truncate empties it (needs
/// write); exclusive fails with EEXIST when it exists (implies create).
enum class open_mode : unsigned {
  read = 1,
  write = 2,
  append = 4,
  create = 8,
  truncate = 16,
  exclusive = 32,
};
constexpr open_mode operator|(open_mode a, open_mode b) noexcept {
  return static_cast<open_mode>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
/// Whether every flag of `b` is in `a`.
constexpr bool has(open_mode a, open_mode b) noexcept {
  return (static_cast<unsigned>(a) & static_cast<unsigned>(b)) == static_cast<unsigned>(b);
}

class file;

}  // namespace coloop

namespace coloop::detail {

class file_request;

/// Hands `req` to the io_uring of this thread's loop or to the blocking pool; false when the
/// awaiter continues at once (a cancel was pending). Throws std::logic_error outside a loop.
bool start_file_request(file_request* req, std::coroutine_handle<> waiter, cancel_state* cancel);
/// The delivered result (bytes, 0, a size); throws std::system_error naming the call and path,
/// or cancelled_error.
std::uint64_t finish_file_request(file_request* req);
/// Takes the fd an open delivered (throws as finish_file_request).
file finish_open_request(file_request* req);
/// The awaiter is destroyed: withdraws `req` if it still runs (`suspended`), drops it.
void drop_file_request(file_request* req, bool suspended) noexcept;

/// Awaiter of one file call; owns its request (a small heap object shared with whatever runs
/// the call, so an open finishing after its awaiter is gone can still close its fd).
class [[nodiscard]] file_awaiter {
 public:
  explicit file_awaiter(file_request* req) noexcept : req_(req) {}
  file_awaiter(file_awaiter&& other) noexcept : req_(std::exchange(other.req_, nullptr)) {}
  file_awaiter& operator=(file_awaiter&&) = delete;
  ~file_awaiter() {
    if (req_ != nullptr) drop_file_request(req_, suspended_);
  }

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    // Set before the hand-off: on a runtime the waiter may resume before start returns.
    suspended_ = true;
    try {
      if (start_file_request(req_, waiter, cancel_state_of(waiter))) return true;
    } catch (...) {
      suspended_ = false;
      throw;
    }
    suspended_ = false;
    return false;
  }
  std::uint64_t await_resume() {
    suspended_ = false;
    return finish_file_request(req_);
  }

 protected:
  file_request* req_;
  bool suspended_ = false;
};

/// Awaiter of file::open: yields the open file.
class [[nodiscard]] file_open_awaiter : public file_awaiter {
 public:
  using file_awaiter::file_awaiter;
  file await_resume();
};

}  // namespace coloop::detail

namespace coloop {

/// An open regular file. Move-only. Calls may be awaited from any task of the loop (or runtime)
/// that awaits them; one sequential call (read_some, write_all) at a time, while read_at and
/// write_at may run concurrently. Not thread-safe otherwise. Errors are std::system_error with
/// the errno (generic_category) and a message naming the call and the path.
class file {
 public:
  file() noexcept = default;
  file(file&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        append_(other.append_),
        position_(other.position_),
        path_(std::move(other.path_)) {}
  file& operator=(file&& other) noexcept;
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  /// Closes the fd if still open, without waiting (a plain close(2) on this thread).
  ~file();

  /// Awaitable: opens `path` with `mode`; yields the file. std::invalid_argument for a
  /// contradictory mode (no read/write, truncate without write); std::system_error (ENOENT,
  /// EEXIST, EACCES, ...) naming the path. Cancel-safe: a cancelled open throws cancelled_error
  /// at once, and an fd the kernel or the pool returns later is closed, never leaked.
  static detail::file_open_awaiter open(std::string path, open_mode mode = open_mode::read);

  /// Awaitable: reads up to `n` bytes at the file position into `buf`, which it advances;
  /// yields the count, 0 at end of file. Cancel-safe: a cancelled read either delivers its bytes
  /// (and advances the position; the cancel then applies at the next await) or throws
  /// cancelled_error with the position unchanged, never both.
  detail::file_awaiter read_some(void* buf, std::size_t n);
  /// Awaitable: reads up to `n` bytes at `offset` (the position is untouched); yields the count,
  /// 0 at or past the end. Cancellation as read_some.
  detail::file_awaiter read_at(void* buf, std::size_t n, std::uint64_t offset);
  /// Writes all `n` bytes at the file position and advances it (append mode: at the end of the
  /// file, position untouched). On
  /// an error or a cancel a prefix may have been written (and the position covers it). `buf`
  /// and this file must stay put until the task finishes.
  task<void> write_all(const void* buf, std::size_t n);
  /// Writes all `n` bytes at `offset` (the position is untouched). Errors and cancellation as
  /// write_all.
  task<void> write_at(const void* buf, std::size_t n, std::uint64_t offset);
  /// Awaitable: fsync(2): data and metadata reach the device. Errors as above; a cancelled sync
  /// may still have run.
  detail::file_awaiter sync();
  /// Awaitable: the file's size in bytes (fstat). Errors as above.
  detail::file_awaiter size();
  /// Awaitable: closes the file, reporting close(2)'s error (EIO on some filesystems). The file
  /// is closed even when it throws, and even when the task is cancelled (the cancel then applies
  /// at the next await). Idempotent: closing a closed file does nothing.
  detail::file_awaiter close();

  bool is_open() const noexcept { return fd_ >= 0; }
  /// The fd, or -1 once closed.
  int native_handle() const noexcept { return fd_; }
  /// The path it was opened with (for messages).
  const std::string& path() const noexcept { return path_; }
  /// The offset of the next read_some/write_all.
  std::uint64_t position() const noexcept { return position_; }

 private:
  friend file detail::finish_open_request(detail::file_request* req);
  file(int fd, bool append, std::string path) noexcept
      : fd_(fd), append_(append), path_(std::move(path)) {}
  task<void> write_loop(const void* buf, std::size_t n, std::uint64_t offset, bool sequential);

  int fd_ = -1;
  bool append_ = false;
  std::uint64_t position_ = 0;
  std::string path_;
};

/// Reads the whole file at `path` (tokio::fs::read_to_string). Errors as file::open and
/// read_some; cancel-safe (the file is closed).
task<std::string> read_file(std::string path);
/// Creates or truncates the file at `path` and writes `data` to it (tokio::fs::write). Errors as
/// file::open and write_all; a cancel may leave a prefix written.
task<void> write_file(std::string path, std::string data);

inline file detail::file_open_awaiter::await_resume() {
  suspended_ = false;
  return finish_open_request(req_);
}

}  // namespace coloop

#pragma once
// A file operation that a completion backend runs itself (io_uring's OPENAT, READ, WRITE, FSYNC,
// CLOSE), asked for by the fs layer through reactor::start_file_op. Scheduler-neutral: the
// reactor only writes the SQE and reports the result; the fs layer (src/fs/file_request.cpp)
// owns the op, its waiter, its cancellation and the fate of an fd that arrives too late.

#include <cstdint>

namespace coloop::detail {

class reactor;

struct file_op {
  enum class kind : std::uint8_t { open, read, write, fsync, close, size };
  kind op = kind::read;
  int fd = -1;                 // open: ignored (AT_FDCWD)
  const char* path = nullptr;  // open: valid until done() (the kernel copies it on submit)
  int flags = 0;               // open: O_* flags
  unsigned perms = 0;          // open: permission bits for O_CREAT
  void* buffer = nullptr;      // read/write
  unsigned length = 0;
  std::uint64_t offset = 0;    // read/write: ~0 means the fd's own position (O_APPEND writes)
  /// Called once with the kernel's result (bytes, an fd, 0, or -errno), on a thread that polls
  /// the reactor (any worker's or the driver's on a runtime), no reactor lock held. The op may
  /// be freed from then on.
  void (*done)(file_op* op, long result) noexcept = nullptr;
  reactor* owner = nullptr;    // set by start_file_op; the reactor's, under its lock
  long result = 0;             // the reactor's: the result between reaping and done()
  file_op* next_ = nullptr;    // the reactor's list of ops in the kernel
  file_op* prev_ = nullptr;
};

}  // namespace coloop::detail

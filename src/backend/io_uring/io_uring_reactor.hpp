#pragma once
// What the rest of coloop (backend selection, tests) sees of the io_uring backend, beyond
// make_io_uring_reactor() in runtime/driver/reactor.hpp. Private; no liburing here.

#include <string>
#include <system_error>

namespace coloop::detail {

/// The kernel refused an io_uring (EPERM, ENOSYS, EACCES from seccomp or
/// /proc/sys/kernel/io_uring_disabled, ENOMEM under a low RLIMIT_MEMLOCK, ...), or lacks a
/// feature the backend needs. Selection code catches it and falls back to epoll.
class io_uring_unavailable : public std::system_error {
 public:
  io_uring_unavailable(int err, const std::string& why);
};

/// Writes "coloop: io_uring unavailable (REASON); using epoll" to stderr, once per process.
void log_io_uring_fallback(const io_uring_unavailable& e) noexcept;

/// Test hook: the next io_uring setup in this process fails as if the kernel returned `err`
/// (e.g. EPERM); 0 clears it. Any thread.
void force_io_uring_setup_error(int err) noexcept;

}  // namespace coloop::detail

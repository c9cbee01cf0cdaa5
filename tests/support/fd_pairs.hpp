#pragma once
// Raw fd pairs (pipes, socketpairs) and one-byte reads over async_fd, shared by the async_fd and
// backend tests.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/wait_for.hpp>
#include <coloop/io/async_fd.hpp>
#include <system_error>

namespace coloop::test {

struct fd_pair {
  int first = -1;
  int second = -1;
};

/// A pipe: first is the read end, second the write end.
inline fd_pair make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  return {fds[0], fds[1]};
}

inline fd_pair make_socketpair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair");
  }
  return {fds[0], fds[1]};
}

/// Reads one byte; returns it (-1 at end of stream).
inline task<int> read_byte(async_fd& fd) {
  unsigned char c = 0;
  const std::size_t n = co_await fd.read_some(&c, 1);
  co_return n == 0 ? -1 : c;
}

/// read_byte bounded by an hour of virtual time: -3 if nothing came (a lost byte fails the test
/// instead of hanging it).
inline task<int> read_byte_or_timeout(async_fd& fd) {
  try {
    co_return co_await wait_for(read_byte(fd), std::chrono::hours(1));
  } catch (const timeout_error&) {
  }
  co_return -3;
}

}  // namespace coloop::test

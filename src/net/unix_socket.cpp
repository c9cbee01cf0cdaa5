// unix_stream and unix_listener. The listener owns its socket file: bind replaces a stale one
// (a socket file nobody listens on, found by a refused connect) and close removes it.

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coloop/net/unix_socket.hpp>
#include <string>
#include <utility>

#include "net/socket_ops.hpp"
#include "runtime/os/sockets.hpp"

namespace coloop {
namespace {

/// Whether `path` is a socket file that refuses connections (left by a dead process).
bool is_stale_socket(const endpoint& ep, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0 || !S_ISSOCK(st.st_mode)) return false;
  const int probe = detail::os::socket_cloexec(AF_UNIX, SOCK_STREAM, 0);
  if (probe < 0) return false;
  const bool refused = ::connect(probe, static_cast<const sockaddr*>(ep.data()), ep.size()) < 0 &&
                       errno == ECONNREFUSED;
  ::close(probe);
  return refused;
}

}  // namespace

task<unix_stream> unix_stream::connect(std::string_view path) {
  static constexpr const char* what = "coloop::unix_stream::connect";
  const endpoint peer = endpoint::unix_path(path);
  unix_stream s(detail::open_socket(peer, SOCK_STREAM, what));
  co_await detail::connect_socket(s.fd_, peer, what);
  co_return s;
}

std::pair<unix_stream, unix_stream> unix_stream::pair() {
  int fds[2];
  if (detail::os::socketpair_nonblocking_cloexec(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
    detail::throw_errno(errno, "coloop::unix_stream::pair");
  }
  async_fd first;
  try {
    first = async_fd(fds[0], async_fd::adopt_socket_t{});
  } catch (...) {
    ::close(fds[1]);
    throw;
  }
  async_fd second(fds[1], async_fd::adopt_socket_t{});
  return {unix_stream(std::move(first)), unix_stream(std::move(second))};
}

unix_listener::unix_listener(unix_listener&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})) {}

unix_listener& unix_listener::operator=(unix_listener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::move(other.fd_);
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

unix_listener unix_listener::bind(std::string_view path, int backlog) {
  static constexpr const char* what = "coloop::unix_listener::bind";
  const endpoint local = endpoint::unix_path(path);
  unix_listener l;
  l.fd_ = detail::open_socket(local, SOCK_STREAM, what);
  std::string file(path);
  if (is_stale_socket(local, file)) ::unlink(file.c_str());
  detail::bind_and_listen(l.fd_, local, backlog, what);
  l.path_ = std::move(file);
  return l;
}

task<unix_stream> unix_listener::accept() {
  co_return unix_stream(co_await detail::accept_socket(fd_, "coloop::unix_listener::accept"));
}

void unix_listener::close() noexcept {
  if (!fd_.is_open()) return;
  fd_.close();
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace coloop

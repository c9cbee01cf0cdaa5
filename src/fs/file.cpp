// coloop::file and the whole-file helpers, on top of file_request (file_request.cpp).

#include <coloop/fs/file.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <coloop/core/errors.hpp>
#include <stdexcept>
#include <system_error>

#include "fs/file_request.hpp"

namespace coloop {
namespace {

using detail::file_request;
using kind = detail::file_op::kind;

constexpr std::size_t max_transfer = 0x7ffff000;  // what read(2)/write(2) do at most anyway

int open_flags(open_mode mode) {
  const bool append = has(mode, open_mode::append);
  const bool write = has(mode, open_mode::write) || append;
  const bool read = has(mode, open_mode::read);
  if (!read && !write) {
    throw std::invalid_argument("coloop::file::open: the mode has none of read, write, append");
  }
  if (has(mode, open_mode::truncate) && !write) {
    throw std::invalid_argument("coloop::file::open: truncate needs write");
  }
  int flags = read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  if (append) flags |= O_APPEND;
  if (has(mode, open_mode::create)) flags |= O_CREAT;
  if (has(mode, open_mode::exclusive)) flags |= O_CREAT | O_EXCL;
  if (has(mode, open_mode::truncate)) flags |= O_TRUNC;
  return flags;
}

/// A call of kind `k` on `f`, `api` naming it; a read or write moves up to `n` bytes of `buf` at
/// `offset`. errc::closed when `f` is closed.
file_request* request(const file& f, kind k, const char* api, void* buf = nullptr,
                      std::size_t n = 0, std::uint64_t offset = 0) {
  if (!f.is_open()) {
    throw std::system_error(make_error_code(errc::closed), std::string(api) + " " + f.path());
  }
  auto* req = new file_request(k, f.native_handle(), api, f.path());
  req->buffer = buf;
  req->length = static_cast<unsigned>(n < max_transfer ? n : max_transfer);
  req->offset = offset;
  return req;
}

}  // namespace

namespace detail {

file finish_open_request(file_request* req) {
  req->finish();
  const bool append = (req->flags & O_APPEND) != 0;
  return file(req->take_fd(), append, req->name());
}

}  // namespace detail

file& file::operator=(file&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    append_ = other.append_;
    position_ = other.position_;
    path_ = std::move(other.path_);
  }
  return *this;
}

file::~file() {
  if (fd_ >= 0) ::close(fd_);
}

detail::file_open_awaiter file::open(std::string path, open_mode mode) {
  const int flags = open_flags(mode);
  if (path.empty()) {
    throw std::system_error(ENOENT, std::generic_category(), "coloop::file::open: empty path");
  }
  return detail::file_open_awaiter(new file_request(std::move(path), flags));
}

detail::file_awaiter file::read_some(void* buf, std::size_t n) {
  file_request* req = request(*this, kind::read, "coloop::file::read_some", buf, n, position_);
  req->advance = &position_;
  return detail::file_awaiter(req);
}

detail::file_awaiter file::read_at(void* buf, std::size_t n, std::uint64_t offset) {
  return detail::file_awaiter(request(*this, kind::read, "coloop::file::read_at", buf, n, offset));
}

task<void> file::write_loop(const void* buf, std::size_t n, std::uint64_t offset,
                            bool sequential) {
  const char* api = sequential ? "coloop::file::write_all" : "coloop::file::write_at";
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    // Append mode writes at the end whatever the offset (the fd's own position: ~0).
    file_request* req = request(*this, kind::write, api, const_cast<char*>(p), n,
                                sequential && append_ ? ~std::uint64_t{0} : offset);
    if (sequential && !append_) req->advance = &position_;
    detail::file_awaiter write(req);
    const std::uint64_t done = co_await write;
    if (done == 0) {
      throw std::system_error(EIO, std::generic_category(), std::string(api) + " " + path_);
    }
    p += done;
    n -= done;
    offset += done;
  }
}

task<void> file::write_all(const void* buf, std::size_t n) {
  return write_loop(buf, n, position_, true);
}

task<void> file::write_at(const void* buf, std::size_t n, std::uint64_t offset) {
  return write_loop(buf, n, offset, false);
}

detail::file_awaiter file::sync() {
  return detail::file_awaiter(request(*this, kind::fsync, "coloop::file::sync"));
}

detail::file_awaiter file::size() {
  return detail::file_awaiter(request(*this, kind::size, "coloop::file::size"));
}

detail::file_awaiter file::close() {
  // Given up at once: the file is closed whatever happens to the awaiter. On a closed file
  // (fd -1) the request completes at once with nothing to do.
  const int fd = std::exchange(fd_, -1);
  auto* req = new file_request(kind::close, fd, "coloop::file::close", path_);
  return detail::file_awaiter(req);
}

task<std::string> read_file(std::string path) {
  file f = co_await file::open(std::move(path), open_mode::read);
  std::string out;
  const std::uint64_t hint = co_await f.size();
  // One byte more than the size: a file that did not grow ends with a read of 0 right away.
  std::size_t want = static_cast<std::size_t>(hint) + 1;
  for (;;) {
    const std::size_t have = out.size();
    if (want < 64 * 1024) want = 64 * 1024;
    out.resize(have + want);
    const std::size_t n = co_await f.read_some(out.data() + have, want);
    out.resize(have + n);
    if (n == 0) break;
    want = out.size();  // grows geometrically for a file that keeps growing
  }
  co_await f.close();
  co_return out;
}

task<void> write_file(std::string path, std::string data) {
  file f = co_await file::open(std::move(path),
                               open_mode::write | open_mode::create | open_mode::truncate);
  co_await f.write_all(data.data(), data.size());
  co_await f.close();
}

}  // namespace coloop

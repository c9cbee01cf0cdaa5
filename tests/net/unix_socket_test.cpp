// unix_stream and unix_listener: connect/accept, socketpair, the socket file's life (stale file
// replaced, live one refused, removed on close), and path errors.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <coloop/coloop.hpp>
#include <coloop/net/unix_socket.hpp>
#include <cstdlib>
#include <string>

#include "net/net_test_util.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::task;
using coloop::unix_listener;
using coloop::unix_stream;
using coloop::test::errno_code;
using coloop::test::error_of;

class UnixSocketTest : public coloop::test::flavour_test {
 protected:
  UnixSocketTest() {
    char dir[] = "/tmp/coloop-unix-XXXXXX";
    dir_ = ::mkdtemp(dir);
    path_ = dir_ + "/s";
  }
  ~UnixSocketTest() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  bool file_exists() const {
    struct stat st {};
    return ::lstat(path_.c_str(), &st) == 0;
  }
  std::string dir_;
  std::string path_;
};

TEST_P(UnixSocketTest, ConnectAcceptAndEcho) {
  run([this]() -> task<void> {
    unix_listener l = unix_listener::bind(path_);
    EXPECT_EQ(l.path(), path_);
    auto accepted = coloop::spawn(l.accept());
    unix_stream c = co_await unix_stream::connect(path_);
    unix_stream s = co_await std::move(accepted);
    EXPECT_EQ(c.remote_endpoint().address(), path_);
    co_await c.write_all("ping", 4);
    char buf[8];
    EXPECT_EQ(co_await s.read_some(buf, sizeof buf), 4u);
    EXPECT_EQ(std::string(buf, 4), "ping");
    c.shutdown_write();
    EXPECT_EQ(co_await s.read_some(buf, sizeof buf), 0u);
  }());
}

TEST_P(UnixSocketTest, PairIsConnected) {
  run([]() -> task<void> {
    auto [a, b] = unix_stream::pair();
    co_await a.write_all("x", 1);
    char c = 0;
    EXPECT_EQ(co_await b.read_some(&c, 1), 1u);
    EXPECT_EQ(c, 'x');
  }());
}

TEST_P(UnixSocketTest, SocketFileLifecycle) {
  run([this]() -> task<void> {
    {
      unix_listener l = unix_listener::bind(path_);
      EXPECT_TRUE(file_exists());
      // Someone listens there: a second bind must fail rather than steal the path.
      EXPECT_THROW(unix_listener::bind(path_), std::system_error);
      unix_listener moved = std::move(l);
      EXPECT_FALSE(l.is_open());
      EXPECT_TRUE(file_exists());
    }
    EXPECT_FALSE(file_exists());  // closed: file removed
    // A stale socket file (its owner died without removing it) is replaced.
    const int raw = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const auto ep = coloop::endpoint::unix_path(path_);
    EXPECT_EQ(::bind(raw, static_cast<const sockaddr*>(ep.data()), ep.size()), 0);
    ::close(raw);
    EXPECT_TRUE(file_exists());
    unix_listener fresh = unix_listener::bind(path_);
    auto accepted = coloop::spawn(fresh.accept());
    unix_stream c = co_await unix_stream::connect(path_);
    unix_stream s = co_await std::move(accepted);
    EXPECT_TRUE(s.is_open());
  }());
}

TEST_P(UnixSocketTest, ConnectErrors) {
  run([this]() -> task<void> {
    EXPECT_EQ(co_await error_of(unix_stream::connect(path_)), errno_code(ENOENT));
    EXPECT_THROW(co_await unix_stream::connect(std::string(200, 'a')), std::invalid_argument);
    EXPECT_THROW(unix_listener::bind(""), std::invalid_argument);
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(UnixSocketTest);

}  // namespace

// The io_uring backend's own cases, on real sockets: a cancel racing a completion (no byte lost
// or duplicated, 10,000 times), an accept cancelled or abandoned as it completes (no fd leaked),
// the fallback to epoll when the kernel refuses a ring (simulated), and a loop closed with
// operations in the kernel (clean under ASan). The other I/O suites also run on this backend
// (the io_uring: prefix in ctest). Inside coroutines only EXPECT_* is used.

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <coloop/coloop.hpp>
#include <coloop/io/async_fd.hpp>
#include <coloop/net/tcp.hpp>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/io_uring/io_uring_reactor.hpp"
#include "runtime/context.hpp"
#include "support/fd_audit.hpp"
#include "support/fd_pairs.hpp"

namespace {

using coloop::task;
using coloop::test::fd_pair;
using coloop::test::make_socketpair;
using coloop::test::read_byte;
using coloop::test::read_byte_or_timeout;
using coloop::async_fd;
using namespace std::chrono_literals;

const coloop::loop_options manual{.manual_clock = true};

/// Sets COLOOP_BACKEND for the test's loops and restores it afterwards.
class backend_env {
 public:
  explicit backend_env(const char* value) {
    if (const char* old = std::getenv("COLOOP_BACKEND")) old_ = old, had_ = true;
    ::setenv("COLOOP_BACKEND", value, 1);
  }
  ~backend_env() {
    if (had_) {
      ::setenv("COLOOP_BACKEND", old_.c_str(), 1);
    } else {
      ::unsetenv("COLOOP_BACKEND");
    }
  }
  backend_env(const backend_env&) = delete;
  backend_env& operator=(const backend_env&) = delete;

 private:
  std::string old_;
  bool had_ = false;
};

class IoUringTest : public ::testing::Test {
 protected:
  coloop::test::fd_audit audit_;  // first member: checked after everything else is gone
  backend_env env_{"io_uring"};
};

const char* backend_name() { return coloop::detail::current_driver("test").io().name(); }

TEST_F(IoUringTest, LoopsRunOnIoUring) {
  const std::string name = coloop::run([]() -> task<std::string> { co_return backend_name(); }());
  EXPECT_EQ(name, "io_uring");
}

// A reader's recv is in the kernel (or about to be); a byte arrives before, around or after the
// cancel. Whatever the interleaving, the byte reaches exactly one reader: the cancelled one (the
// cancel reported the completed op) or the next read (the cancel withdrew it).
struct race_counts {
  int delivered = 0;
  int withdrawn = 0;
  int mismatched = 0;
};

task<void> one_race(int i, race_counts& counts) {
  const fd_pair sp = make_socketpair();
  async_fd rd(sp.first);
  async_fd wr(sp.second);
  const char byte = static_cast<char>('a' + i % 26);
  const int mode = i % 4;
  auto reader = coloop::spawn(read_byte(rd));
  // The loop polls (sending the recv's SQE) once per 61 steps while work is ready: sweeping
  // 0-69 yields puts that poll before or after the write and the cancel, whatever its phase.
  for (int k = 0; k < i / 4 % 70; ++k) co_await coloop::yield();
  if (mode != 3) {
    EXPECT_EQ(::write(sp.second, &byte, 1), 1);
  }
  for (int k = 0; k < mode; ++k) co_await coloop::yield();  // CQE reaped before the cancel or not
  reader.cancel();
  int got = -2;
  try {
    got = co_await std::move(reader);
  } catch (const coloop::cancelled_error&) {
  }
  if (got == -2) {
    ++counts.withdrawn;
    if (mode == 3) {
      EXPECT_EQ(::write(sp.second, &byte, 1), 1);
    }
    got = co_await read_byte_or_timeout(rd);
  } else {
    ++counts.delivered;
  }
  if (got != static_cast<unsigned char>(byte)) ++counts.mismatched;
  char extra;
  if (::recv(sp.first, &extra, 1, MSG_DONTWAIT) != -1) ++counts.mismatched;  // a duplicate
}

task<race_counts> cancel_races(int rounds) {
  race_counts counts;
  for (int i = 0; i < rounds; ++i) co_await one_race(i, counts);
  co_return counts;
}

TEST_F(IoUringTest, CancelRacingCompletionLosesNothing10000Times) {
  const race_counts c = coloop::run(cancel_races(10'000), manual);
  EXPECT_EQ(c.mismatched, 0);
  EXPECT_EQ(c.delivered + c.withdrawn, 10'000);
  EXPECT_GT(c.delivered, 0) << "no cancel lost the race to the completion";
  EXPECT_GT(c.withdrawn, 0) << "no cancel withdrew the read";
}

/// Connects a plain blocking client to `port` on 127.0.0.1; returns its fd.
int connect_client(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
  }
  return fd;
}

task<bool> accept_one(coloop::tcp_listener& l) {
  coloop::tcp_stream s = co_await l.accept();
  co_return s.is_open();
}

task<void> accept_forever(coloop::tcp_listener& l) {
  for (;;) co_await accept_one(l);
}

struct accept_counts {
  int accepted = 0;
  int withdrawn = 0;
};

task<accept_counts> accept_races(int rounds) {
  accept_counts counts;
  auto listener = coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
  const std::uint16_t port = listener.local_endpoint().port();
  for (int i = 0; i < rounds; ++i) {
    auto acceptor = coloop::spawn(accept_one(listener));
    for (int k = 0; k < i % 70; ++k) co_await coloop::yield();  // a poll before or after
    const int client = connect_client(port);
    for (int k = 0; k < i / 70 % 3; ++k) co_await coloop::yield();
    acceptor.cancel();
    bool cancelled = false;
    try {
      EXPECT_TRUE(co_await std::move(acceptor));
      ++counts.accepted;  // the accept won: the task owned the new fd and closed it
    } catch (const coloop::cancelled_error&) {
      cancelled = true;
    }
    if (cancelled) {
      ++counts.withdrawn;  // the connection is still in the backlog: take it
      EXPECT_TRUE(co_await accept_one(listener));
    }
    ::close(client);
  }
  co_return counts;
}

TEST_F(IoUringTest, AcceptCancelledAsItCompletesLeaksNoFd) {
  const accept_counts c = coloop::run(accept_races(2'000), manual);
  EXPECT_EQ(c.accepted + c.withdrawn, 2'000);
  EXPECT_GT(c.accepted, 0);
  EXPECT_GT(c.withdrawn, 0);
}  // fd_audit: every accepted fd was closed

/// Lets the loop poll once: with nothing else ready, a manual-clock loop polls the reactor
/// before it jumps to the timer (run_until_complete of a mere yield could end before any poll).
task<void> one_poll() { co_await coloop::sleep_for(1ms); }

/// Listens on a free loopback port (reported through `port`) and accepts forever.
task<void> listen_and_accept(std::uint16_t& port) {
  auto listener = coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
  port = listener.local_endpoint().port();
  co_await accept_forever(listener);
}

TEST_F(IoUringTest, AcceptAbandonedWhileTheKernelCompletesItClosesTheFd) {
  // The loop is destroyed while the accept is in the kernel and a connection has just arrived:
  // the kernel hands back a new fd nobody will own, and the backend must close it.
  for (int i = 0; i < 200; ++i) {
    int client = -1;
    {
      coloop::event_loop loop(manual);
      std::uint16_t port = 0;
      auto acceptor = loop.create_task(listen_and_accept(port));
      for (int k = 0; k < 2; ++k) loop.run_until_complete(one_poll());  // the accept SQE is out
      client = connect_client(port);
      EXPECT_FALSE(acceptor.done());
      acceptor.detach();
    }
    ::close(client);
  }
}

TEST_F(IoUringTest, FallsBackToEpollWhenSetupIsRefused) {
  // Capture stderr for the one-line notice.
  std::FILE* capture = std::tmpfile();
  ASSERT_NE(capture, nullptr);
  const int saved = ::dup(2);
  ::fflush(stderr);
  ::dup2(::fileno(capture), 2);
  coloop::detail::force_io_uring_setup_error(EPERM);
  std::string name;
  try {
    name = coloop::run([]() -> task<std::string> { co_return backend_name(); }());
  } catch (...) {
    name = "threw";
  }
  ::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string text(256, '\0');
  std::rewind(capture);
  text.resize(std::fread(text.data(), 1, text.size(), capture));
  std::fclose(capture);
  EXPECT_EQ(name, "epoll");
  EXPECT_NE(text.find("coloop: io_uring unavailable (Operation not permitted); using epoll"),
            std::string::npos)
      << text;
  // A second refusal in the same process falls back silently.
  coloop::detail::force_io_uring_setup_error(ENOSYS);
  EXPECT_EQ(coloop::run([]() -> task<std::string> { co_return backend_name(); }()), "epoll");
}

TEST_F(IoUringTest, RefusedSetupThrowsTheDedicatedError) {
  coloop::detail::force_io_uring_setup_error(ENOSYS);
  try {
    coloop::detail::make_io_uring_reactor();
    ADD_FAILURE() << "no exception";
  } catch (const coloop::detail::io_uring_unavailable& e) {
    EXPECT_EQ(e.code(), std::error_code(ENOSYS, std::generic_category()));
  }
  EXPECT_NE(coloop::detail::make_io_uring_reactor(), nullptr);  // the hook is one-shot
}

TEST_F(IoUringTest, UnknownBackendNameIsAClearError) {
  backend_env bad("io-uring");
  try {
    coloop::event_loop loop;
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("io-uring"), std::string::npos) << e.what();
  }
}

// Tasks with a recv, a send (blocked on a full socket) and an accept in the kernel, and the loop
// closed under them: every op is cancelled and waited for before its frame goes (ASan checks the
// frames; the fd audit checks the sockets).
task<void> read_forever(async_fd& fd) {
  char buf[256];
  for (;;) co_await fd.read_some(buf, sizeof buf);
}

task<void> write_forever(async_fd& fd) {
  std::vector<char> big(1 << 20, 'w');
  for (;;) co_await fd.write_some(big.data(), big.size());
}

task<void> own_and_block(fd_pair quiet, fd_pair full) {
  async_fd a(quiet.first);  // nobody writes to quiet.second: a's read waits
  async_fd b(quiet.second);
  async_fd c(full.first);  // nobody reads full.second: c's writes fill the buffers and wait
  async_fd d(full.second);
  std::uint16_t port = 0;
  auto r = coloop::spawn(read_forever(a));
  auto w = coloop::spawn(write_forever(c));
  auto x = coloop::spawn(listen_and_accept(port));
  co_await std::move(r);
}

TEST_F(IoUringTest, ClosingTheLoopWithOperationsInTheKernelIsClean) {
  for (int i = 0; i < 20; ++i) {
    coloop::event_loop loop(manual);
    auto owner = loop.create_task(own_and_block(make_socketpair(), make_socketpair()));
    for (int k = 0; k < 5 + i % 3; ++k) loop.run_until_complete(one_poll());
    EXPECT_FALSE(owner.done());
    EXPECT_EQ(loop.live_tasks(), 4u);
    owner.detach();
  }  // ~event_loop: tasks destroyed first (each op cancelled and reaped), then the reactor
}

}  // namespace

// The per-OS seam (src/runtime/os/): each call's contract, on whichever implementation this build
// has (Linux's own, or with COLOOP_PORTABLE_FALLBACKS=ON the fallbacks macOS and the BSDs run),
// and which one that is: the portable build must really be running the fallbacks.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/os/futex.hpp"
#include "runtime/os/sigpipe.hpp"
#include "runtime/os/sockets.hpp"
#include "runtime/os/wake_fd.hpp"
#include "runtime/driver/reactor.hpp"
#include "support/fd_audit.hpp"

namespace coloop::detail {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

bool nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }
bool cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

bool is_pipe(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// --- wake_fd --------------------------------------------------------------------------------

TEST(OsWakeFd, NotifyMakesReadableAndDrainResets) {
  test::fd_audit audit;
  os::wake_fd w;
  EXPECT_TRUE(nonblocking(w.fd()));
  EXPECT_TRUE(cloexec(w.fd()));
  EXPECT_FALSE(readable(w.fd()));
  w.notify();
  w.notify();
  EXPECT_TRUE(readable(w.fd()));
  w.drain();
  EXPECT_FALSE(readable(w.fd()));
  w.drain();  // nothing pending: returns at once
  EXPECT_FALSE(readable(w.fd()));
}

TEST(OsWakeFd, NotifyNeverBlocksAndOneDrainEmptiesAll) {
  os::wake_fd w;
  // More than a pipe holds (64 KiB on Linux, 16 KiB to 64 KiB on the BSDs and macOS).
  for (int i = 0; i < 200'000; ++i) w.notify();
  EXPECT_TRUE(readable(w.fd()));
  w.drain();
  EXPECT_FALSE(readable(w.fd()));
}

TEST(OsWakeFd, NotifyFromAnotherThreadWakesAPoll) {
  os::wake_fd w;
  std::thread t([&w] { w.notify(); });
  pollfd p{w.fd(), POLLIN, 0};
  const int n = ::poll(&p, 1, -1);  // returns once the other thread notified
  t.join();
  EXPECT_EQ(n, 1);
  w.drain();
  EXPECT_FALSE(readable(w.fd()));
}

TEST(OsWakeFd, IsThePipeFallbackExactlyWhenPortable) {
  os::wake_fd w;
  EXPECT_EQ(is_pipe(w.fd()), COLOOP_PORTABLE_FALLBACKS != 0);
}

#if defined(__linux__)  // epoll is always built there
// The reactor's own wake-up fd is the seam's: a pipe in the portable build, an eventfd otherwise.
TEST(OsWakeFd, EpollReactorWakesThroughTheSeam) {
  const auto before = test::open_fds();
  auto r = make_epoll_reactor();
  std::vector<std::string> opened;
  for (const auto& [fd, target] : test::open_fds()) {
    if (before.count(fd) == 0) opened.push_back(target);
  }
  int pipes = 0;
  int eventfds = 0;
  for (const auto& target : opened) {
    pipes += target.rfind("pipe:", 0) == 0;
    eventfds += target == "anon_inode:[eventfd]";
  }
  if (COLOOP_PORTABLE_FALLBACKS) {
    EXPECT_EQ(pipes, 2);  // both ends
    EXPECT_EQ(eventfds, 0);
  } else {
    EXPECT_EQ(pipes, 0);
    EXPECT_EQ(eventfds, 1);
  }
  r->wake();
  r->wake();
  EXPECT_EQ(r->poll(-1), 1u);  // the wake-up, which poll drains
  EXPECT_EQ(r->poll(0), 0u);
}
#endif

// --- futex ----------------------------------------------------------------------------------

TEST(OsFutex, WaitReturnsAtOnceWhenTheWordDiffers) {
  std::atomic<std::uint32_t> word{1};
  os::futex_wait(word, 0);  // nobody wakes it: it hangs (and the test times out) if it sleeps
  EXPECT_EQ(word.load(), 1u);
}

TEST(OsFutex, WakeOneWakesASleeperOnAnotherThread) {
  std::atomic<std::uint32_t> word{0};
  std::atomic<bool> asleep{false};
  std::thread t([&] {
    asleep.store(true, std::memory_order_relaxed);
    // acquire: pairs with the release store below.
    while (word.load(std::memory_order_acquire) == 0) os::futex_wait(word, 0);
  });
  while (!asleep.load(std::memory_order_relaxed)) std::this_thread::yield();
  word.store(1, std::memory_order_release);  // release: the sleeper sees the change
  os::futex_wake_one(word);
  t.join();  // hangs (and the test times out) if the wake was lost
  EXPECT_EQ(word.load(), 1u);
}

// Many words, some of them sharing a bucket in the portable table: a wake must reach the
// sleeper of its own word however the buckets are shared, and never lose one.
TEST(OsFutex, ManyWordsEachWokenByItsOwnWake) {
  constexpr int n = 32;
  constexpr int rounds = 200;
  std::vector<std::unique_ptr<std::atomic<std::uint32_t>>> words;
  for (int i = 0; i < n; ++i) words.push_back(std::make_unique<std::atomic<std::uint32_t>>(0));
  std::vector<std::thread> sleepers;
  for (int i = 0; i < n; ++i) {
    sleepers.emplace_back([&word = *words[static_cast<std::size_t>(i)]] {
      for (std::uint32_t r = 0; r < rounds; ++r) {
        // acquire: pairs with the waker's release store.
        while (word.load(std::memory_order_acquire) == r) os::futex_wait(word, r);
      }
    });
  }
  for (std::uint32_t r = 1; r <= rounds; ++r) {
    for (auto& word : words) {
      word->store(r, std::memory_order_release);  // release: the sleeper sees the change
      os::futex_wake_one(*word);
    }
  }
  for (auto& t : sleepers) t.join();
  for (auto& word : words) EXPECT_EQ(word->load(), static_cast<std::uint32_t>(rounds));
}

TEST(OsFutex, WakeOfAWordNobodyWaitsOnIsHarmless) {
  auto word = std::make_unique<std::atomic<std::uint32_t>>(0);
  os::futex_wake_one(*word);
  word->store(1);
  os::futex_wake_one(*word);
  EXPECT_EQ(word->load(), 1u);
}

// --- sockets --------------------------------------------------------------------------------

TEST(OsSockets, SocketIsNonblockingAndCloexec) {
  test::fd_audit audit;
  const int fd = os::socket_nonblocking_cloexec(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(nonblocking(fd));
  EXPECT_TRUE(cloexec(fd));
  ::close(fd);
}

TEST(OsSockets, SocketCloexecStaysBlocking) {
  test::fd_audit audit;
  const int fd = os::socket_cloexec(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(nonblocking(fd));
  EXPECT_TRUE(cloexec(fd));
  ::close(fd);
}

TEST(OsSockets, SocketpairEndsAreNonblockingAndCloexec) {
  test::fd_audit audit;
  int fds[2] = {-1, -1};
  ASSERT_EQ(os::socketpair_nonblocking_cloexec(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  for (int fd : fds) {
    EXPECT_TRUE(nonblocking(fd));
    EXPECT_TRUE(cloexec(fd));
    ::close(fd);
  }
}

TEST(OsSockets, FailuresReturnMinusOneWithErrno) {
  test::fd_audit audit;
  errno = 0;
  EXPECT_EQ(os::socket_nonblocking_cloexec(-1, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  int fds[2] = {-1, -1};
  errno = 0;
  EXPECT_EQ(os::socketpair_nonblocking_cloexec(AF_INET, SOCK_STREAM, 0, fds), -1);
  EXPECT_NE(errno, 0);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  errno = 0;
  EXPECT_EQ(os::accept_nonblocking_cloexec(-1, reinterpret_cast<sockaddr*>(&sa), &len), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(OsSockets, AcceptedSocketIsNonblockingAndCloexec) {
  test::fd_audit audit;
  const int listener = os::socket_nonblocking_cloexec(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  sockaddr_in peer{};
  socklen_t peer_len = sizeof peer;
  errno = 0;  // nothing pending: a non-blocking listener says so
  EXPECT_EQ(os::accept_nonblocking_cloexec(listener, reinterpret_cast<sockaddr*>(&peer),
                                           &peer_len), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);

  const int client = os::socket_cloexec(AF_INET, SOCK_STREAM, 0);  // blocking: connects at once
  ASSERT_GE(client, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  pollfd p{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, -1), 1);
  peer_len = sizeof peer;
  const int accepted =
      os::accept_nonblocking_cloexec(listener, reinterpret_cast<sockaddr*>(&peer), &peer_len);
  ASSERT_GE(accepted, 0);
  EXPECT_TRUE(nonblocking(accepted));
  EXPECT_TRUE(cloexec(accepted));
  EXPECT_EQ(peer_len, sizeof peer);
  EXPECT_EQ(peer.sin_family, AF_INET);
  ::close(accepted);
  ::close(client);
  ::close(listener);
}

TEST(OsSockets, SendToAClosedPeerFailsWithEpipeNotSigpipe) {
  test::fd_audit audit;
  int fds[2] = {-1, -1};
  ASSERT_EQ(os::socketpair_nonblocking_cloexec(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ::close(fds[1]);
  const char byte = 'x';
  // Without the flags the default SIGPIPE action would kill the test process here.
  EXPECT_EQ(::send(fds[0], &byte, 1, os::send_flags), -1);
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[0]);
}

// --- sigpipe --------------------------------------------------------------------------------

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

TEST(OsSigpipe, DiscardTakesAPendingSigpipeAndOtherwiseReturns) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t old;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, &old), 0);
  os::discard_pending_sigpipe();  // none pending: must not block
  EXPECT_FALSE(sigpipe_pending());
  ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
  EXPECT_TRUE(sigpipe_pending());
  os::discard_pending_sigpipe();
  EXPECT_FALSE(sigpipe_pending());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace
}  // namespace coloop::detail

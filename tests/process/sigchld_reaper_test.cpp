// The SIGCHLD reaper (src/process/sigchld_reaper.cpp: subprocess exits where there are no
// pidfds, as in the portable build), driven directly on a forked child: signal_child reaches a
// watched child until the reaper has seen it exit, and sends nothing after, when its pid may
// already name another process (before, process::send_signal called kill() on it).

#include <errno.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "process/sigchld_reaper.hpp"

namespace {

/// A child that sleeps until signalled: `sleep` with nothing blocked. It execs at once, since
/// a forked child of a sanitized, threaded process runs the sanitizer's signal handling, which
/// need not deliver SIGTERM to a child waiting in pause().
int fork_waiting_child() {
  const int pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

/// Reads the reaper's status pipe to its end, which comes once the child is reaped: the
/// signal that killed it (0 if none).
int signal_of_reaped(int fd) {
  int status[2] = {0, 0};
  std::size_t got = 0;
  for (;;) {
    char* into = reinterpret_cast<char*>(status) + got;
    const ssize_t n = ::read(fd, into, got < sizeof status ? sizeof status - got : 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  EXPECT_EQ(got, sizeof status);
  return status[1];
}

/// The test's thread blocks SIGCHLD, so the signal goes to the reaper's thread: under TSan, a
/// handler for a signal that reaches a thread blocked in read() waits until that read returns.
class sigchld_reaper : public ::testing::Test {
 protected:
  void SetUp() override {
    sigset_t child_only;
    sigemptyset(&child_only);
    sigaddset(&child_only, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &child_only, &saved_);
  }
  void TearDown() override { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

TEST_F(sigchld_reaper, signal_child_reaches_a_child_still_running) {
  const int pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  const int status_fd = coloop::detail::sigchld::watch_child(pid);
  EXPECT_EQ(coloop::detail::sigchld::signal_child(pid, SIGTERM), 0);
  EXPECT_EQ(signal_of_reaped(status_fd), SIGTERM);
}

TEST_F(sigchld_reaper, signal_child_sends_nothing_once_the_child_is_reaped) {
  const int pid = fork_waiting_child();
  ASSERT_GT(pid, 0);
  const int status_fd = coloop::detail::sigchld::watch_child(pid);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(signal_of_reaped(status_fd), SIGKILL);  // the end of file: reaped, the pid is free
  // kill() on it would fail with ESRCH (or hit whoever has the pid now).
  EXPECT_EQ(coloop::detail::sigchld::signal_child(pid, SIGTERM), 0);
}

}  // namespace

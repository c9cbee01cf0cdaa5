// signal_set against real signals sent from outside the process (kill(2) from this test to a
// signal_child), in the situations where a blocked-mask design loses them: a thread started
// before the set (the default pool), the runtime's workers, a signal ignored at start.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

extern char** environ;

namespace {

struct outcome {
  std::string output;  // everything the child printed
  int status = 0;      // waitpid's
};

/// Reads what `fd` has until end of file; false when 10 s pass with nothing (a lost signal
/// turns into a failure instead of a hang).
bool read_until_eof(int fd, std::string& out, const std::string& stop_at = {}) {
  char buf[256];
  for (;;) {
    if (!stop_at.empty() && out.find(stop_at) != std::string::npos) return true;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return false;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return n == 0;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

/// Starts signal_child `mode`, waits for its "ready", sends `signo`, and collects the rest.
outcome run_child(const char* mode, int signo) {
  outcome result;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  char path[] = COLOOP_SIGNAL_CHILD;
  std::string mode_arg = mode;
  char* argv[] = {path, mode_arg.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, path, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0 || pid <= 0) {
    ADD_FAILURE() << "posix_spawn " << path << ": " << spawned;
    ::close(out[0]);
    return result;
  }
  if (read_until_eof(out[0], result.output, "ready\n")) {
    EXPECT_EQ(::kill(pid, signo), 0);
    EXPECT_TRUE(read_until_eof(out[0], result.output)) << "no exit after the signal";
  } else {
    ADD_FAILURE() << "signal_child " << mode << " never got ready: " << result.output;
  }
  ::kill(pid, SIGKILL);  // a no-op unless it hangs
  ::close(out[0]);
  EXPECT_EQ(::waitpid(pid, &result.status, 0), pid);
  return result;
}

void expect_received(const outcome& o, int signo) {
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0)
      << "status " << o.status << (WIFSIGNALED(o.status) ? ": killed by its signal" : "");
  EXPECT_NE(o.output.find("signal " + std::to_string(signo) + "\n"), std::string::npos) << o.output;
}

TEST(SignalDelivery, SigintReachesALoopWhosePoolStarted) {
  expect_received(run_child("pool", SIGINT), SIGINT);
}

TEST(SignalDelivery, SigtermReachesALoopWhosePoolStarted) {
  expect_received(run_child("pool", SIGTERM), SIGTERM);
}

TEST(SignalDelivery, SigintReachesATwoWorkerRuntime) {
  expect_received(run_child("runtime", SIGINT), SIGINT);
}

TEST(SignalDelivery, SigtermReachesATwoWorkerRuntime) {
  expect_received(run_child("runtime", SIGTERM), SIGTERM);
}

TEST(SignalDelivery, SigintIgnoredAtStartStillReachesTheSetAndIsIgnoredAfter) {
  const outcome o = run_child("ignored", SIGINT);
  expect_received(o, SIGINT);
  EXPECT_NE(o.output.find("ignored again\n"), std::string::npos) << o.output;
}

}  // namespace

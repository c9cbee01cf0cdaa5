// The main() of every test binary: GoogleTest plus a listener that fails the run when a test
// leaves an fd open, a thread running or a child process behind (DEVELOPERS.md: every test ends
// clean). ctest runs one test per process, so a leak fails exactly the test that caused it.

#include <dirent.h>
#include <errno.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <coloop/executor/to_thread.hpp>
#include <coloop/runtime/event_loop.hpp>

#include "support/fd_audit.hpp"

namespace {

int count_threads() {
  int n = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* ent = ::readdir(dir)) n += ent->d_name[0] != '.';
    ::closedir(dir);
  }
  return n;
}

class clean_exit_listener : public testing::EmptyTestEventListener {
 public:
  bool leaked = false;

 private:
  void OnTestStart(const testing::TestInfo&) override {
    fds_ = coloop::test::open_fds();
    threads_ = count_threads();
  }
  void OnTestEnd(const testing::TestInfo& info) override {
    // The default pool (to_thread, DNS, file I/O) is process-wide infrastructure that outlives
    // tests; drain and join it here so its threads are not blamed on the test. A job a test left
    // blocked there hangs the drain, which ctest's timeout then reports against that test.
    coloop::shutdown_default_pool();
    const std::string name = std::string(info.test_suite_name()) + "." + info.name();
    for (const auto& [fd, target] : coloop::test::open_fds()) {
      if (!fds_.count(fd)) report(name, "fd " + std::to_string(fd) + " (" + target + ") left open");
    }
    // A joined thread can still be listed in /proc/self/task for a moment: pthread_join returns
    // when the kernel clears its tid, slightly before the task entry goes. Give it up to 2 s.
    int threads = count_threads();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (threads > threads_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
      threads = count_threads();
    }
    // Fewer than at the start is no leak: a thread that predates the test (one joined just
    // before it, still listed) has gone.
    if (threads > threads_) {
      report(name, std::to_string(threads - threads_) + " thread(s) left running");
    }
    // A child still running, or a zombie nobody reaped (this reaps one, so the next test
    // starts clean).
    const int child = ::waitpid(-1, nullptr, WNOHANG);
    if (child == 0) report(name, "child process(es) left running");
    if (child > 0) report(name, "child " + std::to_string(child) + " left unreaped (zombie)");
  }
  void report(const std::string& test, const std::string& what) {
    std::fprintf(stderr, "LEAK in %s: %s\n", test.c_str(), what.c_str());
    leaked = true;
  }
  std::map<int, std::string> fds_;
  int threads_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // TSan starts a background thread of its own at the first pthread_create: have that happen
  // now, so the audit does not blame it on the first test that starts a thread.
  std::thread([] {}).join();
  // Likewise, a backend may open process-wide fds on its first loop (libuv's signal-lock pipe,
  // kept until exit): create and close one loop per backend now, not inside the first test.
  for (coloop::backend b : coloop::available_backends()) coloop::event_loop warm_up({.backend = b});
  auto* listener = new clean_exit_listener;  // owned by GoogleTest once appended
  testing::UnitTest::GetInstance()->listeners().Append(listener);
  const int result = RUN_ALL_TESTS();
  return result != 0 ? result : (listener->leaked ? 1 : 0);
}

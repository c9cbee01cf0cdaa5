// COLOOP_DUMP_ON=SIGUSR1 (or USR1, or a number): that signal makes the process log a task dump of
// every event loop and runtime (docs/debugging.md). The handler only writes a byte to a pipe; a
// watcher thread, alive while some loop or runtime exists, reads it and asks each one for its
// dump: an event loop takes it on its own thread (a remote callback), a runtime from the watcher
// thread, which pauses its workers between steps (collect_tasks).

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/log_format.hpp"
#include "runtime/context.hpp"
#include "runtime/dump_on_signal.hpp"

namespace coloop::detail {
namespace {

/// The signal $COLOOP_DUMP_ON names, or 0 (unset, empty, or not a signal: then a warning).
int requested_signal() {
  const char* env = std::getenv("COLOOP_DUMP_ON");
  if (env == nullptr || *env == '\0') return 0;
  std::string_view name(env);
  if (name.starts_with("SIG")) name.remove_prefix(3);
  if (name == "USR1") return SIGUSR1;
  if (name == "USR2") return SIGUSR2;
  if (name == "QUIT") return SIGQUIT;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*end == '\0' && n > 0 && n < NSIG) return static_cast<int>(n);
  logf(log_level::warn, "coloop: COLOOP_DUMP_ON={}: not a signal (SIGUSR1, USR2, QUIT or a number)",
       env);
  return 0;
}

int wake_pipe[2] = {-1, -1};

extern "C" void on_dump_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_pipe[1], &byte, 1);  // full: a dump is pending
  errno = saved;
}

class dump_watcher {
 public:
  void add(context& c) {
    std::lock_guard life(lifecycle_);
    if (!thread_.joinable() && !start()) return;  // $COLOOP_DUMP_ON is read while none watches
    std::lock_guard lock(mutex_);
    contexts_.push_back(&c);
  }
  void remove(context& c) {
    std::lock_guard life(lifecycle_);
    {
      std::lock_guard lock(mutex_);
      std::erase(contexts_, &c);
      if (!contexts_.empty() || !thread_.joinable()) return;
    }
    ::sigaction(signo_, &previous_, nullptr);
    const char stop = 0;
    [[maybe_unused]] const ssize_t n = ::write(wake_pipe[1], &stop, 1);
    thread_.join();  // not under mutex_: the watcher may be taking it to dump
    for (int& fd : wake_pipe) ::close(std::exchange(fd, -1));
  }

 private:
  bool start() {
    signo_ = requested_signal();
    if (signo_ == 0) return false;
    if (::pipe(wake_pipe) != 0) return false;
    for (int fd : wake_pipe) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction action {};
    action.sa_handler = &on_dump_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(signo_, &action, &previous_);
    thread_ = std::thread([this] { watch(); });
    return true;
  }
  void watch() {
    for (;;) {
      char byte = 0;
      const ssize_t n = ::read(wake_pipe[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      std::lock_guard lock(mutex_);
      for (context* c : contexts_) c->dump_on_signal();
    }
  }
  std::mutex lifecycle_;  // add and remove, which start and stop the watcher
  std::mutex mutex_;
  std::vector<context*> contexts_;  // guarded by mutex_
  std::thread thread_;
  int signo_ = 0;
  struct sigaction previous_ {};
};

dump_watcher& watcher() {
  static dump_watcher w;
  return w;
}

}  // namespace

void watch_dump_signal(context& c) { watcher().add(c); }
void unwatch_dump_signal(context& c) { watcher().remove(c); }

void log_task_dump(const char* who, const std::vector<task_info>& tasks) noexcept {
  try {
    std::ostringstream out;
    write_tasks(out, tasks);
    logf(log_level::warn, "coloop: task dump of {} (COLOOP_DUMP_ON):\n{}", who, out.str());
  } catch (...) {  // no memory for the dump: it is lost, never the program
  }
}

}  // namespace coloop::detail

// SIGCHLD reaper: how a child's exit reaches its process object where there are no pidfds (the
// portable build; Linux before 5.3). libuv reaps on SIGCHLD in each loop; coloop's loops have no
// per-loop hook for that, and a SIGCHLD wake pipe shared by many waiters loses wake-ups (a waiter
// that drains it takes the edge of the others), so one thread does it for the whole process.
//
// State, under `mutex_`: the children being watched (pid and the write end of each one's status
// pipe) and the current generation: the thread, its SIGCHLD watch (signal_dispatch's handler
// writes to the watch's pipe) and a kick pipe. A generation starts when a child is watched and
// none runs; it ends when its reap pass leaves no child to watch, so no thread or fd outlives
// the last child.
//
// Reap pass (the thread, after SIGCHLD or a kick): waitpid(pid, WNOHANG) for every watched
// child. watch_child kicks after registering, so a child that exited before it was registered
// is found by the pass the kick causes; a SIGCHLD that lands during a pass wakes the next one.
//
// Order at the end of a pass, for the clean-exit audits: under the lock, the reaped children
// leave the table and, if it is empty, the generation's fds are closed; then, outside it, each
// status is written and the status pipe closed. A waiter reads to end of file, so when wait()
// returns, the reaper holds no fd for that child (nor, if it was the last, any at all).
//
// SIGPIPE: a process object dropped before the exit has closed its read end; the thread blocks
// SIGPIPE for itself, the write fails with EPIPE and the pending signal dies with the thread.

#include "process/sigchld_reaper.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "process/os/child_os.hpp"
#include "process/signal_dispatch.hpp"

namespace coloop::detail::sigchld {
namespace {

struct child {
  int pid;
  int status_fd;  // write end of its status pipe
};

struct generation {
  int signal_fd = -1;    // read end of the SIGCHLD watch's wake pipe
  int slot = -1;         // the watch
  int kick[2] = {-1, -1};
};

std::mutex mutex_;
std::vector<child> children_;
generation* current_ = nullptr;

struct reaped {
  int status_fd;
  int status;
  bool known;  // false: ECHILD, someone else reaped it
};

void close_generation(generation* g) noexcept {
  signals::unwatch(g->slot);  // closes the write end of the wake pipe
  ::close(g->signal_fd);
  ::close(g->kick[0]);
  ::close(g->kick[1]);
  delete g;
}

/// One reap pass; true when it ended the generation. Under mutex_.
bool reap_locked(generation* g, std::vector<reaped>& out) {
  for (std::size_t i = 0; i < children_.size();) {
    int status = 0;
    const int r = ::waitpid(children_[i].pid, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++i;
      continue;
    }
    out.push_back({children_[i].status_fd, status, r > 0});
    children_[i] = children_.back();
    children_.pop_back();
  }
  if (!children_.empty()) return false;
  current_ = nullptr;
  close_generation(g);
  return true;
}

void drain(int fd) noexcept {
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf);  // poll said readable: it does not block
  (void)n;
}

void run(generation* g) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  std::vector<reaped> done;
  for (bool last = false; !last;) {
    pollfd fds[2] = {{g->signal_fd, POLLIN, 0}, {g->kick[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    // Drained before the pass: a SIGCHLD after this point leaves a byte for the next poll.
    if (fds[0].revents != 0) drain(g->signal_fd);
    if (fds[1].revents != 0) drain(g->kick[0]);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = reap_locked(g, done);
    }
    for (const reaped& r : done) {
      if (r.known) {
        const ssize_t n = ::write(r.status_fd, &r.status, sizeof r.status);  // atomic: < PIPE_BUF
        (void)n;  // EPIPE: the process object is gone, the child is reaped all the same
      }
      ::close(r.status_fd);
    }
    done.clear();
  }
}

generation* start_generation() {
  auto* g = new generation;
  int wake[2] = {-1, -1};
  try {
    signals::make_wake_pipe(wake);
    g->signal_fd = wake[0];
    // The read end blocks: only this thread reads it, after poll.
    const int flags = ::fcntl(wake[0], F_GETFL);
    ::fcntl(wake[0], F_SETFL, flags & ~O_NONBLOCK);
    g->slot = signals::watch(1ULL << (SIGCHLD - 1), wake[1]);  // owns wake[1]
    os::cloexec_pipe(g->kick, "coloop::process: pipe");
    std::thread(run, g).detach();
  } catch (...) {
    if (g->slot >= 0) signals::unwatch(g->slot);
    if (g->signal_fd >= 0) ::close(g->signal_fd);
    if (g->kick[0] >= 0) ::close(g->kick[0]);
    if (g->kick[1] >= 0) ::close(g->kick[1]);
    delete g;
    throw;
  }
  return g;
}

}  // namespace

int watch_child(int pid) {
  int status[2];
  os::cloexec_pipe(status, "coloop::process: pipe");
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    if (current_ == nullptr) current_ = start_generation();
    children_.push_back({pid, status[1]});
  } catch (...) {
    ::close(status[0]);
    ::close(status[1]);
    throw;
  }
  const char byte = 0;
  const ssize_t n = ::write(current_->kick[1], &byte, 1);  // the pass it causes finds a child
  (void)n;                                                 // that exited before it was watched
  return status[0];
}

}  // namespace coloop::detail::sigchld

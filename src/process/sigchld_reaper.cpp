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
// Pass (the thread, after SIGCHLD or a kick): waitid(WNOWAIT) finds the watched children that
// have exited. watch_child kicks after registering, so a child that exited before it was
// registered is found by the pass the kick causes; a SIGCHLD during a pass wakes the next one.
//
// Order, for the clean-exit audits (a test that sees its child gone checks at once that no fd
// or child is left): under the lock, the exited children leave the table and, if it is empty,
// the generation's fds are closed; then, outside it, each status is written, the child reaped
// and its status pipe closed, except that a pipe whose reader is gone (the process object was
// dropped) is closed before the reap. A waiter reads to end of file, so when wait() returns the
// child is reaped and the reaper holds no fd for it; a dropped child is reaped last.
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
#include <thread>
#include <vector>

#include "process/os/child_os.hpp"
#include "process/signal_dispatch.hpp"
#include "runtime/tsan_signals.hpp"

namespace coloop::detail::sigchld {
namespace {

struct child {
  int pid;
  int status_fd;  // write end of its status pipe
};

struct generation {
  int signal_fd = -1;  // read end of the SIGCHLD watch's wake pipe
  int slot = -1;       // the watch
  int kick[2] = {-1, -1};
};

std::mutex mutex_;
// Never destroyed: a detached reaper thread may have used it last, with nothing ordering that
// before exit-time destructors.
std::vector<child>& children_ = *new std::vector<child>;
generation* current_ = nullptr;

struct reaped {
  int pid;
  int status_fd;
  int status[2];  // exit code (-1 if killed), signal (0 if none)
  bool known;     // false: ECHILD, someone else reaped it
};

/// Also for one that start_generation left half made.
void close_generation(generation* g) noexcept {
  if (g->slot >= 0) signals::unwatch(g->slot);  // closes the write end of the wake pipe
  for (int fd : {g->signal_fd, g->kick[0], g->kick[1]}) {
    if (fd >= 0) ::close(fd);
  }
  delete g;
}

/// One pass over the table: the children that have exited leave it (they are not reaped yet:
/// WNOWAIT); if none is left, the generation ends. True when it did. Under mutex_.
bool collect_locked(generation* g, std::vector<reaped>& out) {
  for (std::size_t i = 0; i < children_.size();) {
    siginfo_t info{};
    const int r =
        ::waitid(P_PID, static_cast<id_t>(children_[i].pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if ((r < 0 && errno != ECHILD) || (r == 0 && info.si_pid == 0)) {  // running (or EINTR)
      ++i;
      continue;
    }
    reaped done{children_[i].pid, children_[i].status_fd, {-1, 0}, r == 0};
    done.status[info.si_code == CLD_EXITED ? 0 : 1] = info.si_status;  // a code, or a signal
    out.push_back(done);
    children_[i] = children_.back();
    children_.pop_back();
  }
  if (!children_.empty()) return false;
  current_ = nullptr;
  close_generation(g);
  return true;
}

/// Hands one exited child's status over, then reaps it. The order is for the clean-exit audits
/// (see the top): a dropped process (the write fails) gets its pipe closed before the reap, a
/// waiting one reads end of file only after it.
void deliver(const reaped& r) noexcept {
  // 8 bytes, atomic (< PIPE_BUF). EPIPE: the process object is gone.
  const bool written = r.known && ::write(r.status_fd, r.status, sizeof r.status) >= 0;
  if (!written) ::close(r.status_fd);
  if (r.known) {
    while (::waitpid(r.pid, nullptr, 0) < 0 && errno == EINTR) {  // a zombie: does not block
    }
  }
  if (written) ::close(r.status_fd);
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
  // SIGCHLD always has this thread to go to, even when the thread that started it blocks it.
  sigset_t child_only;
  sigemptyset(&child_only);
  sigaddset(&child_only, SIGCHLD);
  pthread_sigmask(SIG_UNBLOCK, &child_only, nullptr);
  std::vector<reaped> done;
  for (bool last = false; !last;) {
    pollfd fds[2] = {{g->signal_fd, POLLIN, 0}, {g->kick[0], POLLIN, 0}};
    const int woken = ::poll(fds, 2, signal_wait_slice_ms);  // sliced under TSan
    run_deferred_signal_handlers();  // TSan: a SIGCHLD it held for this thread writes its byte
    if (woken <= 0) continue;        // EINTR, or a TSan slice ended
    // Drained before the pass: a SIGCHLD after this point leaves a byte for the next poll.
    if (fds[0].revents != 0) drain(g->signal_fd);
    if (fds[1].revents != 0) drain(g->kick[0]);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = collect_locked(g, done);  // g is gone when this is true
    }
    for (const reaped& r : done) deliver(r);
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
    close_generation(g);
    throw;
  }
  return g;
}

}  // namespace

int signal_child(int pid, int sig) noexcept {
  // The reaper takes a child out of the table under this lock before it reaps it: while the
  // child is in the table, its pid is still its own.
  std::lock_guard<std::mutex> lock(mutex_);
  for (const child& c : children_) {
    if (c.pid == pid) return ::kill(pid, sig) == 0 ? 0 : errno;
  }
  return 0;
}

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

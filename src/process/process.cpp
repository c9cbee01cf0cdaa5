// process::start: posix_spawn of a child with default signal dispositions, an empty signal mask
// and only the fds it was given, plus the fd its exit becomes readable on.
//
// Spawning: posix_spawnp (glibc: clone(CLONE_VM | CLONE_VFORK), so an exec failure such as
// ENOENT comes back from the call, and glibc reaps the failed child itself: nothing is left).
// POSIX_SPAWN_SETSIGDEF over every signal and POSIX_SPAWN_SETSIGMASK with an empty set undo a
// parent that ignores SIGPIPE or blocks signals. Every fd coloop makes is close-on-exec from
// birth, so the child gets 0-2 from the file actions and nothing else of ours; on Linux a
// closefrom(3) file action also keeps out fds the application opened without close-on-exec.
//
// Exit: a pidfd where the OS has them (readable once the child exits; wait() then reaps with
// waitpid WNOHANG); otherwise the SIGCHLD reaper's status pipe (sigchld_reaper.cpp). Once the
// child exists, any failure kills and reaps it before the exception leaves start().
//
// Dropped without wait(): the pipes close, SIGKILL if kill_on_drop, and a detached task reaps the
// child when its pidfd says so (SIGCHLD mode: the reaper reaps it; for a killed child the task
// waits for the reaper's end of file). If the loop ends first, a killed child is waited for
// (SIGKILL cannot be caught, so that is bounded); any other is handed to the SIGCHLD reaper
// thread, which reaps it when it exits (asyncio's threaded child watcher); only when no thread
// or fd can be had is it left a zombie until this process exits.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <coloop/process/process.hpp>
#include <coloop/runtime/spawn.hpp>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "net/pipe_streams.hpp"
#include "process/os/child_os.hpp"
#include "process/process_state.hpp"
#include "process/sigchld_reaper.hpp"
#include "runtime/context.hpp"
#include "runtime/tsan_signals.hpp"

extern char** environ;

namespace coloop {
namespace detail {
namespace {

/// Sends `sig` to a child not reaped by its process object: 0 or kill()'s errno. In SIGCHLD mode
/// the reaper thread reaps it when it exits, so only the reaper can tell that the pid is still
/// the child's (and then sends nothing).
int signal_unreaped(const process_state& s, int sig) noexcept {
  if (s.by_sigchld) return sigchld::signal_child(s.pid, sig);
  return ::kill(s.pid, sig) == 0 ? 0 : errno;
}

/// Closes the fds it holds at scope exit (those still >= 0).
struct fd_guard {
  int fds[6] = {-1, -1, -1, -1, -1, -1};
  ~fd_guard() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
};

void check_text(const std::string& s, const char* what) {
  if (s.find('\0') != std::string::npos) {
    throw std::invalid_argument(std::string("coloop::process::start: NUL byte in ") + what);
  }
}

std::size_t name_length(const std::string& entry) { return entry.find('='); }

/// The child's environment, "NAME=value" each (see process_options::inherit_env).
std::vector<std::string> environment(const process_options& options) {
  std::vector<std::string> env;
  if (options.inherit_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  }
  for (const std::string& add : options.env) {
    check_text(add, "an env entry");
    const std::size_t n = name_length(add);
    if (n == std::string::npos || n == 0) {
      throw std::invalid_argument("coloop::process::start: env entry without NAME=: \"" + add +
                                  "\"");
    }
    auto same = std::find_if(env.begin(), env.end(), [&](const std::string& e) {
      return name_length(e) == n && e.compare(0, n, add, 0, n) == 0;
    });
    if (same != env.end()) {
      *same = add;
    } else {
      env.push_back(add);
    }
  }
  return env;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

/// Reaps a child sent SIGKILL: it cannot be caught, so waiting for it is bounded.
void reap_killed(int pid) noexcept {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

task<void> reap_later(std::unique_ptr<process_state> s) {
  try {
    co_await await_exit(*s);
  } catch (...) {  // cancelled with its loop: ~process_state reaps it or hands it on
  }
}

}  // namespace

void set_status(process_state& s, int raw) noexcept {
  s.reaped = true;
  s.status = WIFSIGNALED(raw) ? exit_status(-1, WTERMSIG(raw))
                              : exit_status(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 0);
}

bool try_reap(process_state& s) {
  for (;;) {
    int raw = 0;
    const int r = ::waitpid(s.pid, &raw, WNOHANG);
    if (r > 0) {
      set_status(s, raw);
      return true;
    }
    if (r == 0) return false;
    if (errno != EINTR) throw_errno(errno, "coloop::process::wait: waitpid");
  }
}

process_state::~process_state() {
  if (reaped || pid < 0) return;
  if (by_sigchld) {
    if (killed && exit_fd.is_open()) {  // wait for the reaper's end of file, as below
      pollfd p{exit_fd.native_handle(), POLLIN, 0};
      char buf[16];
      for (;;) {
        // TSan: sliced, and the SIGCHLD it may hold for this thread let through (see
        // runtime/tsan_signals.hpp).
        ::poll(&p, 1, signal_wait_slice_ms);
        run_deferred_signal_handlers();
        const ssize_t n = ::read(p.fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
      }
    }
    return;
  }
  exit_fd.close();
  if (killed) {
    reap_killed(pid);
    return;
  }
  if (::waitpid(pid, nullptr, WNOHANG) != 0) return;  // reaped now (or ECHILD)
  // Still running, and its loop is gone: the SIGCHLD reaper thread reaps it when it exits, as
  // asyncio's threaded child watcher would (its status pipe is not needed: closed at once).
  try {
    ::close(sigchld::watch_child(pid));
  } catch (...) {  // no thread or fd to spare: a zombie until this process exits
  }
}

}  // namespace detail

process process::start(std::vector<std::string> args, const process_options& options) {
  detail::require_running_loop("coloop::process::start");  // before any child exists
  if (args.empty()) throw std::invalid_argument("coloop::process::start: empty args");
  for (const std::string& a : args) detail::check_text(a, "an argument");
  detail::check_text(options.cwd, "cwd");
  // The common case, everything inherited, passes environ itself: no copy.
  const bool own_env = !options.inherit_env || !options.env.empty();
  std::vector<std::string> env;
  if (own_env) env = detail::environment(options);
  std::vector<char*> argv;
  std::vector<char*> envp;  // used only with own_env (env is empty otherwise)
  for (std::string& a : args) argv.push_back(a.data());
  for (std::string& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  auto s = std::make_unique<detail::process_state>();  // allocated before the child exists
  s->kill_on_drop = options.kill_on_drop;

  detail::fd_guard fds;  // [i]: the child's end of stream i, [3 + i]: ours (pipes)
  const stdio_option* streams[3] = {&options.in, &options.out, &options.err};
  for (int i = 0; i < 3; ++i) {
    const stdio_option& o = *streams[i];
    if (o.how() == stdio_option::mode::pipe) {
      int p[2];
      detail::os::cloexec_pipe(p, "coloop::process::start: pipe");
      fds.fds[i] = i == 0 ? p[0] : p[1];
      fds.fds[3 + i] = i == 0 ? p[1] : p[0];
    } else if (o.how() == stdio_option::mode::fd) {
      if (o.fd() < 0) {
        throw std::invalid_argument("coloop::process::start: negative fd " +
                                    std::to_string(o.fd()) + " for stream " + std::to_string(i));
      }
      // A close-on-exec copy above 2, so dup2 onto 0-2 never meets its own source.
      fds.fds[i] = ::fcntl(o.fd(), F_DUPFD_CLOEXEC, 3);
      if (fds.fds[i] < 0) {
        detail::throw_errno(errno, "coloop::process::start: fd " + std::to_string(o.fd()));
      }
    }
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; ++i) {
    if (fds.fds[i] >= 0) {
      rc = posix_spawn_file_actions_adddup2(&actions, fds.fds[i], i);
    } else if (streams[i]->how() == stdio_option::mode::null) {
      rc = posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY,
                                            0);
    }
  }
  if (rc == 0) rc = detail::os::add_close_from(&actions, 3);  // after the dup2s onto 0-2
  if (rc == 0 && !options.cwd.empty()) {
    rc = posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }
  // Every signal back to SIG_DFL, glibc's internal ones (32, 33) included: sigfillset leaves
  // those out, and glibc's posix_spawn then sets them to SIG_IGN, which exec would keep.
  sigset_t all;
  std::memset(&all, 0xff, sizeof all);
  sigset_t none;
  sigemptyset(&none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (options.new_process_group) flags |= POSIX_SPAWN_SETPGROUP;
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  if (rc == 0) {
    rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(),
                        own_env ? envp.data() : environ);
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int i = 0; i < 3; ++i) {  // the child has its copies
    if (fds.fds[i] >= 0) ::close(std::exchange(fds.fds[i], -1));
  }
  if (rc != 0) {
    std::string what = "coloop::process::start: " + args[0];
    if (!options.cwd.empty()) what += " (cwd " + options.cwd + ")";
    detail::throw_errno(rc, what);
  }

  s->pid = pid;
  try {
    if (const int pidfd = detail::os::open_pidfd(pid); pidfd >= 0) {
      s->exit_fd = async_fd(pidfd);
    } else if (errno == ENOSYS) {
      const int status_fd = detail::sigchld::watch_child(pid);
      s->by_sigchld = true;  // the reaper owns the child from here, even if what follows throws
      s->exit_fd = async_fd(status_fd);
    } else {
      detail::throw_errno(errno, "coloop::process::start: pidfd_open");
    }
    if (fds.fds[3] >= 0) s->in = detail::make_pipe_writer(std::exchange(fds.fds[3], -1));
    if (fds.fds[4] >= 0) s->out = detail::make_pipe_reader(std::exchange(fds.fds[4], -1));
    if (fds.fds[5] >= 0) s->err = detail::make_pipe_reader(std::exchange(fds.fds[5], -1));
  } catch (...) {  // kill and reap (SIGCHLD mode: the reaper reaps) the child nobody gets
    (void)detail::signal_unreaped(*s, SIGKILL);
    if (!s->by_sigchld) detail::reap_killed(pid);
    s->reaped = true;
    throw;
  }
  return process(std::move(s));
}

process::process(std::unique_ptr<detail::process_state> s) noexcept : s_(std::move(s)) {}
process::process(process&&) noexcept = default;

process& process::operator=(process&& other) noexcept {
  if (this != &other) {
    process dropped(std::move(*this));
    s_ = std::move(other.s_);
  }
  return *this;
}

process::~process() {
  if (s_ == nullptr) return;
  if (!s_->reaped && s_->kill_on_drop) {
    (void)detail::signal_unreaped(*s_, SIGKILL);
    s_->killed = true;
  }
  // SIGCHLD mode, child left running: the reaper must find the status pipe closed (so it closes
  // its end before it reaps) whatever makes the child exit next, such as closing its stdin.
  if (s_->by_sigchld && !s_->killed) s_->exit_fd.close();
  s_->in.close();  // flushes what is buffered in the background, then the child reads EOF
  s_->out = stream_reader();
  s_->err = stream_reader();
  if (s_->reaped || !s_->exit_fd.is_open()) return;  // reaped, or left to the SIGCHLD reaper
  try {
    if (!s_->by_sigchld && detail::try_reap(*s_)) return;
    spawn(detail::reap_later(std::move(s_))).detach();
  } catch (...) {  // no loop here, or ECHILD: ~process_state deals with it
  }
}

int process::pid() const noexcept { return s_ != nullptr ? s_->pid : -1; }

namespace {
stream_writer no_writer;  // what a moved-from process hands out: valid() is false
stream_reader no_reader;
}  // namespace

stream_writer& process::stdin_pipe() noexcept { return s_ != nullptr ? s_->in : no_writer; }
stream_reader& process::stdout_pipe() noexcept { return s_ != nullptr ? s_->out : no_reader; }
stream_reader& process::stderr_pipe() noexcept { return s_ != nullptr ? s_->err : no_reader; }

void process::send_signal(int sig) {
  if (s_ == nullptr || s_->reaped) return;
  if (const int error = detail::signal_unreaped(*s_, sig); error != 0) {
    detail::throw_errno(error, "coloop::process::send_signal(" + std::to_string(sig) + ")");
  }
}

void process::terminate() { send_signal(SIGTERM); }
void process::kill() { send_signal(SIGKILL); }

}  // namespace coloop

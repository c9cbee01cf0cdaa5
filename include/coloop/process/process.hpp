#pragma once
// process: subprocesses on the event loop (asyncio.create_subprocess_exec, subprocess.run).

#include <coloop/core/task.hpp>
#include <coloop/net/stream_reader.hpp>
#include <coloop/net/stream_writer.hpp>
#include <memory>
#include <string>
#include <vector>

namespace coloop {

namespace detail {
struct process_state;
}

/// How a child ended: exit code and terminating signal (waitpid's status, decoded).
class exit_status {
 public:
  exit_status() noexcept = default;
  exit_status(int code, int signal) noexcept : code_(code), signal_(signal) {}
  /// The exit code; -1 when a signal killed the process.
  int code() const noexcept { return code_; }
  /// The signal that killed the process; 0 when it exited.
  int signal() const noexcept { return signal_; }
  /// Exited with code 0.
  bool success() const noexcept { return code_ == 0; }
  friend bool operator==(const exit_status&, const exit_status&) = default;

 private:
  int code_ = -1;
  int signal_ = 0;
};

/// What one standard stream of the child is: the parent's (inherit, the default), a pipe to
/// this process (pipe: the process's stdin_pipe / stdout_pipe / stderr_pipe), /dev/null (null),
/// or a file descriptor of the caller (from_fd: the caller keeps it and may close it once
/// start() returns).
class stdio_option {
 public:
  enum class mode : unsigned char { inherit, pipe, null, fd };
  constexpr stdio_option() noexcept = default;
  static constexpr stdio_option inherit() noexcept { return {}; }
  static constexpr stdio_option pipe() noexcept { return stdio_option(mode::pipe, -1); }
  static constexpr stdio_option null() noexcept { return stdio_option(mode::null, -1); }
  /// `fd` becomes the child's stream; start() throws std::invalid_argument for fd < 0.
  static constexpr stdio_option from_fd(int fd) noexcept { return stdio_option(mode::fd, fd); }
  constexpr mode how() const noexcept { return mode_; }
  constexpr int fd() const noexcept { return fd_; }

 private:
  constexpr stdio_option(mode m, int fd) noexcept : mode_(m), fd_(fd) {}
  mode mode_ = mode::inherit;
  int fd_ = -1;
};

/// How to start a child. A default process_options{} inherits everything.
struct process_options {
  /// The child's working directory; "" keeps the parent's.
  std::string cwd;
  /// true: the child gets this process's environment, with `env` added (an entry replaces a
  /// variable of the same name); false: `env` is the child's whole environment.
  bool inherit_env = true;
  /// "NAME=value" entries (see inherit_env).
  std::vector<std::string> env;
  stdio_option in;   ///< the child's standard input
  stdio_option out;  ///< the child's standard output
  stdio_option err;  ///< the child's standard error
  /// Start the child in a new process group of its own (its pid is the group id), so a
  /// terminal's Ctrl-C does not reach it and ::kill(-pid, sig) reaches it and its children.
  bool new_process_group = false;
  /// Destroying the process object before the child was waited for sends it SIGKILL.
  bool kill_on_drop = false;
};

/// A finished child's captured output (run_process, process::communicate).
struct process_result {
  std::string out;     ///< everything it wrote to stdout ("" unless piped)
  std::string err;     ///< everything it wrote to stderr ("" unless piped)
  exit_status status;  ///< how it ended
};

/// A child process (asyncio.subprocess.Process). Move-only; use it on the loop (or runtime) that
/// started it, one wait() or communicate() at a time, and do not move or destroy it while one
/// is pending. The exit is learned from a pidfd (Linux) or SIGCHLD (elsewhere), never by polling.
/// Destroyed before its exit was waited for, it closes its pipes, sends SIGKILL if
/// kill_on_drop, and reaps the child in the background without blocking; if the loop ends
/// first, it waits for a killed child, and the next process::start() reaps any other.
class process {
 public:
  /// Starts `args[0]` (searched in PATH when it has no '/') with `args`. The child starts with
  /// default signal dispositions, an empty signal mask and only fds 0-2. An ordinary call.
  /// Throws std::invalid_argument for empty args, a NUL byte in an argument, or an env entry
  /// without '='; std::system_error with the errno when the program cannot be started (ENOENT,
  /// EACCES, a bad cwd: nothing is left behind), std::logic_error without a running loop.
  static process start(std::vector<std::string> args, const process_options& options = {});

  process(process&&) noexcept;
  process& operator=(process&&) noexcept;
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  ~process();

  /// The child's process id (still the child's after it has been reaped).
  int pid() const noexcept;
  /// The writing end of the child's stdin (options.in = pipe; otherwise a writer whose
  /// valid() is false). write_eof() or close() gives the child end of file. A child that exits
  /// first makes writes fail with EPIPE, never SIGPIPE.
  stream_writer& stdin_pipe() noexcept;
  /// The reading end of the child's stdout / stderr (options.out / err = pipe; otherwise a
  /// reader whose valid() is false).
  stream_reader& stdout_pipe() noexcept;
  stream_reader& stderr_pipe() noexcept;

  /// Waits for the child to exit and reaps it; at once if it already was. Cancellable (the
  /// child goes on; wait again later). Throws std::system_error if the OS refuses.
  task<exit_status> wait();
  /// Writes `input` to stdin (if piped) and closes it, reads stdout and stderr (if piped) to
  /// their end, waits for the exit: asyncio's communicate(). A child that stops reading its
  /// input (EPIPE) is no error. Cancellable: the child goes on, part of the output is lost.
  task<process_result> communicate(std::string input = {});

  /// Sends signal `sig` to the child; nothing once it has been reaped (its pid may be reused).
  /// Throws std::system_error (EINVAL for a bad signal number).
  void send_signal(int sig);
  /// send_signal(SIGTERM).
  void terminate();
  /// send_signal(SIGKILL).
  void kill();

 private:
  explicit process(std::unique_ptr<detail::process_state> s) noexcept;
  std::unique_ptr<detail::process_state> s_;
};

/// subprocess.run(args, capture_output=True): starts `args` with stdout and stderr piped
/// (stdin inherited), collects both and waits. Errors as process::start; cancellable (the
/// child is killed and reaped in the background).
task<process_result> run_process(std::vector<std::string> args);
/// As above with `options` (taken by value; out and err become pipes, kill_on_drop true). Pass a
/// named options object, not a braced temporary (see the g++ 12 note in the README).
task<process_result> run_process(std::vector<std::string> args, process_options options);

}  // namespace coloop

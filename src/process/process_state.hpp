#pragma once
// What a coloop::process owns (process.cpp starts it, process_wait.cpp waits for it).

#include <coloop/io/async_fd.hpp>
#include <coloop/process/process.hpp>

namespace coloop::detail {

struct process_state {
  /// Reaps the child if it has exited, or waits for it if it was sent SIGKILL (it dies at once);
  /// otherwise (the loop ended before it) hands it to the SIGCHLD reaper thread. In SIGCHLD
  /// mode, only waits for the reaper's end of file after a SIGKILL.
  ~process_state();

  int pid = -1;
  bool by_sigchld = false;  // exit_fd is the SIGCHLD reaper's status pipe, not a pidfd
  bool reaped = false;
  bool kill_on_drop = false;
  bool killed = false;  // dropped with kill_on_drop: SIGKILL was sent
  exit_status status;
  int raw_status = 0;  // waitpid's, filled by the reap attempt
  char status_bytes[2 * sizeof(int)] = {};  // by_sigchld: status read so far, kept on cancel
  unsigned status_got = 0;
  async_fd exit_fd;  // readable once the child has exited (pidfd) or been reaped (reaper)
  stream_writer in;
  stream_reader out;
  stream_reader err;
};

/// waitpid(pid, WNOHANG) on a child this process owns, in pidfd mode; true when it was reaped
/// (s.status set). Throws std::system_error (ECHILD: reaped by someone else).
bool try_reap(process_state& s);
/// Records a raw waitpid status as s.status and marks the child reaped.
void set_status(process_state& s, int raw) noexcept;
/// Waits until the child is reaped (s.reaped, s.status set) and closes s.exit_fd. Cancellable;
/// throws std::system_error (ECHILD). Defined in process_wait.cpp.
task<void> await_exit(process_state& s);
}  // namespace coloop::detail

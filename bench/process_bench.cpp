// Starting and reaping /bin/true: coloop's process::start + wait() (posix_spawn, pidfd
// registered with the loop, waitpid once it reports) next to a bare posix_spawn + blocking
// waitpid, the floor. Both use the same spawn attributes (default dispositions, empty mask), so
// the difference is what the loop adds. Target: coloop within 1.2x of the floor.

#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include <benchmark/benchmark.h>

#include <coloop/process/process.hpp>
#include <coloop/runtime/run.hpp>
#include <string>
#include <vector>

extern char** environ;

namespace {

coloop::task<void> start_and_wait(benchmark::State& state) {
  const std::vector<std::string> args{"/bin/true"};
  for (auto _ : state) {
    coloop::process p = coloop::process::start(args);
    const coloop::exit_status st = co_await p.wait();
    if (st.code() != 0) state.SkipWithError("/bin/true failed");
  }
}

void BM_process_start_wait(benchmark::State& state) { coloop::run(start_and_wait(state)); }
BENCHMARK(BM_process_start_wait)->UseRealTime();

void BM_posix_spawn_waitpid(benchmark::State& state) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  memset(&all, 0xff, sizeof all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char arg0[] = "/bin/true";
  char* argv[] = {arg0, nullptr};
  for (auto _ : state) {
    pid_t pid = -1;
    if (posix_spawn(&pid, "/bin/true", nullptr, &attr, argv, environ) != 0) {
      state.SkipWithError("posix_spawn failed");
      break;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (status != 0) state.SkipWithError("/bin/true failed");
  }
  posix_spawnattr_destroy(&attr);
}
BENCHMARK(BM_posix_spawn_waitpid)->UseRealTime();

}  // namespace

// signal_child: the far side of signal_delivery_test. It sets up the scenario its argument
// names, creates a signal_set{SIGINT, SIGTERM}, prints "ready", and prints "signal N" once the
// signal sent from outside arrives, then exits 0. Killed by the signal instead, it prints nothing.
//   pool     an event loop whose default pool has started a thread before the set exists
//   runtime  coloop::run(main(), {.workers = 2})
//   ignored  as runtime, started with SIGINT ignored (a background job of a non-interactive
//            shell); also prints "ignored again" when closing the set put SIG_IGN back

#include <signal.h>

#include <coloop/coloop.hpp>
#include <coloop/process/signal_set.hpp>
#include <cstdio>
#include <cstring>

namespace {

void nothing() {}

coloop::task<int> await_signal(bool start_pool) {
  if (start_pool) co_await coloop::to_thread(nothing);  // its thread idles on for 10 s
  coloop::signal_set set{SIGINT, SIGTERM};
  std::printf("ready\n");
  std::fflush(stdout);
  co_return co_await set.wait();
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  const bool ignored = std::strcmp(mode, "ignored") == 0;
  if (ignored) ::signal(SIGINT, SIG_IGN);
  int signo = 0;
  if (std::strcmp(mode, "pool") == 0) {
    signo = coloop::run(await_signal(true));
  } else if (ignored || std::strcmp(mode, "runtime") == 0) {
    signo = coloop::run(await_signal(false), {.workers = 2});
  } else {
    std::fprintf(stderr, "usage: signal_child pool|runtime|ignored\n");
    return 2;
  }
  std::printf("signal %d\n", signo);
  struct sigaction now {};
  ::sigaction(SIGINT, nullptr, &now);
  if (ignored && now.sa_handler == SIG_IGN) std::printf("ignored again\n");
  return 0;
}

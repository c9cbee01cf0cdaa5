// timeouts: wait_for, cancellation and cleanup, asyncio style.

#include <chrono>
#include <coloop/coloop.hpp>
#include <cstdio>

using namespace std::chrono_literals;

coloop::task<void> slow_job() {
  try {
    co_await coloop::sleep_for(10s);
  } catch (const coloop::cancelled_error&) {
    std::printf("slow_job: cancelled, cleaning up\n");
    throw;
  }
}

coloop::task<int> main_task() {
  try {
    co_await coloop::wait_for(slow_job(), 50ms);
  } catch (const coloop::timeout_error& e) {
    std::printf("wait_for: %s\n", e.what());
  }
  auto job = coloop::spawn(slow_job());
  co_await coloop::sleep_for(10ms);
  job.cancel();
  try {
    co_await std::move(job);
  } catch (const coloop::cancelled_error&) {
    std::printf("join: the job ended cancelled\n");
  }
  co_return 0;
}

int main() { return coloop::run(main_task()); }

// hello: tasks, spawn, gather and sleep on coloop's event loop.

#include <chrono>
#include <coloop/coloop.hpp>
#include <cstdio>

using namespace std::chrono_literals;

coloop::task<int> greet(const char* name, std::chrono::milliseconds delay) {
  co_await coloop::sleep_for(delay);
  std::printf("hello from %s after %lld ms\n", name, static_cast<long long>(delay.count()));
  co_return static_cast<int>(delay.count());
}

coloop::task<int> main_task() {
  auto background = coloop::spawn(greet("a spawned task", 30ms));
  auto [a, b] = co_await coloop::when_all(greet("when_all #1", 10ms), greet("when_all #2", 20ms));
  const int c = co_await std::move(background);
  co_return a + b + c;
}

int main() {
  std::printf("coloop %s\n", coloop::version());
  const int total = coloop::run(main_task());
  std::printf("total delay: %d ms\n", total);
  return total == 60 ? 0 : 1;
}

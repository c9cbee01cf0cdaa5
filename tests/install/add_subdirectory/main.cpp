// A small consumer: proves headers, the generated version.hpp and the library are all reachable
// and come from the same build (a stale install would differ), and that a loop runs on every
// compiled-in backend, so a static libcoloop's backend dependencies (libuv) reach the link too.
#include <coloop/coloop.hpp>
#include <coloop/version.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace {
coloop::task<int> answer() {
  co_await coloop::sleep_for(std::chrono::milliseconds(1));
  co_return 42;
}
}  // namespace

int main() {
  const char* linked = coloop::version();
  std::printf("coloop %s (headers %s)\n", linked, COLOOP_VERSION_STRING);
  if (std::strcmp(linked, COLOOP_VERSION_STRING) != 0) return 1;
  for (coloop::backend b : coloop::available_backends()) {
    if (coloop::run(answer(), {.backend = b}) != 42) return 1;
    std::printf("backend %s: ok\n", std::string(coloop::to_string(b)).c_str());
  }
  return 0;
}

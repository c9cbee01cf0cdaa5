// Smallest possible consumer: proves headers, the generated version.hpp and the library are all
// reachable, and that they come from the same build (a stale install would differ).
#include <coloop/version.hpp>
#include <cstdio>
#include <cstring>

int main() {
  const char* linked = coloop::version();
  std::printf("coloop %s (headers %s)\n", linked, COLOOP_VERSION_STRING);
  return std::strcmp(linked, COLOOP_VERSION_STRING) == 0 ? 0 : 1;
}

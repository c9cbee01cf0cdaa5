// multi_thread: fan CPU work out over the work-stealing runtime and gather the results.
//
//   multi_thread [--workers N] [--chunks K]
//
// Counts the primes below 2,000,000 in K chunks, each a spawned task; the runtime's workers
// steal chunks from each other, and the joins gather the partial counts. Prints the total, the
// time, and how many distinct worker threads ran a chunk.

#include <chrono>
#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr long limit = 2'000'000;

bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

struct thread_log {
  std::mutex mutex;
  std::set<std::thread::id> seen;
};

coloop::task<long> count_primes(long from, long to, thread_log& log) {
  {
    std::lock_guard lock(log.mutex);
    log.seen.insert(std::this_thread::get_id());
  }
  long n = 0;
  for (long i = from; i < to; ++i) n += is_prime(i) ? 1 : 0;
  co_return n;
}

coloop::task<long> fan_out(long chunks, thread_log& log) {
  std::vector<coloop::join_handle<long>> parts;
  for (long c = 0; c < chunks; ++c) {
    parts.push_back(coloop::spawn(count_primes(limit * c / chunks, limit * (c + 1) / chunks, log)));
  }
  long total = 0;
  for (auto& p : parts) total += co_await std::move(p);
  co_return total;
}

long parse(const char* flag, const char* text, long min, long max) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "multi_thread: %s wants a number in %ld..%ld, got '%s'\n", flag, min, max,
                 text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  long workers = static_cast<long>(std::max(1u, std::thread::hardware_concurrency()));
  long chunks = 64;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--workers") == 0 && has_value) {
      workers = parse("--workers", argv[++i], 1, 1024);
    } else if (std::strcmp(argv[i], "--chunks") == 0 && has_value) {
      chunks = parse("--chunks", argv[++i], 1, 100000);
    } else {
      std::fprintf(stderr, "usage: multi_thread [--workers N] [--chunks K]\n");
      return 2;
    }
  }
  thread_log log;
  const auto start = std::chrono::steady_clock::now();
  coloop::runtime rt({.workers = static_cast<unsigned>(workers)});
  const long primes = rt.block_on(fan_out(chunks, log));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start).count();
  std::printf(
      "primes below %ld: %ld (%ld chunks on %ld workers, %zu threads ran chunks, %lld ms)\n", limit,
      primes, chunks, workers, log.seen.size(), static_cast<long long>(ms));
  return primes == 148933 ? 0 : 1;
}

// Scheduler benchmarks (BENCHMARKS.md, "Scheduler benchmarks"): one benchmark on one flavour per
// process, so the peak RSS printed (VmHWM) belongs to that benchmark alone. Every result is
// checked (sums, counts, depths); a wrong one prints "ok": false and exits 1.
//
//   coloop_sched_bench --list                 the (benchmark, flavour) pairs this build can run
//   coloop_sched_bench BENCH FLAVOUR [--quick] [--no-warmup]
//
// Prints one JSON line. Flavours: event_loop (coloop::run), runtime1 / runtime2 (the work-stealing
// runtime, once it exists: see flavour.hpp), tbb1 / tbb2 (oneTBB task_group in a task_arena of 1
// or 2 threads; skynet and fib only), raw (`wake`'s eventfd reference alone; `wake` and
// `wake_pinned` on a coloop flavour measure it too, interleaved, as ref_ns_per_op), none
// (`baseline`: a process that does nothing, for the RSS floor). bench/sched/run.py runs them all.

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include <coloop/core/future.hpp>
#include <coloop/core/task.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>

#include "flavour.hpp"

#if COLOOP_SCHED_BENCH_HAS_TBB
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#endif

namespace {

using bench_clock = std::chrono::steady_clock;

double ns_since(bench_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count();
}

struct params {
  bool quick = false;
};

/// What one timed run produced. ns covers `iters` repetitions of the benchmark's shape, each of
/// `ops` operations (spawns, yields, hops, round trips).
struct measured {
  double ns = 0;
  long iters = 1;
  long ops = 1;
  bool ok = false;
  std::string check;
  double ref_ns = -1;  // wake: the raw eventfd reference over as many round trips
};

measured make_result(double ns, long iters, long ops, bool ok, std::string check) {
  measured m;
  m.ns = ns;
  m.iters = iters;
  m.ops = ops;
  m.ok = ok;
  m.check = std::move(check);
  return m;
}

// ---- skynet: 1M leaves, 10-way spawn tree, the sum returned up the tree --------------------

constexpr long skynet_leaves = 1'000'000;
constexpr long skynet_spawns = 1'111'111;  // every node, the root included
constexpr long skynet_sum = skynet_leaves * (skynet_leaves - 1) / 2;  // 499999500000

coloop::task<long> skynet(long num, long size) {
  if (size == 1) co_return num;
  const long sub = size / 10;
  std::array<coloop::join_handle<long>, 10> children;
  for (std::size_t i = 0; i < 10; ++i) {
    children[i] = coloop::spawn(skynet(num + static_cast<long>(i) * sub, sub));
  }
  long sum = 0;
  for (auto& c : children) sum += co_await c;
  co_return sum;
}

coloop::task<measured> skynet_main(params) {
  const auto t0 = bench_clock::now();
  const long sum = co_await coloop::spawn(skynet(0, skynet_leaves));
  const double ns = ns_since(t0);
  co_return make_result(ns, 1, skynet_spawns, sum == skynet_sum, "sum=" + std::to_string(sum));
}

// ---- fib(30) with a spawn per call ----------------------------------------------------------

constexpr int fib_n = 30;
constexpr long fib_value = 832040;
constexpr long fib_calls = 2'692'537;  // 2 * fib(31) - 1: every call is spawned, the root too

coloop::task<long> fib(int n) {
  if (n < 2) co_return n;
  auto a = coloop::spawn(fib(n - 1));
  auto b = coloop::spawn(fib(n - 2));
  const long x = co_await a;
  const long y = co_await b;
  co_return x + y;
}

coloop::task<measured> fib_main(params) {
  const auto t0 = bench_clock::now();
  const long v = co_await coloop::spawn(fib(fib_n));
  const double ns = ns_since(t0);
  co_return make_result(ns, 1, fib_calls, v == fib_value, "fib(30)=" + std::to_string(v));
}

// ---- spawn_many_local: 10k spawns from inside the scheduler, all joined ---------------------

constexpr long many = 10'000;

coloop::task<long> counted_leaf(std::atomic<long>* count) {
  count->fetch_add(1, std::memory_order_relaxed);
  co_return 1;
}

coloop::task<measured> spawn_many_local_main(params p) {
  const long iters = p.quick ? 5 : 50;
  std::atomic<long> count{0};
  long joined = 0;
  std::vector<coloop::join_handle<long>> handles;
  handles.reserve(many);
  const auto t0 = bench_clock::now();
  for (long it = 0; it < iters; ++it) {
    for (long i = 0; i < many; ++i) handles.push_back(coloop::spawn(counted_leaf(&count)));
    for (auto& h : handles) joined += co_await h;
    handles.clear();
  }
  const double ns = ns_since(t0);
  const long ran = count.load();
  co_return make_result(ns, iters, many, joined == iters * many && ran == iters * many,
                        "joined=" + std::to_string(joined) + " ran=" + std::to_string(ran));
}

// ---- spawn_many_remote: 10k spawns from a thread outside the scheduler ----------------------

struct remote_batch {
  std::atomic<long> count{0};
  std::atomic<long> left{0};
  std::atomic<coloop::promise<void>*> done{nullptr};
};

coloop::task<void> remote_leaf(remote_batch* b) {
  b->count.fetch_add(1, std::memory_order_relaxed);
  if (b->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    b->done.load(std::memory_order_acquire)->set_value();
  }
  co_return;
}

coloop::task<measured> spawn_many_remote_main(coloop_sched::remote* r, params p) {
  const long iters = p.quick ? 2 : 20;
  remote_batch batch;
  std::vector<coloop::promise<void>> promises(static_cast<std::size_t>(iters));
  std::counting_semaphore<> go(0);
  std::atomic<bool> quit{false};
  std::thread spawner([&] {
    for (;;) {
      go.acquire();
      if (quit.load()) return;
      for (long i = 0; i < many; ++i) r->spawn(remote_leaf(&batch));
    }
  });
  double ns = 0;
  for (long it = 0; it < iters; ++it) {
    coloop::future<void> f = promises[static_cast<std::size_t>(it)].get_future();
    batch.left.store(many);
    batch.done.store(&promises[static_cast<std::size_t>(it)]);
    const auto t0 = bench_clock::now();
    go.release();
    co_await f;
    ns += ns_since(t0);
  }
  quit.store(true);
  go.release();
  spawner.join();
  const long ran = batch.count.load();
  co_return make_result(ns, iters, many, ran == iters * many, "ran=" + std::to_string(ran));
}

// ---- ping_pong: 1000 pairs bouncing a message through one-shot promise/future mailboxes ------

constexpr std::size_t pairs = 1000;
constexpr int round_trips = 10;  // per pair: 20 one-way hops

/// A one-slot channel made of futures: the receiver re-arms it after each message, before it
/// answers, so the sender never finds it full.
struct mailbox {
  coloop::promise<long> p;
  coloop::future<long> f = p.get_future();
  void rearm() {
    p = coloop::promise<long>();
    f = p.get_future();
  }
};

struct pair_state {
  mailbox to_pong, to_ping;
};

coloop::task<long> pinger(pair_state* s) {
  long v = 0;
  for (int i = 0; i < round_trips; ++i) {
    s->to_pong.p.set_value(v);
    v = co_await s->to_ping.f;
    s->to_ping.rearm();
  }
  co_return v;
}

coloop::task<void> ponger(pair_state* s) {
  for (int i = 0; i < round_trips; ++i) {
    const long v = co_await s->to_pong.f;
    s->to_pong.rearm();
    s->to_ping.p.set_value(v + 1);
  }
}

coloop::task<measured> ping_pong_main(params p) {
  const long iters = p.quick ? 1 : 10;
  long total = 0;
  double ns = 0;
  std::vector<coloop::join_handle<long>> pings;
  std::vector<coloop::join_handle<void>> pongs;
  pings.reserve(pairs);
  pongs.reserve(pairs);
  for (long it = 0; it < iters; ++it) {
    auto states = std::make_unique<pair_state[]>(pairs);
    const auto t0 = bench_clock::now();
    for (std::size_t i = 0; i < pairs; ++i) {
      pongs.push_back(coloop::spawn(ponger(&states[i])));
      pings.push_back(coloop::spawn(pinger(&states[i])));
    }
    for (auto& h : pings) total += co_await h;
    for (auto& h : pongs) co_await h;
    ns += ns_since(t0);
    pings.clear();
    pongs.clear();
  }
  const long n_pairs = static_cast<long>(pairs);
  co_return make_result(ns, iters, n_pairs * round_trips * 2,
                        total == iters * n_pairs * round_trips,
                        "round_trips=" + std::to_string(total));
}

// ---- yield_many: 200 tasks x 1000 yields ----------------------------------------------------

constexpr long yield_tasks = 200;
constexpr long yields_each = 1000;

coloop::task<long> yielder() {
  long n = 0;
  for (long i = 0; i < yields_each; ++i) {
    co_await coloop::yield();
    ++n;
  }
  co_return n;
}

coloop::task<measured> yield_many_main(params p) {
  const long iters = p.quick ? 1 : 5;
  long total = 0;
  std::vector<coloop::join_handle<long>> hs;
  hs.reserve(yield_tasks);
  const auto t0 = bench_clock::now();
  for (long it = 0; it < iters; ++it) {
    for (long i = 0; i < yield_tasks; ++i) hs.push_back(coloop::spawn(yielder()));
    for (auto& h : hs) total += co_await h;
    hs.clear();
  }
  const double ns = ns_since(t0);
  co_return make_result(ns, iters, yield_tasks * yields_each,
                        total == iters * yield_tasks * yields_each,
                        "yields=" + std::to_string(total));
}

// ---- chained_spawn: a chain of 1000 spawns, each spawning the next --------------------------

constexpr long chain_length = 1000;

coloop::task<void> chain_link(long depth, coloop::promise<long>* done) {
  if (depth == chain_length) {
    done->set_value(depth);
    co_return;
  }
  coloop::spawn(chain_link(depth + 1, done)).detach();
}

coloop::task<measured> chained_spawn_main(params p) {
  const long iters = p.quick ? 10 : 500;
  bool ok = true;
  long last = 0;
  const auto t0 = bench_clock::now();
  for (long it = 0; it < iters; ++it) {
    coloop::promise<long> done;
    coloop::future<long> f = done.get_future();
    coloop::spawn(chain_link(1, &done)).detach();  // link 1 of 1000
    last = co_await f;
    ok = ok && last == chain_length;
  }
  const double ns = ns_since(t0);
  co_return make_result(ns, iters, chain_length, ok, "depth=" + std::to_string(last));
}

// ---- wake: cross-thread wake round trip, beside the raw eventfd reference --------------------
//
// Cross-thread wake-ups cost anywhere from ~6 to ~100 µs here depending on what the other CPU is
// doing, so the reference is measured in the same process, in blocks interleaved with the
// scheduler's: `ref_ns` in the output is the raw eventfd time of as many round trips.

long wake_trips(const params& p) { return p.quick ? 200 : 2000; }

/// wake_pinned: the scheduler's threads (pinned before it starts) and the raw eventfd peer run on
/// the first CPU, the foreign thread on the last, so that every wake-up crosses CPUs in both
/// measurements (unpinned, the kernel sometimes co-locates one pair and not the other).
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
}
int last_cpu() { return static_cast<int>(std::thread::hardware_concurrency()) - 1; }
constexpr long wake_warmup = 100;
constexpr long wake_blocks = 10;

void eventfd_signal(int fd) {
  const std::uint64_t one = 1;
  if (::write(fd, &one, sizeof one) != sizeof one) std::abort();
}
void eventfd_wait(int fd) {
  std::uint64_t v = 0;
  if (::read(fd, &v, sizeof v) != sizeof v) std::abort();
}

/// Two threads bouncing a token through two eventfds: two blocking wake-ups per round trip.
class eventfd_pair {
 public:
  explicit eventfd_pair(bool pinned) : peer_([this, pinned] {
    if (pinned) pin_to(0);
    echo();
  }) {}
  ~eventfd_pair() {
    quit_.store(true);
    eventfd_signal(ping_);
    peer_.join();
    ::close(ping_);
    ::close(pong_);
  }
  void round_trip() {
    eventfd_signal(ping_);
    eventfd_wait(pong_);
  }
  long echoed() const { return echoed_.load(); }

 private:
  void echo() {
    for (;;) {
      eventfd_wait(ping_);
      if (quit_.load()) return;
      echoed_.fetch_add(1, std::memory_order_relaxed);
      eventfd_signal(pong_);
    }
  }
  int ping_ = ::eventfd(0, EFD_CLOEXEC);
  int pong_ = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<bool> quit_{false};
  std::atomic<long> echoed_{0};
  std::thread peer_;
};

/// A foreign thread posts a callback to the (idle, parked) scheduler and blocks on an eventfd
/// until the callback signals it back: one scheduler wake-up plus one eventfd wake-up. In
/// between, it runs the same number of raw eventfd round trips.
coloop::task<measured> wake_main(coloop_sched::remote* r, params p, bool pinned) {
  const long n = wake_trips(p);
  const long per_block = n / wake_blocks;
  const int back = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<long> ran{0};
  long echoed = 0;
  coloop::promise<std::array<double, 2>> done;
  coloop::future<std::array<double, 2>> f = done.get_future();
  std::thread foreign([&] {
    if (pinned) pin_to(last_cpu());
    eventfd_pair raw(pinned);
    auto trip = [&] {
      r->post([back, &ran] {
        ran.fetch_add(1, std::memory_order_relaxed);
        eventfd_signal(back);
      });
      eventfd_wait(back);
    };
    for (long i = 0; i < wake_warmup; ++i) {
      trip();
      raw.round_trip();
    }
    std::array<double, 2> ns{0, 0};  // scheduler, raw
    for (long b = 0; b < wake_blocks; ++b) {
      auto t0 = bench_clock::now();
      for (long i = 0; i < per_block; ++i) trip();
      ns[0] += ns_since(t0);
      t0 = bench_clock::now();
      for (long i = 0; i < per_block; ++i) raw.round_trip();
      ns[1] += ns_since(t0);
    }
    echoed = raw.echoed();
    done.set_value(ns);
  });
  const std::array<double, 2> ns = co_await f;
  foreign.join();
  ::close(back);
  const long got = ran.load();
  const long expect = per_block * wake_blocks + wake_warmup;
  measured m =
      make_result(ns[0], 1, per_block * wake_blocks, got == expect && echoed == expect,
                  "callbacks=" + std::to_string(got) + " echoed=" + std::to_string(echoed));
  m.ref_ns = ns[1];
  co_return m;
}

/// The reference alone (not listed; run.py uses the interleaved one above).
measured raw_eventfd(const params& p) {
  const long n = wake_trips(p);
  long echoed = 0;
  double ns = 0;
  {
    eventfd_pair raw(false);
    for (long i = 0; i < wake_warmup; ++i) raw.round_trip();
    const auto t0 = bench_clock::now();
    for (long i = 0; i < n; ++i) raw.round_trip();
    ns = ns_since(t0);
    echoed = raw.echoed();
  }
  return make_result(ns, 1, n, echoed == n + wake_warmup, "echoed=" + std::to_string(echoed));
}

// ---- oneTBB task_group peers ----------------------------------------------------------------

#if COLOOP_SCHED_BENCH_HAS_TBB
long tbb_skynet(long num, long size) {
  if (size == 1) return num;
  const long sub = size / 10;
  std::array<long, 10> results{};
  tbb::task_group g;
  for (std::size_t i = 0; i < 10; ++i) {
    g.run([&results, i, num, sub] {
      results[i] = tbb_skynet(num + static_cast<long>(i) * sub, sub);
    });
  }
  g.wait();
  long sum = 0;
  for (long v : results) sum += v;
  return sum;
}

long tbb_fib(int n) {
  if (n < 2) return n;
  long x = 0, y = 0;
  tbb::task_group g;
  g.run([&x, n] { x = tbb_fib(n - 1); });
  g.run([&y, n] { y = tbb_fib(n - 2); });
  g.wait();
  return x + y;
}

template <class F>
measured in_tbb_arena(int threads, F body) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  measured m;
  arena.execute([&] { m = body(); });
  return m;
}

measured tbb_bench(const std::string& bench, int threads) {
  if (bench == "skynet") {
    return in_tbb_arena(threads, [] {
      const auto t0 = bench_clock::now();
      long sum = 0;
      tbb::task_group root;
      root.run([&sum] { sum = tbb_skynet(0, skynet_leaves); });
      root.wait();
      const double ns = ns_since(t0);
      return make_result(ns, 1, skynet_spawns, sum == skynet_sum, "sum=" + std::to_string(sum));
    });
  }
  return in_tbb_arena(threads, [] {
    const auto t0 = bench_clock::now();
    long v = 0;
    tbb::task_group root;
    root.run([&v] { v = tbb_fib(fib_n); });
    root.wait();
    const double ns = ns_since(t0);
    return make_result(ns, 1, fib_calls, v == fib_value, "fib(30)=" + std::to_string(v));
  });
}
#endif

// ---- the command line -----------------------------------------------------------------------

struct bench_info {
  const char* name;
  const char* op;  // what one op is
  bool tbb;        // has oneTBB peers
};

constexpr std::array<bench_info, 10> benches{{
    {"skynet", "spawn", true},
    {"fib", "spawn", true},
    {"spawn_many_local", "spawn", false},
    {"spawn_many_remote", "spawn", false},
    {"ping_pong", "hop", false},
    {"yield_many", "yield", false},
    {"chained_spawn", "spawn", false},
    {"wake", "round trip", false},
    {"wake_pinned", "round trip", false},
    {"baseline", "-", false},
}};

measured run_coloop(const std::string& bench, const coloop_sched::flavour& f, const params& p) {
  using coloop_sched::block_on;
  if (bench == "skynet") return block_on(f, skynet_main(p));
  if (bench == "fib") return block_on(f, fib_main(p));
  if (bench == "spawn_many_local") return block_on(f, spawn_many_local_main(p));
  if (bench == "ping_pong") return block_on(f, ping_pong_main(p));
  if (bench == "yield_many") return block_on(f, yield_many_main(p));
  if (bench == "chained_spawn") return block_on(f, chained_spawn_main(p));
  coloop_sched::remote r;
  if (bench == "spawn_many_remote") return block_on(f, spawn_many_remote_main(&r, p), &r);
  const bool pinned = bench == "wake_pinned" && last_cpu() > 0;
  if (pinned) pin_to(0);  // before block_on, so that the scheduler's threads inherit it
  return block_on(f, wake_main(&r, p, pinned), &r);  // wake, wake_pinned
}

long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void list() {
  for (const auto& b : benches) {
    const std::string name = b.name;
    if (name == "baseline") {
      std::printf("baseline none\n");
      continue;
    }
    for (const auto& f : coloop_sched::coloop_flavours()) std::printf("%s %s\n", b.name, f.name);
#if COLOOP_SCHED_BENCH_HAS_TBB
    if (b.tbb) std::printf("%s tbb1\n%s tbb2\n", b.name, b.name);
#endif
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: coloop_sched_bench --list | BENCH FLAVOUR [--quick] [--no-warmup]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    list();
    return 0;
  }
  if (argc < 3) return usage();
  const std::string bench = argv[1];
  const std::string fl = argv[2];
  params p;
  bool warmup = true;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      p.quick = true;
      warmup = false;
    } else if (std::strcmp(argv[i], "--no-warmup") == 0) {
      warmup = false;
    } else {
      return usage();
    }
  }
  const bench_info* info = nullptr;
  for (const auto& b : benches) {
    if (bench == b.name) info = &b;
  }
  if (info == nullptr) return usage();

  // Resolve the flavour to a runner and a thread count.
  std::function<measured()> once;
  int threads = 1;
  if (bench == "baseline") {
    if (fl != "none") return usage();
    once = [] { return make_result(0, 1, 1, true, "-"); };
    warmup = false;
  } else if (fl == "raw") {
    if (bench != "wake") return usage();
    threads = 2;
    once = [&p] { return raw_eventfd(p); };
  } else if (fl == "tbb1" || fl == "tbb2") {
#if COLOOP_SCHED_BENCH_HAS_TBB
    if (!info->tbb) return usage();
    threads = fl == "tbb1" ? 1 : 2;
    once = [&bench, threads] { return tbb_bench(bench, threads); };
#else
    std::fprintf(stderr, "coloop_sched_bench: built without oneTBB (libtbb-dev)\n");
    return 3;
#endif
  } else {
    const coloop_sched::flavour* chosen = nullptr;
    static const auto all = coloop_sched::coloop_flavours();
    for (const auto& f : all) {
      if (fl == f.name) chosen = &f;
    }
    if (chosen == nullptr) {
      std::fprintf(stderr, "coloop_sched_bench: flavour %s not built in\n", fl.c_str());
      return 3;
    }
    threads = chosen->workers;
    once = [&bench, chosen, &p] { return run_coloop(bench, *chosen, p); };
  }

  if (warmup) once();
  const measured m = once();
  std::printf(
      "{\"bench\": \"%s\", \"flavour\": \"%s\", \"threads\": %d, \"iters\": %ld, "
      "\"ops_per_iter\": %ld, \"op\": \"%s\", \"ns_per_iter\": %.1f, \"ns_per_op\": %.3f, "
      "\"ref_ns_per_op\": %.3f, \"peak_rss_kb\": %ld, \"ok\": %s, \"check\": \"%s\", "
      "\"quick\": %s}\n",
      bench.c_str(), fl.c_str(), threads, m.iters, m.ops, info->op,
      m.ns / static_cast<double>(m.iters), m.ns / static_cast<double>(m.iters * m.ops),
      m.ref_ns < 0 ? -1.0 : m.ref_ns / static_cast<double>(m.iters * m.ops), peak_rss_kb(),
      m.ok ? "true" : "false", m.check.c_str(), p.quick ? "true" : "false");
  return m.ok ? 0 : 1;
}

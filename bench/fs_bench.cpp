// 4 KiB random reads of a 256 MiB file whose pages are all cached: coloop::file::read_at on an
// io_uring event loop (SQEs), on an epoll loop (the blocking pool) and on the io_uring runtime,
// one read at a time and 64 in flight, next to pread(2) in a plain loop (the floor: no scheduler at
// all). The file is made under /tmp on first use and removed at exit. The CPU column is the whole
// process's (pool threads and io_uring's io-wq workers included): on a loaded machine real time
// mostly says how many threads competed for the cores, CPU time says what a read costs.

#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <coloop/core/task.hpp>
#include <coloop/fs/file.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/spawn.hpp>

namespace {

constexpr std::uint64_t file_size = 256ull << 20;
constexpr std::size_t block = 4096;
constexpr std::uint64_t blocks = file_size / block;
constexpr int reads_per_task = 16;  // per benchmark iteration, in the 64-in-flight case

/// The 256 MiB file, written and read once (so every page is cached), unlinked at exit.
class bench_file {
 public:
  bench_file() {
    char tmpl[] = "/tmp/coloop-fs-bench-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) std::abort();
    path_ = tmpl;
    std::vector<char> chunk(1 << 20);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 131);
    for (std::uint64_t off = 0; off < file_size; off += chunk.size()) {
      if (::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) std::abort();
    }
    for (std::uint64_t off = 0; off < file_size; off += chunk.size()) {  // warm the cache
      if (::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) std::abort();
    }
    ::close(fd);
  }
  ~bench_file() { ::unlink(path_.c_str()); }
  bench_file(const bench_file&) = delete;
  bench_file& operator=(const bench_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& the_file() {
  static bench_file f;
  return f.path();
}

/// xorshift64: a random block offset per read, cheap next to the read.
std::uint64_t next_offset(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return (s % blocks) * block;
}

void BM_pread_loop(benchmark::State& state) {
  const int fd = ::open(the_file().c_str(), O_RDONLY | O_CLOEXEC);
  char buf[block];
  std::uint64_t seed = 88172645463325252ull;
  for (auto _ : state) {
    if (::pread(fd, buf, block, static_cast<off_t>(next_offset(seed))) != block) {
      state.SkipWithError("short pread");
      break;
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pread_loop)->UseRealTime()->MeasureProcessCPUTime();

coloop::task<void> reader(coloop::file* f, std::uint64_t seed, int reads) {
  char buf[block];
  for (int i = 0; i < reads; ++i) {
    const std::size_t n = co_await f->read_at(buf, block, next_offset(seed));
    if (n != block) std::abort();
  }
}

coloop::task<void> read_loop(benchmark::State& state, int in_flight) {
  coloop::file f = co_await coloop::file::open(the_file());
  std::uint64_t seed = 88172645463325252ull;
  char buf[block];
  for (auto _ : state) {
    if (in_flight == 1) {
      const std::size_t n = co_await f.read_at(buf, block, next_offset(seed));
      if (n != block) state.SkipWithError("short read");
      continue;
    }
    std::vector<coloop::join_handle<void>> readers;
    readers.reserve(static_cast<std::size_t>(in_flight));
    for (int i = 0; i < in_flight; ++i) {
      readers.push_back(
          coloop::spawn(reader, &f, seed + static_cast<std::uint64_t>(i) * 7919, reads_per_task));
    }
    seed = seed * 6364136223846793005ull + 1;
    for (auto& r : readers) co_await std::move(r);
  }
  co_await f.close();
  const long per_iteration = in_flight == 1 ? 1 : static_cast<long>(in_flight) * reads_per_task;
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

/// range(0): 0 = an epoll loop (the calls go to the blocking pool), 1 = an io_uring loop (SQEs),
/// 2 = the io_uring runtime with 2 workers (SQEs on the shared ring); range(1): reads in flight.
void BM_file_read_at(benchmark::State& state) {
  (void)the_file();
  coloop::loop_options options;
  options.backend = state.range(0) >= 1 ? coloop::backend::io_uring : coloop::backend::epoll;
  if (state.range(0) == 2) options.workers = 2;
  const char* labels[] = {"pool", "io_uring", "io_uring runtime"};
  state.SetLabel(labels[state.range(0)]);
  try {
    coloop::run(read_loop(state, static_cast<int>(state.range(1))), options);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}
BENCHMARK(BM_file_read_at)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->ArgNames({"path", "in_flight"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 64})
    ->Args({1, 64})
    ->Args({2, 64});

}  // namespace

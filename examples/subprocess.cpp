// subprocess: a shell pipeline run through coloop's streams, `seq 1 N | sort -rn | head -n K`.
//
//   subprocess [--count N] [--lines K]
//
// seq's stdout is read by this process and written into sort's stdin chunk by chunk, drain()
// keeping at most a pipe's worth in memory; the first K lines of sort's output are printed, and
// then sort's stdout is dropped, as head does. Exit status 0 when both children ended well
// (sort may die of SIGPIPE once nobody reads it, as it would under head).

#include <signal.h>

#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

coloop::task<int> pipeline(long count, long lines) {
  coloop::process_options seq_options;
  seq_options.out = coloop::stdio_option::pipe();
  const std::vector<std::string> seq_args{"seq", "1", std::to_string(count)};
  coloop::process seq = coloop::process::start(seq_args, seq_options);

  coloop::process_options sort_options;
  sort_options.in = coloop::stdio_option::pipe();
  sort_options.out = coloop::stdio_option::pipe();
  const std::vector<std::string> sort_args{"sort", "-rn"};
  coloop::process sort = coloop::process::start(sort_args, sort_options);

  // seq | sort, through this process.
  coloop::stream_reader& from = seq.stdout_pipe();
  coloop::stream_writer& into = sort.stdin_pipe();
  for (;;) {
    const std::string chunk = co_await from.read(64 * 1024);
    if (chunk.empty()) break;
    into.write(chunk);
    co_await into.drain();
  }
  into.close();  // sort sees end of input and starts writing
  co_await into.wait_closed();

  // | head -n K
  for (long i = 0; i < lines; ++i) {
    const std::string line = co_await sort.stdout_pipe().read_line();
    if (line.empty()) break;
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  sort.stdout_pipe() = coloop::stream_reader();  // closes our end, as head exits

  const coloop::exit_status seq_status = co_await seq.wait();
  const coloop::exit_status sort_status = co_await sort.wait();
  const bool ok =
      seq_status.success() && (sort_status.success() || sort_status.signal() == SIGPIPE);
  if (!ok) {
    std::fprintf(stderr, "subprocess: seq exited %d (signal %d), sort exited %d (signal %d)\n",
                 seq_status.code(), seq_status.signal(), sort_status.code(), sort_status.signal());
  }
  co_return ok ? 0 : 1;
}

long parse(const char* flag, const char* text, long min, long max) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "subprocess: %s wants a number in %ld..%ld, got '%s'\n", flag, min, max,
                 text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  long count = 1000;
  long lines = 5;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--count") == 0 && has_value) {
      count = parse("--count", argv[++i], 1, 100'000'000);
    } else if (std::strcmp(argv[i], "--lines") == 0 && has_value) {
      lines = parse("--lines", argv[++i], 0, 100'000'000);
    } else {
      std::fprintf(stderr, "usage: subprocess [--count N] [--lines K]\n");
      return 2;
    }
  }
  try {
    return coloop::run(pipeline(count, lines));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "subprocess: %s\n", e.what());
    return 1;
  }
}

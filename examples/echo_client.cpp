// echo_client: sends messages to an echo server and checks every byte that comes back.
//
//   echo_client --port P [--host 127.0.0.1] [--count N] [--size BYTES] [--timeout SECONDS]
//
// Exits 0 when all N round trips came back intact, 1 on a mismatch, an error or a timeout (each
// connect and each round trip gets --timeout, through coloop::wait_for).

#include <chrono>
#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct options {
  std::string host = "127.0.0.1";
  long port = -1;
  long count = 10;
  long size = 64;
  double timeout_s = 5;
};

[[noreturn]] void usage(const std::string& error) {
  std::fprintf(stderr,
               "echo_client: %s\nusage: echo_client --port P [--host H] [--count N] "
               "[--size BYTES] [--timeout SECONDS]\n",
               error.c_str());
  std::exit(2);
}

long number(const char* text, long lo, long hi, std::string_view name) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
    usage("bad " + std::string(name) + ": " + text);
  }
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("missing value after " + std::string(arg));
    const char* v = argv[++i];
    if (arg == "--port") {
      o.port = number(v, 1, 65535, "port");
    } else if (arg == "--host") {
      o.host = v;
    } else if (arg == "--count") {
      o.count = number(v, 1, 1L << 40, "count");
    } else if (arg == "--size") {
      o.size = number(v, 1, 64L << 20, "size");
    } else if (arg == "--timeout") {
      char* end = nullptr;
      o.timeout_s = std::strtod(v, &end);
      if (*end != '\0' || !(o.timeout_s > 0)) usage(std::string("bad timeout: ") + v);
    } else {
      usage("unknown argument: " + std::string(arg));
    }
  }
  if (o.port < 0) usage("--port is required");
  return o;
}

coloop::task<int> client(options o) {
  const auto limit =
      std::chrono::duration_cast<coloop::duration>(std::chrono::duration<double>(o.timeout_s));
  coloop::tcp_stream s = co_await coloop::wait_for(
      coloop::tcp_stream::connect(o.host, static_cast<std::uint16_t>(o.port)), limit);
  std::string out(static_cast<std::size_t>(o.size), '\0');
  std::string in(out.size(), '\0');
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < o.count; ++i) {
    for (std::size_t k = 0; k < out.size(); ++k) {
      out[k] = static_cast<char>('a' + (static_cast<std::size_t>(i) + k) % 26);
    }
    auto round_trip = [&]() -> coloop::task<void> {
      co_await s.write_all(out.data(), out.size());
      for (std::size_t got = 0; got < in.size();) {
        const std::size_t n = co_await s.read_some(in.data() + got, in.size() - got);
        if (n == 0) throw std::runtime_error("server closed the connection");
        got += n;
      }
    };
    co_await coloop::wait_for(round_trip(), limit);
    if (in != out) {
      std::fprintf(stderr, "echo_client: reply %ld differs from what was sent\n", i);
      co_return 1;
    }
  }
  const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
  std::printf("%ld round trips of %ld bytes, %.1f us each\n", o.count, o.size,
              took.count() / static_cast<double>(o.count));
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return coloop::run(client(parse(argc, argv)));
  } catch (const coloop::timeout_error&) {
    std::fprintf(stderr, "echo_client: timed out\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
  }
  return 1;
}

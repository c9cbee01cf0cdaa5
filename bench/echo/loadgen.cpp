// Closed-loop TCP echo load generator (bench/echo, BENCHMARKS.md "Echo benchmark").
//
// Plain C++ over raw epoll, deliberately not built on coloop, so that it measures the server and
// not itself. Each of N connections sends one message of B bytes, waits for the whole echo,
// checks every byte, records the round trip and sends the next message. The payload changes with
// every request (it depends on the connection, the request number and the offset), so a server
// that echoes stale or misordered data is caught. Any mismatch, short echo, reset or early close
// is a hard error: the program prints it and exits with status 2.
//
// The run is a ramp (until every connection has had its first echo; `ramp_s` in the JSON), then
// `--warmup` seconds (not recorded), then `--duration` seconds (the measured window). Over the
// window it counts completed requests, keeps every round-trip time for the percentiles, and reads
// the server's utime+stime from /proc/PID/stat at both ends:
//   cpu_ns_per_req = (ticks_end - ticks_start) * 1e9 / CLK_TCK / requests_in_window.
// Results go to stdout (one line) and, with --json, to a file.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "loadgen: error: %s\n", what);
  std::exit(2);
}

[[noreturn]] void die_errno(const char* what) {
  std::fprintf(stderr, "loadgen: error: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  int conns = 100;
  std::size_t size = 64;
  double duration = 3.0;
  double warmup = 1.0;
  long server_pid = 0;
  std::string json;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "loadgen: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--host") o.host = value();
    else if (a == "--port") o.port = std::atoi(value());
    else if (a == "--conns") o.conns = std::atoi(value());
    else if (a == "--size") o.size = static_cast<std::size_t>(std::atol(value()));
    else if (a == "--duration") o.duration = std::atof(value());
    else if (a == "--warmup") o.warmup = std::atof(value());
    else if (a == "--server-pid") o.server_pid = std::atol(value());
    else if (a == "--json") o.json = value();
    else {
      std::fprintf(stderr,
                   "usage: loadgen --port P [--host 127.0.0.1] [--conns N] [--size B]\n"
                   "               [--duration S] [--warmup S] [--server-pid PID] [--json FILE]\n");
      std::exit(a == "--help" || a == "-h" ? 0 : 1);
    }
  }
  if (o.port <= 0 || o.port > 65535) die("--port is required (1..65535)");
  if (o.conns <= 0 || o.size == 0 || o.duration <= 0 || o.warmup < 0) die("bad arguments");
  return o;
}

// utime + stime of a process (all its threads) in clock ticks, or -1 if it cannot be read.
long long cpu_ticks(long pid) {
  if (pid <= 0) return -1;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char buf[4096];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may contain spaces
  if (!p) return -1;
  // After ")": field 3 (state) ... field 14 (utime), field 15 (stime).
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2)
    return -1;
  return static_cast<long long>(utime + stime);
}

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct conn {
  int fd = -1;
  std::uint32_t id = 0;
  std::uint64_t seq = 0;         // request number on this connection
  std::vector<unsigned char> out;  // the message in flight (what the echo must equal)
  std::vector<unsigned char> in;
  std::size_t sent = 0;
  std::size_t got = 0;
  std::int64_t t0 = 0;
};

// The payload of request `seq` on connection `id`: cheap, and different for every request.
void fill(conn& c) {
  std::uint32_t x = c.id * 2654435761u ^ static_cast<std::uint32_t>(c.seq * 40503u + 1);
  for (auto& b : c.out) {
    x = x * 1664525u + 1013904223u;  // LCG
    b = static_cast<unsigned char>(x >> 24);
  }
}

int connect_one(const sockaddr_in& addr) {
  for (int attempt = 0;; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die_errno("socket");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      return fd;
    }
    int e = errno;
    ::close(fd);
    if (attempt >= 50 || (e != ECONNREFUSED && e != EAGAIN && e != EINTR)) {
      errno = e;
      die_errno("connect");
    }
    usleep(20'000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);

  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1)
    die("--host must be an IPv4 address");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die_errno("epoll_create1");

  std::vector<conn> conns(static_cast<std::size_t>(o.conns));
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conn& c = conns[i];
    c.id = static_cast<std::uint32_t>(i);
    c.fd = connect_one(addr);
    c.out.resize(o.size);
    c.in.resize(o.size);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;  // registered once, edge-triggered
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) die_errno("epoll_ctl");
  }

  const std::int64_t start = now_ns();
  // Ramp: the warm-up starts once every connection has had its first echo (a server may accept
  // a thousand connections slowly); then the window.
  std::size_t ramped = 0;  // connections with at least one echo
  std::int64_t ramp_end = 0, win_start = INT64_MAX, win_end = INT64_MAX;
  bool in_window = false;
  std::int64_t win_t0 = win_start;  // when the window actually began (first wake past win_start)
  long long ticks0 = -1;
  double own0 = 0;
  std::uint64_t total = 0, window_reqs = 0;
  std::vector<std::uint32_t> lat;  // round trips in the window, ns (clamped to 4.29 s)
  lat.reserve(1 << 20);

  auto send_some = [&](conn& c) {
    while (c.sent < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) { c.sent += static_cast<std::size_t>(n); continue; }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      die_errno("send");
    }
  };
  auto start_request = [&](conn& c, std::int64_t t) {
    fill(c);
    c.sent = 0;
    c.got = 0;
    c.t0 = t;
    send_some(c);
  };

  for (auto& c : conns) start_request(c, now_ns());

  std::vector<epoll_event> events(std::min<std::size_t>(conns.size(), 1024));
  std::int64_t last_progress = start;
  for (;;) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno("epoll_wait");
    }
    std::int64_t t = now_ns();
    if (!in_window && t >= win_start) {
      in_window = true;
      win_t0 = t;
      ticks0 = cpu_ticks(o.server_pid);
      own0 = own_cpu_s();
    }
    if (t >= win_end) break;
    for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) {
      conn& c = conns[events[k].data.u64];
      if (events[k].events & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err;
        die_errno("connection error");
      }
      if (c.sent < c.out.size()) send_some(c);
      // Read until EAGAIN or a complete echo (edge-triggered); at most the bytes still expected,
      // so that an extra byte from the server shows up as a mismatch in the next request.
      for (;;) {
        std::size_t want = c.out.size() - c.got;
        if (want == 0) break;
        ssize_t r = ::recv(c.fd, c.in.data() + c.got, want, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) break;
        if (r < 0) die_errno("recv");
        if (r == 0) {
          std::fprintf(stderr,
                       "loadgen: error: server closed connection %u after %zu of %zu bytes\n", c.id,
                       c.got, c.out.size());
          std::exit(2);
        }
        if (c.got + static_cast<std::size_t>(r) > c.sent) {
          std::fprintf(stderr, "loadgen: error: connection %u: echo ahead of what was sent\n",
                       c.id);
          std::exit(2);
        }
        if (std::memcmp(c.in.data() + c.got, c.out.data() + c.got, static_cast<std::size_t>(r)) !=
            0) {
          std::size_t at = c.got;
          while (c.in[at] == c.out[at]) ++at;
          std::fprintf(stderr,
                       "loadgen: error: connection %u request %" PRIu64
                       ": byte %zu is 0x%02x, expected 0x%02x\n",
                       c.id, c.seq, at, c.in[at], c.out[at]);
          std::exit(2);
        }
        c.got += static_cast<std::size_t>(r);
        if (c.got == c.out.size()) {
          std::int64_t done = now_ns();
          ++total;
          if (in_window) {
            ++window_reqs;
            std::int64_t rt = done - c.t0;
            lat.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(rt, UINT32_MAX)));
          }
          last_progress = done;
          if (c.seq == 0 && ++ramped == conns.size()) {
            ramp_end = done;
            win_start = ramp_end + static_cast<std::int64_t>(o.warmup * 1e9);
            win_end = win_start + static_cast<std::int64_t>(o.duration * 1e9);
          }
          ++c.seq;
          start_request(c, done);
          // The echo of the new request cannot be here yet, and its arrival is a new edge:
          // skip the recv that would only return EAGAIN.
          break;
        }
      }
    }
    if (t - last_progress > 5'000'000'000) die("no echo completed for 5 s (server stalled)");
    if (ramped < conns.size() && t - start > 30'000'000'000)
      die("some connections had no echo within 30 s");
  }
  const std::int64_t t_end = now_ns();
  const long long ticks1 = cpu_ticks(o.server_pid);
  const double own1 = own_cpu_s();
  const double window_s = static_cast<double>(t_end - win_t0) / 1e9;
  for (auto& c : conns) {
    // A connection the server forgot is an error even if the others kept the total moving.
    if (c.seq == 0 || t_end - c.t0 > 3'000'000'000) {
      std::fprintf(stderr, "loadgen: error: connection %u: no echo for %.1f s (after %" PRIu64
                   " requests)\n", c.id, static_cast<double>(t_end - c.t0) / 1e9, c.seq);
      std::exit(2);
    }
    ::close(c.fd);
  }
  ::close(ep);

  if (window_reqs == 0) die("no request completed in the measured window");
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    std::size_t idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(lat.size()));
    if (idx >= lat.size()) idx = lat.size() - 1;
    return static_cast<double>(lat[idx]) / 1000.0;  // µs
  };
  double sum = 0;
  for (auto v : lat) sum += static_cast<double>(v);
  const double rps = static_cast<double>(window_reqs) / window_s;
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  double cpu_ns = -1, server_cpu_s = -1;
  if (ticks0 >= 0 && ticks1 >= 0) {
    server_cpu_s = static_cast<double>(ticks1 - ticks0) / tck;
    cpu_ns = server_cpu_s * 1e9 / static_cast<double>(window_reqs);
  }
  const double client_ns = (own1 - own0) * 1e9 / static_cast<double>(window_reqs);

  std::printf("conns=%d size=%zu reqs=%" PRIu64 " window=%.3fs rps=%.0f p50=%.1fus p99=%.1fus "
              "p99.9=%.1fus server_cpu=%.0fns/req loadgen_cpu=%.0fns/req\n",
              o.conns, o.size, window_reqs, window_s, rps, pct(50), pct(99), pct(99.9), cpu_ns,
              client_ns);
  if (!o.json.empty()) {
    FILE* f = std::fopen(o.json.c_str(), "w");
    if (!f) die_errno("open --json file");
    std::fprintf(
        f,
        "{\"conns\": %d, \"size\": %zu, \"requests\": %" PRIu64 ", \"total_requests\": %" PRIu64
        ", \"ramp_s\": %.4f, \"window_s\": %.6f, \"rps\": %.3f, \"p50_us\": %.3f, "
        "\"p99_us\": %.3f, \"p999_us\": %.3f, \"mean_us\": %.3f, \"max_us\": %.3f, "
        "\"server_cpu_s\": %.4f, "
        "\"cpu_ns_per_req\": %.3f, \"loadgen_cpu_ns_per_req\": %.3f, \"verified_bytes\": %" PRIu64
        "}\n",
        o.conns, o.size, window_reqs, total, static_cast<double>(ramp_end - start) / 1e9, window_s,
        rps, pct(50), pct(99), pct(99.9), sum / static_cast<double>(lat.size()) / 1000.0,
        static_cast<double>(lat.back()) / 1000.0, server_cpu_s, cpu_ns, client_ns, total * o.size);
    std::fclose(f);
  }
  return 0;
}

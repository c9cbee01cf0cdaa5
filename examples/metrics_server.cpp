// metrics_server: coloop's metrics and the application's own, served as Prometheus text on
// /metrics over coloop::http (examples/http), beside some work to watch.
//
//   metrics_server --port P [--host 127.0.0.1] [--workers N]
//
// GET /metrics answers coloop::metrics::write_prometheus (text format 0.0.4), which `curl` and a
// real Prometheus can scrape; GET / answers a line of help; anything else is 404. The work: a
// periodic task ticks every 100 ms and hands a small job to the default thread pool each time
// (so the loop, timer and pool figures move), and every request is counted by path and status.
// Prints "listening on HOST:PORT" once it accepts connections (--port 0 picks a free port) and
// stops cleanly on SIGINT or SIGTERM. One event loop, or the runtime with --workers N (N > 1).

#include <signal.h>

#include <coloop/coloop.hpp>
#include <coloop/core/metrics.hpp>
#include <cstdio>
#include <sstream>
#include <string>

#include "http/command_line.hpp"
#include "http/http_server.hpp"

namespace {

namespace http = coloop::http;
namespace metrics = coloop::metrics;

http::command_line parse(int argc, char** argv) {
  http::command_line o("metrics_server",
                       "metrics_server --port P [--host 127.0.0.1] [--workers N]\n");
  o.parse(argc, argv);
  return o;
}

void count_request(std::string_view path, int status) {
  metrics::default_registry()
      .counter("metrics_server_http_requests", "HTTP requests served, by path and status.",
               {{"path", std::string(path)}, {"code", std::to_string(status)}})
      .inc();
}

void handle(const http::request& req, http::response& res) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (get && req.target == "/metrics") {
    std::ostringstream text;
    metrics::write_prometheus(text);
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = std::move(text).str();
  } else if (get && req.target == "/") {
    res.body = "coloop metrics_server: scrape /metrics\n";
  } else {
    res.status = 404;
    res.body = "Not Found";
  }
  count_request(res.status == 404 ? "other" : req.target, res.status);
}

/// The blocking part of a tick's work, on a pool thread.
std::uint64_t checksum(std::uint64_t seed) {
  std::uint64_t h = seed;
  for (int i = 0; i < 10000; ++i) h = h * 6364136223846793005ULL + 1442695040888963407ULL;
  return h;
}

coloop::task<void> ticker() {
  metrics::counter& ticks = metrics::default_registry().counter(
      "metrics_server_ticks", "Ticks of the periodic task (one every 100 ms).");
  metrics::histogram& job_seconds = metrics::default_registry().histogram(
      "metrics_server_job_seconds", "Time from a tick to its pool job's result.");
  for (std::uint64_t n = 0;; ++n) {
    co_await coloop::sleep_for(std::chrono::milliseconds(100));
    const auto start = coloop::now();
    co_await coloop::to_thread(checksum, n);
    job_seconds.observe(std::chrono::duration<double>(coloop::now() - start).count());
    ticks.inc();
  }
}

coloop::task<int> serve(http::command_line o) {
  coloop::signal_set stop_signals{SIGINT, SIGTERM};
  const auto endpoints = co_await coloop::resolve(o.host, static_cast<std::uint16_t>(o.port));
  coloop::tcp_listener listener = coloop::tcp_listener::bind(endpoints.front());
  std::printf("listening on %s\n", listener.local_endpoint().to_string().c_str());
  std::fflush(stdout);
  const http::handler h = handle;
  const http::server_options server_options;
  // The callable-plus-arguments form: nothing temporary in a co_await operand (g++ 12).
  auto server = coloop::spawn(http::serve, std::move(listener), h, server_options);
  auto work = coloop::spawn(ticker());
  const int signo = co_await stop_signals.wait();
  std::fprintf(stderr, "metrics_server: %s, stopping\n", strsignal(signo));
  work.cancel();
  server.cancel();
  try {
    co_await std::move(work);
  } catch (const coloop::cancelled_error&) {
  }
  try {
    co_await std::move(server);
  } catch (const coloop::cancelled_error&) {
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const http::command_line o = parse(argc, argv);
    if (o.workers > 1) {
      coloop::runtime rt({.workers = o.workers});
      return rt.block_on(serve(o));
    }
    return coloop::run(serve(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metrics_server: %s\n", e.what());
    return 1;
  }
}

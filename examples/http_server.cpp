// http_server: an HTTP/1.1 server on coloop::http (examples/http), the server of bench/http.
//
//   http_server --port P [--host 127.0.0.1] [--workers N] [--runtime] [--idle-timeout-ms X]
//               [--header-timeout-ms Y] [--max-header-bytes B] [--max-body-bytes B]
//
// GET / (and /plaintext) answers TechEmpower's plaintext test: 200, Content-Type: text/plain,
// body "Hello, World!"; GET /json answers {"message":"Hello, World!"} as application/json;
// POST /echo answers the request's body; anything else is 404. Prints "listening on HOST:PORT"
// once it accepts connections (--port 0 picks a free port) and stops cleanly on SIGINT or
// SIGTERM. Runs on one event loop, or on the work-stealing runtime with --workers N (N > 1);
// --runtime uses the runtime for N = 1 too (to compare it with the event loop).

#include <signal.h>

#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "http/command_line.hpp"
#include "http/http_server.hpp"

namespace {

namespace http = coloop::http;

struct options {
  http::command_line listen{"http_server",
                            "http_server --port P [--host 127.0.0.1] [--workers N] [--runtime]\n"
                            "                   [--idle-timeout-ms X] [--header-timeout-ms Y]\n"
                            "                   [--max-header-bytes B] [--max-body-bytes B]\n"};
  bool runtime = false;  // the runtime even for one worker
  http::server_options server;
};

options parse(int argc, char** argv) {
  options o;
  http::command_line& cl = o.listen;
  cl.parse(argc, argv, [&](const std::string& flag) {
    if (flag == "--runtime") {
      o.runtime = true;
    } else if (flag == "--idle-timeout-ms") {
      o.server.idle_timeout = std::chrono::milliseconds(cl.number(1, 86'400'000));
    } else if (flag == "--header-timeout-ms") {
      o.server.header_timeout = std::chrono::milliseconds(cl.number(1, 86'400'000));
    } else if (flag == "--max-header-bytes") {
      o.server.max_header_bytes = static_cast<std::size_t>(cl.number(1, 1L << 30));
    } else if (flag == "--max-body-bytes") {
      o.server.max_body_bytes = static_cast<std::size_t>(cl.number(1, 1L << 30));
    } else {
      return false;
    }
    return true;
  });
  return o;
}

void handle(const http::request& req, http::response& res) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (get && (req.target == "/" || req.target == "/plaintext")) {
    res.body = "Hello, World!";
  } else if (get && req.target == "/json") {
    res.content_type = "application/json";
    res.body = R"({"message":"Hello, World!"})";
  } else if (req.method == "POST" && req.target == "/echo") {
    res.content_type = "application/octet-stream";
    res.body = req.body;
  } else {
    res.status = 404;
    res.body = "Not Found";
  }
}

coloop::task<int> serve(options o) {
  coloop::signal_set stop_signals{SIGINT, SIGTERM};
  const auto endpoints =
      co_await coloop::resolve(o.listen.host, static_cast<std::uint16_t>(o.listen.port));
  coloop::tcp_listener listener = coloop::tcp_listener::bind(endpoints.front());
  std::printf("listening on %s\n", listener.local_endpoint().to_string().c_str());
  std::fflush(stdout);
  const http::handler h = handle;
  // The callable-plus-arguments form: nothing temporary in a co_await operand (g++ 12).
  auto server = coloop::spawn(http::serve, std::move(listener), h, o.server);
  const int signo = co_await stop_signals.wait();
  std::fprintf(stderr, "http_server: %s, stopping\n", strsignal(signo));
  server.cancel();
  try {
    co_await std::move(server);
  } catch (const coloop::cancelled_error&) {
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    if (o.runtime || o.listen.workers > 1) {
      coloop::runtime rt({.workers = o.listen.workers});  // its destructor joins what serve() left
      return rt.block_on(serve(o));
    }
    return coloop::run(serve(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
  }
}

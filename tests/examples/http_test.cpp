// coloop::http (examples/http): the request parser on byte strings, response::add_header, and
// serve() through real loopback sockets on every flavour (timeouts on the manual clock).

#include <gtest/gtest.h>

#include <coloop/coloop.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "http/http_server.hpp"
#include "http/request_parser.hpp"
#include "support/flavour.hpp"

namespace {

namespace http = coloop::http;
using coloop::task;
using result = http::request_parser::result;

/// Feeds `bytes` one at a time as a connection would (the unfinished request carried over to
/// the start of the buffer); returns the targets and bodies of the requests completed, then
/// "error NNN" if the parser failed.
std::vector<std::string> feed_bytewise(const http::server_options& o, std::string_view bytes) {
  http::request_parser p(o);
  std::string buf;
  std::vector<std::string> out;
  for (char ch : bytes) {
    const std::size_t old = buf.size();
    buf.push_back(ch);
    std::size_t from = old;
    for (;;) {
      const result r = p.feed(buf.data(), from, buf.size());
      if (r == result::error) {
        out.push_back("error " + std::to_string(p.error_status()));
        return out;
      }
      if (r == result::more) break;
      out.push_back(std::string(p.current().target) + " " + std::string(p.current().body));
      from = p.consumed();
      if (from == buf.size()) break;
    }
    const std::size_t keep = p.request_start();
    buf.erase(0, keep);
    p.shift(keep);
  }
  return out;
}

/// Feeds `bytes` at once; the same summary as feed_bytewise.
std::vector<std::string> feed_whole(const http::server_options& o, std::string_view bytes) {
  http::request_parser p(o);
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < bytes.size()) {
    const result r = p.feed(bytes.data(), from, bytes.size());
    if (r == result::error) {
      out.push_back("error " + std::to_string(p.error_status()));
      break;
    }
    if (r == result::more) break;
    out.push_back(std::string(p.current().target) + " " + std::string(p.current().body));
    from = p.consumed();
  }
  return out;
}

std::vector<std::string> both_ways(const http::server_options& o, std::string_view bytes) {
  const auto whole = feed_whole(o, bytes);
  EXPECT_EQ(feed_bytewise(o, bytes), whole) << "bytewise differs for " << bytes;
  return whole;
}

using strings = std::vector<std::string>;

TEST(HttpRequestParser, ParsesMethodTargetVersionAndHeaders) {
  const http::server_options o;
  http::request_parser p(o);
  const std::string_view get = "GET /a?b=c HTTP/1.0\r\nHost: x\r\nX-Two:  spaced \r\n\r\n";
  ASSERT_EQ(p.feed(get.data(), 0, get.size()), result::complete);
  const http::request& r = p.current();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a?b=c");
  EXPECT_EQ(r.version_minor, 0);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "Host");
  EXPECT_EQ(r.header_value("x-two"), "spaced ");  // http-parser keeps trailing whitespace
  EXPECT_EQ(r.header_value("HOST"), "x");
  EXPECT_EQ(r.header_value("missing"), "");
  EXPECT_FALSE(p.keep_alive());  // HTTP/1.0 without keep-alive
  EXPECT_EQ(p.consumed(), get.size());
  EXPECT_TRUE(p.idle());
}

TEST(HttpRequestParser, KeepAliveAndHeadFollowTheRequest) {
  const http::server_options o;
  const auto parse = [&](std::string_view bytes) {
    http::request_parser p(o);
    EXPECT_EQ(p.feed(bytes.data(), 0, bytes.size()), result::complete) << bytes;
    return std::pair(p.keep_alive(), p.head());
  };
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n"), std::pair(true, false));
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), std::pair(false, false));
  EXPECT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), std::pair(true, false));
  EXPECT_EQ(parse("HEAD / HTTP/1.1\r\n\r\n"), std::pair(true, true));
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n"),
            std::pair(false, false));
}

TEST(HttpRequestParser, PipelinedRequestsAndBodiesWholeOrByteByByte) {
  const http::server_options o;
  EXPECT_EQ(both_ways(o, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                         "POST /3 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                         "POST /4 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
                         "\r\nGET /5 HTTP/1.1\r\n\r\n"),
            (strings{"/1 ", "/2 ", "/3 hello", "/4 abcde", "/5 "}));
}

TEST(HttpRequestParser, SmugglingAndMalformedRequestsAre400) {
  const http::server_options o;
  const strings bad{"error 400"};
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
                         "\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
            bad);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3"
                         "\r\n\r\nabc"),
            bad);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc"), bad);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            bad);
  EXPECT_EQ(both_ways(o, "GARBAGE\r\n\r\n"), bad);
  EXPECT_EQ(both_ways(o, "GET / HTTP/1.1\r\nNo colon\r\n\r\n"), bad);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"), bad);
  // A good request before a bad one is still handed over first.
  EXPECT_EQ(both_ways(o, "GET /ok HTTP/1.1\r\n\r\nBAD\r\n\r\n"), (strings{"/ok ", "error 400"}));
}

TEST(HttpRequestParser, LimitsGive431And413) {
  http::server_options o;
  o.max_header_bytes = 100;
  o.max_headers = 3;
  o.max_body_bytes = 10;
  const strings too_large{"error 431"}, too_big{"error 413"};
  EXPECT_EQ(both_ways(o, "GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n"),
            too_large);
  EXPECT_EQ(both_ways(o, "GET /" + std::string(100, 'p') + " HTTP/1.1\r\n\r\n"), too_large);
  EXPECT_EQ(both_ways(o, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), too_large);
  EXPECT_EQ(both_ways(o, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), (strings{"/ "}));
  // Many small requests in a row are counted each on its own.
  std::string many;
  for (int i = 0; i < 20; ++i) many += "GET / HTTP/1.1\r\nHost: a-host-name\r\n\r\n";
  EXPECT_EQ(both_ways(o, many).size(), 20u);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), too_big);
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"),
            (strings{"/ 0123456789"}));
  EXPECT_EQ(both_ways(o, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n"),
            too_big);
}

TEST(HttpRequestParser, ExpectContinueIsAskedOnceAndOnlyWhileTheBodyIsMissing) {
  const http::server_options o;
  http::request_parser p(o);
  const std::string_view head =
      "POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
  ASSERT_EQ(p.feed(head.data(), 0, head.size()), result::more);
  EXPECT_FALSE(p.in_headers());
  EXPECT_FALSE(p.idle());
  EXPECT_TRUE(p.take_continue());
  EXPECT_FALSE(p.take_continue());
  http::request_parser q(o);
  const std::string whole = std::string(head) + "ok";
  ASSERT_EQ(q.feed(whole.data(), 0, whole.size()), result::complete);
  EXPECT_FALSE(q.take_continue());
  EXPECT_EQ(q.current().body, "ok");
}

TEST(HttpResponse, AddHeaderRejectsInjectionAndResetClearsEverything) {
  http::response r;
  r.add_header("X-Id", "42");
  r.add_header("Cache-Control", "no-cache, no-store");
  EXPECT_EQ(r.extra_headers(), "X-Id: 42\r\nCache-Control: no-cache, no-store\r\n");
  EXPECT_THROW(r.add_header("", "v"), std::invalid_argument);
  EXPECT_THROW(r.add_header("Bad Name", "v"), std::invalid_argument);
  EXPECT_THROW(r.add_header("X-Colon:", "v"), std::invalid_argument);
  EXPECT_THROW(r.add_header("X", "a\r\nSet-Cookie: evil"), std::invalid_argument);
  EXPECT_THROW(r.add_header("X", std::string_view("a\0b", 3)), std::invalid_argument);
  r.status = 404;
  r.body = "gone";
  r.close = true;
  r.content_type = "application/json";
  r.reset();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_EQ(r.body, "");
  EXPECT_FALSE(r.close);
  EXPECT_EQ(r.extra_headers(), "");
}

// serve() on loopback ---------------------------------------------------------------------------

void test_handler(const http::request& req, http::response& res) {
  if (req.target == "/throw") throw std::runtime_error("handler failed");
  res.status = req.method == "POST" ? 201 : 200;
  res.content_type = "application/x-test";
  res.add_header("X-Seen-Host", req.header_value("host"));
  res.body = std::string(req.method) + " " + std::string(req.target) + " " + std::string(req.body);
}

/// Everything the server sends until it closes, within `bound` ("<timeout>" after that).
task<std::string> read_all(coloop::tcp_stream& s,
                           coloop::duration bound = std::chrono::seconds(10)) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto read = s.read_some(buf, sizeof buf);
    std::size_t n = 0;
    try {
      n = co_await coloop::wait_for(std::move(read), bound);
    } catch (const coloop::timeout_error&) {
      co_return out + "<timeout>";
    }
    if (n == 0) co_return out;
    out.append(buf, n);
  }
}

task<std::string> exchange(coloop::endpoint at, std::string request) {
  coloop::tcp_stream s = co_await coloop::tcp_stream::connect(at);
  co_await s.write_all(request.data(), request.size());
  co_return co_await read_all(s);
}

/// The server's listener and its spawned serve(); `options` as given.
struct running_server {
  coloop::endpoint at;
  coloop::join_handle<void> handle;
};

running_server start(const http::server_options& options) {
  coloop::tcp_listener listener =
      coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
  const coloop::endpoint at = listener.local_endpoint();
  const http::handler h = test_handler;
  return {at, coloop::spawn(http::serve, std::move(listener), h, options)};
}

/// Cancels the server and checks that serve() ends with cancelled_error.
task<void> stop(running_server& server) {
  server.handle.cancel();
  EXPECT_THROW(co_await std::move(server.handle), coloop::cancelled_error);
}

/// The response without its Date line (which changes every second).
std::string without_date(std::string response) {
  for (std::size_t at; (at = response.find("Date: ")) != std::string::npos;) {
    response.erase(at, response.find("\r\n", at) + 2 - at);
  }
  return response;
}

class http_serve : public coloop::test::flavour_test {};

TEST_P(http_serve, AnswersWhatTheHandlerFillsInOrder) {
  run([]() -> task<void> {
    running_server server = start({});
    const std::string request =
        "GET /first HTTP/1.1\r\nHost: h1\r\n\r\n"
        "POST /second HTTP/1.1\r\nHost: h2\r\nContent-Length: 4\r\n\r\nbody"
        "HEAD /third HTTP/1.1\r\nConnection: close\r\n\r\n"
        "GET /never HTTP/1.1\r\n\r\n";
    const std::string response = without_date(co_await exchange(server.at, request));
    EXPECT_EQ(response,
              "HTTP/1.1 200 OK\r\nServer: coloop\r\nContent-Type: application/x-test\r\n"
              "Content-Length: 11\r\nX-Seen-Host: h1\r\n\r\nGET /first "
              "HTTP/1.1 201 Created\r\nServer: coloop\r\nContent-Type: application/x-test\r\n"
              "Content-Length: 17\r\nX-Seen-Host: h2\r\n\r\nPOST /second body"
              "HTTP/1.1 200 OK\r\nServer: coloop\r\nContent-Type: application/x-test\r\n"
              "Content-Length: 12\r\nX-Seen-Host: \r\nConnection: close\r\n\r\n");
    co_await stop(server);
  }());
}

TEST_P(http_serve, AThrowingHandlerGets500AndTheConnectionGoesOn) {
  run([]() -> task<void> {
    running_server server = start({});
    const std::string response = without_date(co_await exchange(
        server.at, "GET /throw HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(response.find("HTTP/1.1 500 Internal Server Error\r\n"), 0u) << response;
    EXPECT_NE(response.find("\r\n\r\nGET /after "), std::string::npos) << response;
    co_await stop(server);
  }());
}

TEST_P(http_serve, ABadRequestIsAnsweredAndClosed) {
  run([]() -> task<void> {
    running_server server = start({});
    const std::string response = without_date(co_await exchange(
        server.at, "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"));
    EXPECT_EQ(response,
              "HTTP/1.1 400 Bad Request\r\nServer: coloop\r\nContent-Type: text/plain\r\n"
              "Content-Length: 11\r\nConnection: close\r\n\r\nBad Request");
    co_await stop(server);
  }());
}

TEST_P(http_serve, CancellingServeDisconnectsItsConnections) {
  run([]() -> task<void> {
    running_server server = start({});
    coloop::tcp_stream idle = co_await coloop::tcp_stream::connect(server.at);
    const std::string request = "GET / HTTP/1.1\r\n\r\n";
    co_await idle.write_all(request.data(), request.size());
    char buf[512];
    auto read = idle.read_some(buf, sizeof buf);
    const std::size_t n = co_await coloop::wait_for(std::move(read), std::chrono::seconds(10));
    EXPECT_EQ(std::string(buf, n).find("HTTP/1.1 200 OK"), 0u);
    co_await stop(server);  // returns once the connection's task has ended
    EXPECT_EQ(co_await read_all(idle), "");
  }());
}

/// A client trickling its headers a byte a second, then one that goes quiet after a request.
task<void> trickle_then_quiet() {
  http::server_options options;
  options.header_timeout = std::chrono::seconds(5);
  options.idle_timeout = std::chrono::seconds(30);
  running_server server = start(options);
  coloop::tcp_stream slow = co_await coloop::tcp_stream::connect(server.at);
  const std::string part = "GET / HTTP/1.1\r\nX-Slow: ";
  co_await slow.write_all(part.data(), part.size());
  const coloop::time_point began = coloop::now();
  for (int i = 0; i < 100; ++i) {  // one byte a second: the headers would take 100 s
    co_await coloop::sleep_for(std::chrono::seconds(1));
    char c;
    try {
      if (slow.try_read_some(&c, 1) == 0) break;  // cut off: end of stream
      co_await slow.write_all("s", 1);
    } catch (const std::system_error&) {
      break;  // cut off: EPIPE or ECONNRESET
    }
  }
  const auto slow_for = coloop::now() - began;
  EXPECT_GE(slow_for, std::chrono::seconds(4));
  EXPECT_LT(slow_for, std::chrono::seconds(8));
  // A kept-alive client that stays quiet after its request: the idle timeout.
  coloop::tcp_stream quiet = co_await coloop::tcp_stream::connect(server.at);
  const std::string request = "GET / HTTP/1.1\r\n\r\n";
  co_await quiet.write_all(request.data(), request.size());
  const coloop::time_point asked = coloop::now();
  const std::string answer = co_await read_all(quiet, std::chrono::seconds(100));
  EXPECT_EQ(answer.find("HTTP/1.1 200 OK"), 0u) << answer;
  EXPECT_EQ(answer.find("<timeout>"), std::string::npos);
  EXPECT_GE(coloop::now() - asked, std::chrono::seconds(29));
  EXPECT_LT(coloop::now() - asked, std::chrono::seconds(40));
  co_await stop(server);
}

TEST_P(http_serve, TheHeaderTimeoutCutsATrickleAndTheIdleTimeoutAQuietClient) {
  run(trickle_then_quiet(), {.manual_clock = true});
}

/// The awaited form docs/http.md shows: named handler and options, the listener moved in.
task<void> serve_awaited(coloop::tcp_listener listener) {
  const http::handler h = test_handler;
  const http::server_options options;
  co_await http::serve(std::move(listener), h, options);
}

TEST_P(http_serve, TheAwaitedFormServesUntilItsTaskIsCancelled) {
  run([]() -> task<void> {
    coloop::tcp_listener listener =
        coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
    running_server server{listener.local_endpoint(),
                          coloop::spawn(serve_awaited, std::move(listener))};
    const std::string response = without_date(
        co_await exchange(server.at, "GET /awaited HTTP/1.1\r\nConnection: close\r\n\r\n"));
    EXPECT_NE(response.find("\r\n\r\nGET /awaited "), std::string::npos) << response;
    co_await stop(server);
  }());
}

TEST_P(http_serve, BadArgumentsAreInvalidArgument) {
  run([]() -> task<void> {
    http::server_options zero;
    zero.idle_timeout = coloop::duration::zero();
    coloop::tcp_listener a = coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
    const http::handler h = test_handler;
    auto bad_options = coloop::spawn(http::serve, std::move(a), h, zero);
    EXPECT_THROW(co_await std::move(bad_options), std::invalid_argument);
    coloop::tcp_listener b = coloop::tcp_listener::bind(coloop::endpoint::parse("127.0.0.1:0"));
    const http::handler empty;
    auto no_handler = coloop::spawn(http::serve, std::move(b), empty, http::server_options{});
    EXPECT_THROW(co_await std::move(no_handler), std::invalid_argument);
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(http_serve);

}  // namespace

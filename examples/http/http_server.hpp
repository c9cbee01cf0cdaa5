#pragma once
// coloop::http: a small HTTP/1.1 server on coloop's TCP sockets, parsing with Debian's
// http-parser. Keep-alive, pipelining (responses in order, one write per batch), bodies by
// Content-Length and chunked, limits (400, 413, 431) and header/idle timeouts. The server of
// examples/http_server; small enough to serve a /metrics endpoint with its own handler.

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <coloop/core/task.hpp>
#include <coloop/net/tcp.hpp>
#include <coloop/runtime/loop_options.hpp>

namespace coloop::http {

/// One header line as received (the name keeps its case).
struct header {
  std::string_view name;
  std::string_view value;
};

/// A parsed request. Every view points into the connection's buffers and is valid only while
/// the handler runs.
struct request {
  std::string_view method;          ///< "GET", "POST", ...
  std::string_view target;          ///< the request target as sent: "/path?query"
  int version_minor = 1;            ///< HTTP/1.<version_minor>
  std::span<const header> headers;  ///< in the order received
  std::string_view body;            ///< the decoded body (chunked framing removed)
  /// The value of the first header called `name` (ASCII case-insensitive), or "" when absent.
  std::string_view header_value(std::string_view name) const noexcept;
};

/// What the handler fills in. The server adds Server, Date, Content-Length and, when the
/// connection is to close, Connection: close.
class response {
 public:
  int status = 200;
  /// Sent as Content-Type unless empty; must stay valid until the handler returns.
  std::string_view content_type = "text/plain";
  /// Sent as is (not for HEAD). Its capacity is kept from one request to the next.
  std::string body;
  /// Close the connection once this response is written.
  bool close = false;

  /// Adds a header line. Throws std::invalid_argument for an empty name, a name that is not an
  /// HTTP token, or a value holding CR, LF or NUL (header injection).
  void add_header(std::string_view name, std::string_view value);
  /// The header lines added, "Name: value\r\n" each.
  std::string_view extra_headers() const noexcept { return headers_; }
  /// Back to a 200 text/plain with no body or header, keeping the buffers' capacity.
  void reset() noexcept;

 private:
  std::string headers_;
};

/// Called for each request, in order, on the connection's task; it must not block. An exception
/// it throws becomes a 500 response. Called from any runtime worker, one request at a time per
/// connection (several connections may call it concurrently on the runtime).
using handler = std::function<void(const request&, response&)>;

struct server_options {
  /// Request line plus headers; beyond it: 431 and close.
  std::size_t max_header_bytes = 16 * 1024;
  /// Header lines per request; beyond it: 431 and close.
  std::size_t max_headers = 100;
  /// Decoded body; beyond it (by Content-Length or while decoding chunks): 413 and close.
  std::size_t max_body_bytes = 1024 * 1024;
  /// From a request's first byte (or the connection's accept) until its headers are complete:
  /// a client that takes longer is disconnected, however steadily it trickles bytes.
  duration header_timeout = std::chrono::seconds(10);
  /// A kept-alive connection with no request in progress, a body that stops arriving, or a
  /// response the client stops reading: disconnected after this long without progress.
  duration idle_timeout = std::chrono::seconds(60);
  /// The Server header's value; empty: no Server header.
  std::string server_name = "coloop";
};

/// Accepts connections on `listener` and serves each on its own task (spawned on the loop or
/// runtime running here) until cancelled; then stops accepting, disconnects every connection,
/// waits until their tasks have ended and throws cancelled_error. Throws std::invalid_argument
/// for an empty handler or a zero limit or timeout, std::system_error if accepting fails.
/// g++ 12 safe form: `spawn(http::serve, std::move(listener), h, options)`, or name the handler
/// and options before `co_await serve(...)`.
task<void> serve(tcp_listener listener, handler h, server_options options = {});

}  // namespace coloop::http

#pragma once
// request_parser: http-parser (Debian's libhttp-parser) behind the interface the connection loop
// needs. The caller owns the bytes; the parser records offsets into them, so a request that
// arrives in pieces costs no copy until the caller carries its start over to the next read.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http_server.hpp"

namespace coloop::http {

class request_parser {
 public:
  enum class result {
    more,      ///< every byte given was consumed; the request in progress (if any) needs more
    complete,  ///< a request is complete: see current(); parsing stopped at consumed()
    error,     ///< a bad request: error_status() says which response (400, 413, 431)
  };

  /// Throws std::bad_alloc only. `limits` must outlive the parser.
  explicit request_parser(const server_options& limits);
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  /// Parses buf[from, to). `buf` holds the request in progress from request_start() on (the
  /// caller keeps those bytes and passes them again at the same offsets, see shift()). Stops
  /// after the first complete request; feed the rest again from consumed().
  result feed(const char* buf, std::size_t from, std::size_t to);
  /// Where the last feed stopped.
  std::size_t consumed() const noexcept { return consumed_; }
  /// Where the request in progress begins (== consumed() between requests).
  std::size_t request_start() const noexcept { return request_start_; }
  /// The caller dropped buf[0, by) (by <= request_start()): offsets move down by `by`.
  void shift(std::size_t by) noexcept;

  /// After complete: the request (views into buf and the parser's body), valid until next feed.
  const request& current() const noexcept { return request_; }
  /// After complete: whether the connection may carry another request (HTTP/1.1 without
  /// Connection: close, or HTTP/1.0 with keep-alive; never after an Upgrade).
  bool keep_alive() const noexcept { return keep_alive_; }
  /// After complete: a HEAD request, whose response carries no body.
  bool head() const noexcept { return head_; }
  /// After complete: the client asked for keep-alive explicitly (HTTP/1.0).
  bool explicit_keep_alive() const noexcept { return request_.version_minor == 0 && keep_alive_; }
  /// After error: 400, 413 or 431.
  int error_status() const noexcept { return error_status_; }

  /// A request has begun and its headers are not complete.
  bool in_headers() const noexcept { return in_headers_; }
  /// No request is in progress.
  bool idle() const noexcept { return !in_message_; }
  /// True once per request that sent `Expect: 100-continue` and whose body has not arrived yet.
  bool take_continue() noexcept;

 private:
  struct offsets {
    std::size_t name_begin, name_end, value_begin, value_end;
  };
  struct callbacks;

  void begin_message() noexcept;
  bool fail(int status) noexcept;
  bool over_header_limit(std::size_t end_offset) const noexcept;
  void extend(std::size_t& begin, std::size_t& end, const char* at, std::size_t n) const noexcept;
  int headers_complete() noexcept;
  void build_request() noexcept;

  struct parser_storage;
  std::unique_ptr<parser_storage> parser_;
  const server_options& limits_;
  const char* base_ = nullptr;
  std::size_t consumed_ = 0, request_start_ = 0;
  std::size_t url_begin_ = 0, url_end_ = 0;
  std::vector<offsets> fields_;
  std::vector<header> headers_;
  std::string body_;
  request request_;
  int error_status_ = 0;
  bool in_message_ = false, in_headers_ = false, last_was_value_ = false;
  bool keep_alive_ = false, head_ = false, complete_ = false, continue_ = false;
};

}  // namespace coloop::http

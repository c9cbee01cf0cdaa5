#include "request_parser.hpp"

#include <http_parser.h>

#include <utility>

namespace coloop::http {

struct request_parser::parser_storage {
  http_parser p;
};

namespace {
bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y && (x | 0x20) != (y | 0x20)) return false;  // ASCII letters only differ by 0x20
  }
  return true;
}
}  // namespace

std::string_view request::header_value(std::string_view name) const noexcept {
  for (const header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

// http-parser calls these with pointers into the bytes being parsed; returning non-zero stops
// it with an HPE_CB_* error, which feed() turns into error_status_ (set by fail()).
struct request_parser::callbacks {
  static request_parser& self(http_parser* p) { return *static_cast<request_parser*>(p->data); }
  static int message_begin(http_parser* p) {
    self(p).begin_message();
    return 0;
  }
  static int url(http_parser* p, const char* at, std::size_t n) {
    request_parser& s = self(p);
    s.extend(s.url_begin_, s.url_end_, at, n);
    return s.over_header_limit(s.url_end_) && s.fail(431) ? 1 : 0;
  }
  static int header_field(http_parser* p, const char* at, std::size_t n) {
    request_parser& s = self(p);
    if (s.last_was_value_ || s.fields_.empty()) {
      if (s.fields_.size() >= s.limits_.max_headers) return s.fail(431) ? 1 : 0;
      s.fields_.push_back({0, 0, 0, 0});
      s.last_was_value_ = false;
    }
    offsets& f = s.fields_.back();
    s.extend(f.name_begin, f.name_end, at, n);
    return s.over_header_limit(f.name_end) && s.fail(431) ? 1 : 0;
  }
  static int header_value(http_parser* p, const char* at, std::size_t n) {
    request_parser& s = self(p);
    if (s.fields_.empty()) return s.fail(400) ? 1 : 0;
    offsets& f = s.fields_.back();
    if (!s.last_was_value_) f.value_begin = f.value_end = 0;
    s.last_was_value_ = true;
    s.extend(f.value_begin, f.value_end, at, n);
    return s.over_header_limit(f.value_end) && s.fail(431) ? 1 : 0;
  }
  static int headers_complete(http_parser* p) { return self(p).headers_complete(); }
  static int body(http_parser* p, const char* at, std::size_t n) {
    request_parser& s = self(p);
    if (s.body_.size() + n > s.limits_.max_body_bytes) return s.fail(413) ? 1 : 0;
    s.body_.append(at, n);
    s.continue_ = false;  // the client did not wait for it
    return 0;
  }
  static int message_complete(http_parser* p) {
    request_parser& s = self(p);
    s.build_request();
    s.keep_alive_ = http_should_keep_alive(p) != 0 && p->upgrade == 0;
    s.head_ = p->method == HTTP_HEAD;
    s.complete_ = true;
    s.continue_ = false;
    s.in_message_ = false;
    http_parser_pause(p, 1);  // hand this request over before parsing the next one
    return 0;
  }
  static constexpr http_parser_settings settings = {
      .on_message_begin = message_begin,
      .on_url = url,
      .on_status = nullptr,
      .on_header_field = header_field,
      .on_header_value = header_value,
      .on_headers_complete = headers_complete,
      .on_body = body,
      .on_message_complete = message_complete,
      .on_chunk_header = nullptr,
      .on_chunk_complete = nullptr,
  };
};

request_parser::request_parser(const server_options& limits)
    : parser_(std::make_unique<parser_storage>()), limits_(limits) {
  http_parser_init(&parser_->p, HTTP_REQUEST);
  parser_->p.data = this;
}

request_parser::~request_parser() = default;

void request_parser::begin_message() noexcept {
  in_message_ = in_headers_ = true;
  last_was_value_ = false;
  url_begin_ = url_end_ = 0;
  fields_.clear();
  body_.clear();
  continue_ = false;
}

bool request_parser::fail(int status) noexcept {
  if (error_status_ == 0) error_status_ = status;
  return true;
}

bool request_parser::over_header_limit(std::size_t end_offset) const noexcept {
  return end_offset - request_start_ > limits_.max_header_bytes;
}

void request_parser::extend(std::size_t& begin, std::size_t& end, const char* at,
                            std::size_t n) const noexcept {
  // A piece continues the previous one: the caller keeps the request's bytes contiguous.
  const auto offset = static_cast<std::size_t>(at - base_);
  if (end == 0) begin = offset;
  end = offset + n;
}

int request_parser::headers_complete() noexcept {
  http_parser& p = parser_->p;
  in_headers_ = false;
  // Request smuggling (RFC 9112 §6.1): a Transfer-Encoding beside a Content-Length, or one whose
  // last coding is not chunked, leaves the body's length ambiguous. http-parser 2.9.4 rejects
  // these too; this does not depend on the version installed.
  if (p.uses_transfer_encoding != 0 &&
      ((p.flags & F_CONTENTLENGTH) != 0 || (p.flags & F_CHUNKED) == 0)) {
    fail(400);
    return -1;
  }
  if ((p.flags & F_CONTENTLENGTH) != 0 && p.content_length > limits_.max_body_bytes) {
    fail(413);
    return -1;
  }
  for (const offsets& f : fields_) {
    const std::string_view name(base_ + f.name_begin, f.name_end - f.name_begin);
    const std::string_view value(base_ + f.value_begin, f.value_end - f.value_begin);
    if (iequals(name, "expect") && iequals(value, "100-continue")) {
      continue_ = (p.flags & F_CHUNKED) != 0 || p.content_length > 0;
    }
  }
  return 0;
}

void request_parser::build_request() noexcept {
  headers_.clear();
  for (const offsets& f : fields_) {
    headers_.push_back({{base_ + f.name_begin, f.name_end - f.name_begin},
                        {base_ + f.value_begin, f.value_end - f.value_begin}});
  }
  const http_parser& p = parser_->p;
  request_.method = http_method_str(static_cast<http_method>(p.method));
  request_.target = {base_ + url_begin_, url_end_ - url_begin_};
  request_.version_minor = p.http_minor;
  request_.headers = headers_;
  request_.body = body_;
}

request_parser::result request_parser::feed(const char* buf, std::size_t from, std::size_t to) {
  http_parser& p = parser_->p;
  base_ = buf;
  complete_ = false;
  if (in_message_ == false) request_start_ = from;
  const std::size_t n = http_parser_execute(&p, &callbacks::settings, buf + from, to - from);
  consumed_ = from + n;
  if (complete_) {
    http_parser_pause(&p, 0);
    request_start_ = consumed_;
    return result::complete;
  }
  if (error_status_ == 0 && HTTP_PARSER_ERRNO(&p) == HPE_HEADER_OVERFLOW) fail(431);
  if (error_status_ == 0 && (HTTP_PARSER_ERRNO(&p) != HPE_OK || n != to - from)) fail(400);
  // Whitespace and a header line still being received reach no callback yet: count them too.
  if (error_status_ == 0 && in_headers_ && over_header_limit(to)) fail(431);
  if (error_status_ != 0) return result::error;
  if (!in_message_) request_start_ = consumed_;
  return result::more;
}

void request_parser::shift(std::size_t by) noexcept {
  request_start_ -= by;
  consumed_ -= by;
  if (url_end_ != 0) url_begin_ -= by, url_end_ -= by;
  for (offsets& f : fields_) {
    if (f.name_end != 0) f.name_begin -= by, f.name_end -= by;
    if (f.value_end != 0) f.value_begin -= by, f.value_end -= by;
  }
}

bool request_parser::take_continue() noexcept { return std::exchange(continue_, false); }

}  // namespace coloop::http

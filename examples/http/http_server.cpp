// The connection loop: read what is there, answer every complete request in it, write the
// answers in one write, wait for readability. The read buffer and the output buffer belong to
// the thread (nothing suspends between the read and the write), so an idle connection holds no
// buffer; only a request split across reads is carried over in the connection's own string.
//
// Timeouts: each connection publishes a deadline; one sweeper task per server shuts down (not
// closes) the sockets past theirs, so the connection's own task wakes up at end of stream and
// ends on its own thread. A connection therefore pays no timer operation per request.

#include "http_server.hpp"

#include <http_parser.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <coloop/runtime/now.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/sync/event.hpp>

#include "request_parser.hpp"

namespace coloop::http {

namespace {

bool is_token_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

}  // namespace

void response::add_header(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
    throw std::invalid_argument("coloop::http::response::add_header: bad header name '" +
                                std::string(name) + "'");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw std::invalid_argument("coloop::http::response::add_header: value of '" +
                                std::string(name) + "' holds CR, LF or NUL");
  }
  headers_.append(name).append(": ").append(value).append("\r\n");
}

void response::reset() noexcept {
  status = 200;
  content_type = "text/plain";
  body.clear();
  close = false;
  headers_.clear();
}

namespace {

using ns = std::int64_t;
ns now_ns() { return coloop::now().time_since_epoch().count(); }

/// "Date: Wed, 02 Dec 2026 05:27:53 GMT\r\n" (RFC 7231 IMF-fixdate), rebuilt once a second.
std::string_view date_line() {
  thread_local std::time_t second = -1;
  thread_local char line[64];
  thread_local std::size_t size = 0;
  const std::time_t t = std::time(nullptr);
  if (t != second) {
    second = t;
    std::tm tm{};
    gmtime_r(&t, &tm);
    size = std::strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
  }
  return {line, size};
}

/// "OK", "Not Found", ... (http-parser's table; "<unknown>" for a status it does not know).
std::string_view reason(int status) noexcept {
  return http_status_str(static_cast<http_status>(status));
}

void append_number(std::string& out, std::size_t v) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, r.ptr);
}

/// One connection in its server's list, for the sweeper and for the stop.
struct link {
  link* prev = nullptr;
  link* next = nullptr;
  int fd = -1;
  bool cut = false;                // shut down already (under the list's mutex)
  std::atomic<ns> deadline{0};     // relaxed: a deadline read a moment late costs one tick
};

struct server_state {
  server_state(handler hd, server_options o) : h(std::move(hd)), options(std::move(o)) {
    if (!options.server_name.empty()) server_line = "Server: " + options.server_name + "\r\n";
  }
  handler h;
  server_options options;
  std::string server_line;
  std::mutex m;  // the list, count and stopping: connections register from any runtime worker
  link head;     // sentinel of a circular list
  std::size_t count = 0;
  bool stopping = false;
  coloop::event all_done;

  void cut(link& l) {  // under m
    if (!l.cut) ::shutdown(l.fd, SHUT_RDWR);
    l.cut = true;
  }
};

void write_response(const server_state& st, std::string& out, const response& res, bool head,
                    bool close, bool explicit_keep_alive) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(res.status));
  out.push_back(' ');
  out.append(reason(res.status)).append("\r\n");
  out.append(st.server_line).append(date_line());
  if (!res.content_type.empty())
    out.append("Content-Type: ").append(res.content_type).append("\r\n");
  const bool no_body = res.status < 200 || res.status == 204 || res.status == 304;
  if (!no_body) {
    out.append("Content-Length: ");
    append_number(out, res.body.size());
    out.append("\r\n");
  }
  out.append(res.extra_headers());
  if (close) {
    out.append("Connection: close\r\n");
  } else if (explicit_keep_alive) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!head && !no_body) out.append(res.body);
}

void write_error(const server_state& st, std::string& out, int status) {
  thread_local response res;
  res.reset();
  res.status = status;
  res.body = reason(status);
  write_response(st, out, res, false, true, false);
}

struct thread_buffers {
  char in[64 * 1024];
  std::string out;
  response res;
};

/// This thread's buffers. Not inlined, and called afresh after every resumption: a coroutine
/// resumed on another runtime worker must not reuse a thread-local address it computed before.
[[gnu::noinline]] thread_buffers& buffers() {
  thread_local thread_buffers b;
  return b;
}

/// A connection's own state between reads.
struct connection_state {
  explicit connection_state(const server_options& o) : parser(o) {}
  request_parser parser;
  std::string carried;  // the start of a request split across reads
  std::string unsent;   // what the socket did not take at once
  bool header_deadline_armed = true, served_one = false;
  bool closing = false;  // the last response is out once `unsent` is
};

enum class next_step { wait_readable, write_unsent, peer_closed, close };

/// The deadline for the wait to come: the header timeout from the first byte of a request (or
/// from the accept), else the idle timeout from now.
void arm_deadline(const server_options& o, connection_state& c, link& l) {
  if (c.parser.in_headers() || (!c.served_one && c.parser.idle())) {
    if (c.header_deadline_armed) return;
    c.header_deadline_armed = true;
    l.deadline.store(now_ns() + o.header_timeout.count(), std::memory_order_relaxed);
  } else {
    c.header_deadline_armed = false;
    l.deadline.store(now_ns() + o.idle_timeout.count(), std::memory_order_relaxed);
  }
}

/// Answers every complete request in buf[from, end) into `out`; true when the connection is to
/// close after writing it.
bool answer(const server_state& st, connection_state& c, const char* buf, std::size_t from,
            std::size_t end, thread_buffers& tb) {
  for (;;) {
    const auto r = c.parser.feed(buf, from, end);
    if (r == request_parser::result::error) {
      write_error(st, tb.out, c.parser.error_status());
      return true;
    }
    if (r == request_parser::result::more) {
      if (c.parser.take_continue()) tb.out.append("HTTP/1.1 100 Continue\r\n\r\n");
      return false;
    }
    c.served_one = true;
    c.header_deadline_armed = false;
    response& res = tb.res;
    res.reset();
    try {
      st.h(c.parser.current(), res);
    } catch (...) {
      res.reset();
      res.status = 500;
      res.body = reason(500);
    }
    const bool close = res.close || !c.parser.keep_alive();
    write_response(st, tb.out, res, c.parser.head(), close, c.parser.explicit_keep_alive());
    from = c.parser.consumed();
    if (close) return true;
    if (from == end) return false;
  }
}

/// One read, the answers to every request it completes, one write: everything between two
/// waits, without suspending (so the thread's buffers may be used). Not inlined into the
/// coroutine, so no thread-local address it computes (buffers, the Date cache) can be hoisted
/// into the coroutine's frame and reused on another worker after a resumption.
[[gnu::noinline]] next_step step(const server_state& st, connection_state& c, tcp_stream& s,
                                 link& l) {
  thread_buffers& tb = buffers();
  std::string& carried = c.carried;
  const std::size_t old = carried.size();
  char* buf = tb.in;
  std::size_t room = sizeof tb.in;
  if (old != 0) {  // a request is split: read behind its start
    carried.resize(old + 16 * 1024);
    buf = carried.data() + old;
    room = carried.size() - old;
  }
  const long n = s.try_read_some(buf, room);
  if (n <= 0) carried.resize(old);
  if (n == 0) return next_step::peer_closed;
  if (n < 0) {
    arm_deadline(st.options, c, l);
    return next_step::wait_readable;
  }
  const std::size_t end = old + static_cast<std::size_t>(n);
  if (old != 0) carried.resize(end);
  const char* base = old != 0 ? carried.data() : tb.in;
  tb.out.clear();
  const bool close = answer(st, c, base, old, end, tb);
  c.closing = close;
  if (!close) {  // carry the unfinished request's bytes over, to the start of `carried`
    const std::size_t keep = c.parser.request_start();
    if (keep == end) {
      carried.clear();
    } else if (old != 0) {
      carried.erase(0, keep);
    } else {
      carried.assign(tb.in + keep, end - keep);
    }
    c.parser.shift(keep);
  }
  if (!tb.out.empty()) {
    const long sent = s.try_write_some(tb.out.data(), tb.out.size());
    if (sent < static_cast<long>(tb.out.size())) {  // the client is slow: keep the rest
      c.unsent.assign(tb.out, sent < 0 ? 0 : static_cast<std::size_t>(sent));
      l.deadline.store(now_ns() + st.options.idle_timeout.count(), std::memory_order_relaxed);
      return next_step::write_unsent;
    }
  }
  if (close) return next_step::close;
  arm_deadline(st.options, c, l);
  return next_step::wait_readable;
}

/// Serves requests until the client closes, a request asks to close, or an error.
task<void> serve_requests(const server_state& st, tcp_stream& s, link& l) {
  connection_state c(st.options);
  l.deadline.store(now_ns() + st.options.header_timeout.count(), std::memory_order_relaxed);
  for (;;) {
    const next_step next = step(st, c, s, l);
    if (next == next_step::peer_closed) co_return;
    if (next == next_step::close) break;
    if (next == next_step::wait_readable) {
      co_await s.wait_readable();
      continue;
    }
    co_await s.write_all(c.unsent.data(), c.unsent.size());
    c.unsent.clear();
    if (c.closing) break;
  }
  // Lingering close: closing with unread bytes would reset the connection and could destroy
  // the last response in flight; so stop sending, then read until the client closes (bounded).
  s.shutdown_write();
  l.deadline.store(now_ns() + std::min<ns>(st.options.idle_timeout.count(), 2'000'000'000),
                   std::memory_order_relaxed);
  for (;;) {
    const long n = s.try_read_some(buffers().in, sizeof buffers().in);
    if (n == 0) break;
    if (n < 0) co_await s.wait_readable();
  }
}

task<void> connection(std::shared_ptr<server_state> st, tcp_stream s) {
  link l;
  l.fd = s.native_handle();
  {
    std::lock_guard lock(st->m);
    if (st->stopping) co_return;
    l.prev = &st->head;
    l.next = st->head.next;
    st->head.next->prev = &l;
    st->head.next = &l;
    ++st->count;
  }
  struct unlink {  // before `s` closes its fd, so the sweeper never shuts down a reused fd
    server_state& st;
    link& l;
    ~unlink() {
      std::lock_guard lock(st.m);
      l.prev->next = l.next;
      l.next->prev = l.prev;
      if (--st.count == 0 && st.stopping) st.all_done.set();
    }
  };
  unlink guard{*st, l};
  try {
    co_await serve_requests(*st, s, l);
  } catch (const std::system_error&) {
    // a reset, a broken pipe, a shut-down socket, or cancellation: this connection ends
  }
}

task<void> sweep(std::shared_ptr<server_state> st) {
  const server_options& o = st->options;
  const duration tick = std::clamp<duration>(std::min(o.header_timeout, o.idle_timeout) / 4,
                                             std::chrono::milliseconds(1), std::chrono::seconds(1));
  for (;;) {
    co_await sleep_for(tick);
    const ns t = now_ns();
    std::lock_guard lock(st->m);
    for (link* l = st->head.next; l != &st->head; l = l->next) {
      if (l->deadline.load(std::memory_order_relaxed) <= t) st->cut(*l);
    }
  }
}

task<void> accept_loop(const std::shared_ptr<server_state>& st, tcp_listener& listener) {
  for (;;) {
    tcp_stream s = co_await listener.accept();
    spawn(connection, st, std::move(s)).detach();
  }
}

}  // namespace

task<void> serve(tcp_listener listener, handler h, server_options options) {
  if (!h) throw std::invalid_argument("coloop::http::serve: empty handler");
  if (options.max_header_bytes == 0 || options.max_headers == 0 || options.max_body_bytes == 0 ||
      options.header_timeout <= duration::zero() || options.idle_timeout <= duration::zero()) {
    throw std::invalid_argument("coloop::http::serve: limits and timeouts must be positive");
  }
  auto st = std::make_shared<server_state>(std::move(h), std::move(options));
  st->head.prev = st->head.next = &st->head;
  auto sweeper = spawn(sweep, st);
  std::exception_ptr error;
  try {
    co_await accept_loop(st, listener);
  } catch (...) {
    error = std::current_exception();
  }
  listener.close();
  sweeper.cancel();
  bool wait = false;
  {
    std::lock_guard lock(st->m);
    st->stopping = true;
    for (link* l = st->head.next; l != &st->head; l = l->next) st->cut(*l);
    wait = st->count != 0;
  }
  if (wait) co_await st->all_done.wait();
  try {
    co_await std::move(sweeper);
  } catch (const cancelled_error&) {
  }
  std::rethrow_exception(error);
}

}  // namespace coloop::http

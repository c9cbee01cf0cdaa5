// stream_writer: asyncio.StreamWriter's writes and flow control over a stream_transport.
//
// write() with nothing buffered tries the socket at once (one send, no task); what the socket
// does not take is buffered and a flusher task (stream_transport.cpp) sends it as the socket
// drains. drain() is a fast check when the buffer is at or under the high-water mark and waits
// on the transport's drain list otherwise. Errors are recorded once on the transport (the first
// failure wins) and rethrown by every later write, drain and wait_closed.

#include <coloop/core/errors.hpp>
#include <coloop/net/stream_writer.hpp>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "net/stream_transport.hpp"

#include "core/metrics_source.hpp"

namespace coloop {
namespace {

[[noreturn]] void throw_closed(const char* what) {
  throw std::system_error(make_error_code(errc::closed), what);
}

/// One send of `data` if the socket is known writable and nothing waits to write: the bytes it
/// took (0 on EAGAIN). A failure is recorded on the transport and thrown. In a transport_scope.
std::size_t send_now(detail::stream_transport& t, std::string_view data) {
  detail::fd_entry* e = t.entry();
  if (e == nullptr) throw_closed("coloop::stream_writer::write");
  constexpr int w = detail::index(detail::io_dir::write);
  detail::entry_lock lock(*e);
  if (!e->ready[w] || e->head[w] != nullptr) return 0;
  detail::io_op op;
  op.fd = e;
  op.dir = detail::io_dir::write;
  op.buffer = const_cast<char*>(data.data());
  op.length = data.size();
  if (!t.write_attempt()(&op)) return 0;  // EAGAIN: readiness is cleared
  lock.unlock();
  if (op.error != 0) {
    t.fail(std::make_exception_ptr(
        std::system_error(op.error, std::generic_category(), "coloop::stream_writer::write")));
    std::rethrow_exception(t.error);
  }
  detail::count(detail::thread_count::stream_bytes_written, op.result);
  return op.result;
}

// Predicates for the wait lists; they run under the list's lock and take the transport's.
bool drain_over(const void* transport) {
  auto& t = *static_cast<detail::stream_transport*>(const_cast<void*>(transport));
  const detail::transport_scope scope(t);
  return t.error || t.closing || t.buffered() <= t.low_water;
}

bool socket_closed(const void* transport) {
  auto& t = *static_cast<detail::stream_transport*>(const_cast<void*>(transport));
  const detail::transport_scope scope(t);
  return t.closed;
}

endpoint socket_endpoint(detail::stream_transport& t, bool remote) {
  const detail::transport_scope scope(t);
  return remote ? t.socket.remote_endpoint() : t.socket.local_endpoint();
}

}  // namespace

stream_writer::stream_writer(std::shared_ptr<detail::stream_transport> transport) noexcept
    : transport_(std::move(transport)) {}

stream_writer& stream_writer::operator=(stream_writer&& other) noexcept {
  if (this != &other) {
    close();
    transport_ = std::move(other.transport_);
  }
  return *this;
}

stream_writer::~stream_writer() { close(); }

detail::stream_transport& stream_writer::checked() const {
  if (transport_ == nullptr) throw_closed("coloop::stream_writer: no stream");
  return *transport_;
}

void stream_writer::write(std::string_view data) {
  detail::stream_transport& t = checked();
  const detail::transport_scope scope(t);
  if (t.error) std::rethrow_exception(t.error);
  if (t.closing || t.eof_requested) throw_closed("coloop::stream_writer::write");
  if (data.empty()) return;
  if (t.flushing) {
    if (t.out_begin > 0 && t.out_begin >= t.out.size() / 2) {
      t.out.erase(0, t.out_begin);
      t.out_begin = 0;
    }
    t.out.append(data);
    return;
  }
  const std::size_t sent = send_now(t, data);
  if (sent == data.size()) return;
  t.out.assign(data.substr(sent));
  t.out_begin = 0;
  t.start_flusher();
}

task<void> stream_writer::drain() {
  detail::stream_transport& t = checked();
  {
    const detail::transport_scope scope(t);
    if (t.error) std::rethrow_exception(t.error);
    if (t.aborted) throw_closed("coloop::stream_writer::drain");
    if (t.buffered() <= t.high_water) co_return;
  }
  const std::shared_ptr<detail::stream_transport> keep = transport_;  // the writer may move
  while (!drain_over(&t)) co_await t.drain_waiters.wait_until(&drain_over, &t);
  const detail::transport_scope scope(t);
  if (t.error) std::rethrow_exception(t.error);
  // Aborted (the bytes waited for were dropped), or closed with the buffer still above low.
  if (t.aborted || (t.closing && t.buffered() > t.low_water)) {
    throw_closed("coloop::stream_writer::drain");
  }
}

void stream_writer::write_eof() {
  detail::stream_transport& t = checked();
  const detail::transport_scope scope(t);
  if (t.error) std::rethrow_exception(t.error);
  if (t.closing) throw_closed("coloop::stream_writer::write_eof");
  if (t.eof_requested) return;
  t.eof_requested = true;
  if (t.flushing) return;  // the flusher shuts down once the buffer is sent
  t.shut_write();
  if (t.error) std::rethrow_exception(t.error);
}

void stream_writer::close() noexcept {
  if (transport_ == nullptr) return;
  detail::stream_transport& t = *transport_;
  const detail::transport_scope scope(t);
  if (t.closing) return;
  t.closing = true;
  if (t.flushing) {
    t.to_wake |= detail::stream_transport::wake_drain;  // drain() stops; the flusher closes
  } else {
    t.close_socket();
  }
}

void stream_writer::abort() noexcept {
  if (transport_ == nullptr) return;
  detail::stream_transport& t = *transport_;
  const detail::transport_scope scope(t);
  t.closing = true;
  t.aborted = true;
  std::string().swap(t.out);
  t.out_begin = 0;
  t.close_socket();
}

task<void> stream_writer::wait_closed() {
  const std::shared_ptr<detail::stream_transport> keep = transport_;
  detail::stream_transport& t = checked();
  while (!socket_closed(&t)) co_await t.closed_waiters.wait_until(&socket_closed, &t);
  const detail::transport_scope scope(t);
  if (t.error) std::rethrow_exception(t.error);
}

bool stream_writer::is_closing() const noexcept {
  if (transport_ == nullptr) return false;
  const detail::transport_scope scope(*transport_);
  return transport_->closing || transport_->error != nullptr;
}

std::size_t stream_writer::buffer_size() const noexcept {
  if (transport_ == nullptr) return 0;
  const detail::transport_scope scope(*transport_);
  return transport_->buffered();
}

void stream_writer::set_write_buffer_limits(std::size_t high, std::size_t low) {
  if (low > high) {
    throw std::invalid_argument("coloop::stream_writer::set_write_buffer_limits: low > high");
  }
  detail::stream_transport& t = checked();
  const detail::transport_scope scope(t);
  t.high_water = high;
  t.low_water = low;
}

endpoint stream_writer::remote_endpoint() const { return socket_endpoint(checked(), true); }

endpoint stream_writer::local_endpoint() const { return socket_endpoint(checked(), false); }

}  // namespace coloop

#pragma once
// server: asyncio's start_server / start_unix_server. A listening socket whose accept loop runs
// a handler task with a stream_reader and a stream_writer for each connection.

#include <coloop/core/task.hpp>
#include <coloop/net/endpoint.hpp>
#include <coloop/net/streams.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace coloop {

namespace detail {
struct server_state;
}

/// Handles one connection. Its reader and writer close the connection when they go away (the
/// writer flushes first); an exception it ends with goes to the loop's exception handler.
using connection_handler = std::function<task<void>(stream_reader, stream_writer)>;

struct server_options {
  stream_options streams;  ///< limit and flow-control marks of each connection's streams
  int backlog = 1024;
  bool reuse_address = true;  ///< SO_REUSEADDR (TCP)
  bool reuse_port = false;    ///< SO_REUSEPORT (TCP): one server per thread on one port
};

/// A running server (asyncio.Server, 3.12 semantics). Move-only; use it on its loop's thread.
///  - close() stops accepting (the listening sockets close); running handlers go on.
///  - close_clients() cancels every running handler (its co_await throws cancelled_error, its
///    streams go away and close the connection).
///  - wait_closed() waits until the server is closed and every handler has finished.
///  - serve_forever() waits until close(); cancelled, it closes the server, cancels the
///    handlers, waits for them and throws cancelled_error.
///  - Destroying the server does close() and close_clients() (without waiting).
class server {
 public:
  server() noexcept = default;
  explicit server(std::shared_ptr<detail::server_state> state) noexcept;
  server(server&&) noexcept = default;
  server& operator=(server&& other) noexcept;
  ~server();

  /// The addresses listened on (one per address the host resolved to; the unix path).
  const std::vector<endpoint>& sockets() const noexcept;
  /// The first of sockets() (with the port picked when 0 was asked for). Throws
  /// std::logic_error for an empty server.
  endpoint local_endpoint() const;
  bool is_serving() const noexcept;
  /// Handlers running (or accepted and about to start).
  std::size_t connections() const noexcept;

  /// Stops accepting. Idempotent; never throws.
  void close() noexcept;
  /// Cancels every running handler, and those accepted but not started yet. Never throws.
  void close_clients() noexcept;
  /// Waits until closed and every handler has finished. Cancellable.
  task<void> wait_closed();
  /// Waits until close() is called (then returns). Throws errc::closed when already closed;
  /// when cancelled, see the class comment.
  task<void> serve_forever();

 private:
  std::shared_ptr<detail::server_state> state_;
};

/// Listens on `host` ("" for every IPv4 interface, an IP literal, or a name: every address it
/// resolves to) and `port` (0: a free one, the same for all addresses), and runs `handler` as a
/// task of the current loop for every connection. Throws std::system_error (EADDRINUSE, a
/// resolve error, ...), std::invalid_argument for bad options or an empty handler,
/// std::logic_error without a running loop. g++ 12 double-frees a capturing lambda written
/// inside `co_await start_server(...)`: name it first, or use serve() (not awaited).
task<server> start_server(connection_handler handler, std::string host, std::uint16_t port,
                          server_options options = {});
/// As start_server, on a unix-domain socket at `path` (removed when the server closes).
task<server> start_unix_server(connection_handler handler, std::string path,
                               server_options options = {});
/// Listens on `where` at once (an IP endpoint, port 0 picking a free one, or a unix path,
/// removed when the server closes) and runs `handler` as a task of the current loop for every
/// connection. An ordinary call, not awaited, so `handler` may be a capturing lambda written
/// inline (g++ 12 mishandles one inside start_server's co_await); the server keeps it until the
/// last handler has ended. Throws std::system_error (EADDRINUSE, ...), std::invalid_argument for
/// an empty endpoint, bad options or an empty handler, std::logic_error without a running loop.
/// Names are not resolved: use start_server for a host name. Call it on the loop's thread.
server serve(connection_handler handler, const endpoint& where, server_options options = {});

namespace detail {
/// A move-only handler made copyable for connection_handler: the copies share one object.
template <class H>
struct shared_handler {
  std::shared_ptr<H> handler;
  task<void> operator()(stream_reader r, stream_writer w) const {
    return (*handler)(std::move(r), std::move(w));
  }
};
}  // namespace detail

/// As serve above, for a move-only handler (a lambda capturing a std::unique_ptr, say): the
/// server keeps it in a shared_ptr until its last handler task has ended.
template <class H>
  requires(!std::is_copy_constructible_v<std::decay_t<H>> &&
           std::is_invocable_r_v<task<void>, std::decay_t<H>&, stream_reader, stream_writer>)
server serve(H&& handler, const endpoint& where, server_options options = {}) {
  using D = std::decay_t<H>;
  return serve(connection_handler(detail::shared_handler<D>{
                   std::make_shared<D>(std::forward<H>(handler))}),
               where, std::move(options));
}

}  // namespace coloop

// server: start_server / start_unix_server (asyncio.Server).
//
// Tasks: one accept loop per listening socket and one connection task per accepted socket, all
// spawned detached on the loop and each holding a shared_ptr to the server_state, so the state
// outlives the server object while any of them runs. No join_handle is kept: a connection task
// links a node (with its cancel_state) into the state while it runs, which is how
// close_clients() reaches it; the node unlinks itself when the frame goes, even when the loop
// closes with the task pending.
//
// Counts: accept_loops and connections (incremented at accept, before the task is spawned, so
// wait_closed cannot miss a connection about to start) fall back to zero as the tasks end; the
// server is closed when it stopped serving and both are zero. A connection accepted before
// close_clients() but not started yet sees a newer `epoch` and closes without running the
// handler.
//
// Shutdown: close() closes the listeners, whose pending accepts fail with errc::closed and end
// the accept loops; close_clients() cancels the handlers; each task's end wakes wait_closed.
// On the multi-threaded runtime an accept loop may be using its listener on another worker, so
// close() cancels the accept loops instead and each closes its own listener as it ends.
// Threads: the counts are atomic, the lists of running connections and accept loops are under
// `mutex` (a cancel request is made while holding it, so the target cannot finish meanwhile), and
// waiters re-check their condition under the wait_list's lock.

#include <coloop/core/errors.hpp>
#include <coloop/net/resolve.hpp>
#include <coloop/net/server.hpp>
#include <coloop/net/tcp.hpp>
#include <coloop/net/unix_socket.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/run_coroutine_threadsafe.hpp>  // current_cancel_state
#include <coloop/runtime/spawn.hpp>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/metrics_source.hpp"
#include "runtime/context.hpp"
#include <coloop/detail/intrusive_list.hpp>
#include <coloop/detail/wait_list.hpp>

namespace coloop {
namespace detail {

struct connection_node {
  connection_node* prev_ = nullptr;
  connection_node* next_ = nullptr;
  cancel_state* cancel = nullptr;
};

struct server_state {
  server_state();
  ~server_state();
  static void collect(const void* self, metric_writer& out);

  connection_handler handler;
  stream_options streams;
  std::vector<tcp_listener> tcp;
  unix_listener local_listener;  // start_unix_server
  std::vector<endpoint> endpoints;

  std::atomic<bool> serving{true};
  std::atomic<std::size_t> accept_loops{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<unsigned> epoch{0};  // bumped by close_clients()
  std::atomic<std::uint64_t> accepted{0};  // metrics; relaxed: a count orders nothing
  const unsigned id;                       // metrics: the "server" label
  std::mutex mutex;
  intrusive_list<connection_node> running;    // under mutex
  intrusive_list<connection_node> accepting;  // under mutex: the accept loops
  wait_list closed_waiters;
  wait_list serving_waiters;

  bool is_closed() const noexcept { return !serving && accept_loops == 0 && connections == 0; }
  static bool closed_fn(const void* self) noexcept {
    return static_cast<const server_state*>(self)->is_closed();
  }
  static bool not_serving_fn(const void* self) noexcept {
    return !static_cast<const server_state*>(self)->serving;
  }
  void maybe_closed() noexcept {
    if (is_closed()) closed_waiters.notify_all();
  }
  void close() noexcept {
    if (!serving.exchange(false)) return;
    // The accept loops close their own listeners as they end: on the runtime one may be inside
    // accept() on another thread, so closing the listener here would race with it.
    {
      std::lock_guard lock(mutex);
      for (connection_node* n = accepting.front(); n != nullptr; n = n->next_) n->cancel->request();
    }
    serving_waiters.notify_all();
    maybe_closed();
  }
  void close_clients() noexcept {
    ++epoch;
    std::lock_guard lock(mutex);
    for (connection_node* n = running.front(); n != nullptr; n = n->next_) {
      if (n->cancel != nullptr) n->cancel->request();  // posts the task; unlinks nothing now
    }
  }
};

namespace {
constinit std::atomic<unsigned> last_server_id{0};
}

// Relaxed: an id needs only to be unique.
server_state::server_state() : id(last_server_id.fetch_add(1, std::memory_order_relaxed) + 1) {
  add_collector(&collect, this);
}

server_state::~server_state() { remove_collector(&collect, this); }

void server_state::collect(const void* self, metric_writer& out) {
  const auto& s = *static_cast<const server_state*>(self);
  const metrics::label_set labels{{"server", std::to_string(s.id)}};
  out.counter("coloop_server_connections_accepted_total", "Connections a server accepted.",
              labels, sample(s.accepted));
  out.gauge("coloop_server_connections_active", "Connections a server's handlers serve now.",
            labels, sample(s.connections));
}

namespace {

/// Links a task's cancel_state into one of its server's lists (a running connection, an accept
/// loop), so close_clients() or close() reaches it; unlinks when its frame goes, and then
/// decrements `count` if given.
class task_link {
 public:
  task_link(server_state& s, intrusive_list<connection_node>& list, cancel_state* cancel,
            std::atomic<std::size_t>* count = nullptr) noexcept
      : s_(s), list_(list), count_(count) {
    node_.cancel = cancel;
    std::lock_guard lock(s.mutex);
    list.push_front(node_);
  }
  task_link(const task_link&) = delete;
  task_link& operator=(const task_link&) = delete;
  ~task_link() {
    std::lock_guard lock(s_.mutex);
    list_.remove(node_);
    if (count_ != nullptr) --*count_;
  }

 private:
  server_state& s_;
  intrusive_list<connection_node>& list_;
  std::atomic<std::size_t>* count_;
  connection_node node_;
};

/// The handler's task for `socket` (its streams move into the handler's frame).
task<void> start_handler(server_state& s, stream_socket socket) {
  stream_pair streams = make_streams(std::move(socket), s.streams);
  return s.handler(std::move(streams.reader), std::move(streams.writer));
}

task<void> serve_connection(std::shared_ptr<server_state> s, stream_socket socket, unsigned epoch) {
  std::exception_ptr error;
  {
    task_link link(*s, s->running, co_await current_cancel_state{}, &s->connections);
    if (epoch == s->epoch) {
      try {
        co_await start_handler(*s, std::move(socket));
      } catch (...) {
        error = std::current_exception();
      }
    }
  }
  s->maybe_closed();
  if (error) std::rethrow_exception(error);  // to the loop's exception handler (not cancels)
}

/// The accept loop of `listener`, a tcp_listener or unix_listener of `s` (which the loop keeps).
template <class Listener>
task<void> accept_loop(std::shared_ptr<server_state> s, Listener& listener) {
  std::exception_ptr error;
  try {
    task_link link(*s, s->accepting, co_await current_cancel_state{});
    while (s->serving) {
      stream_socket socket = co_await listener.accept();
      if (!s->serving) break;
      ++s->connections;
      s->accepted.fetch_add(1, std::memory_order_relaxed);
      try {
        spawn(serve_connection(s, std::move(socket), s->epoch)).detach();
      } catch (...) {
        --s->connections;
        throw;
      }
    }
  } catch (const std::system_error& e) {
    // A closed listener ends the loop; cancellation is the loop shutting down.
    if (e.code() != errc::closed && e.code() != errc::cancelled) error = std::current_exception();
  } catch (...) {
    error = std::current_exception();
  }
  listener.close();  // this loop's own listener: nobody else uses it now
  --s->accept_loops;
  if (error) s->close();  // an accept that fails for good (not EMFILE: that one waits) stops it
  s->maybe_closed();
  if (error) std::rethrow_exception(error);
}

server start_accepting(std::shared_ptr<server_state> s) {
  const auto start = [&s](auto& listener) {
    spawn(accept_loop(s, listener)).detach();
    ++s->accept_loops;
  };
  if (s->local_listener.is_open()) start(s->local_listener);  // a unix server
  for (tcp_listener& listener : s->tcp) start(listener);
  return server(std::move(s));
}

std::shared_ptr<server_state> new_state(connection_handler handler, const server_options& options,
                                        const char* api) {
  if (!handler) throw std::invalid_argument(std::string(api) + ": empty handler");
  // Checks the stream options now rather than at the first connection.
  if (options.streams.limit == 0 || options.streams.low_water > options.streams.high_water) {
    throw std::invalid_argument(std::string(api) + ": bad stream_options");
  }
  auto s = std::make_shared<server_state>();
  s->handler = std::move(handler);
  s->streams = options.streams;
  return s;
}

void listen_tcp(server_state& s, const endpoint& local, const server_options& options) {
  const tcp_listen_options listen{options.backlog, options.reuse_address, options.reuse_port};
  s.tcp.push_back(tcp_listener::bind(local, listen));
  s.endpoints.push_back(s.tcp.back().local_endpoint());
}

void listen_unix(server_state& s, std::string_view path, const server_options& options) {
  s.local_listener = unix_listener::bind(path, options.backlog);
  s.endpoints.push_back(endpoint::unix_path(s.local_listener.path()));
}

}  // namespace
}  // namespace detail

server::server(std::shared_ptr<detail::server_state> state) noexcept : state_(std::move(state)) {}

server& server::operator=(server&& other) noexcept {
  if (this != &other) {
    close();
    close_clients();
    state_ = std::move(other.state_);
  }
  return *this;
}

server::~server() {
  close();
  close_clients();
}

const std::vector<endpoint>& server::sockets() const noexcept {
  static const std::vector<endpoint> none;
  return state_ != nullptr ? state_->endpoints : none;
}

endpoint server::local_endpoint() const {
  if (state_ == nullptr || state_->endpoints.empty()) {
    throw std::logic_error("coloop::server::local_endpoint: no server");
  }
  return state_->endpoints.front();
}

bool server::is_serving() const noexcept { return state_ != nullptr && state_->serving; }

std::size_t server::connections() const noexcept {
  return state_ != nullptr ? state_->connections.load() : 0;
}

void server::close() noexcept {
  if (state_ != nullptr) state_->close();
}

void server::close_clients() noexcept {
  if (state_ != nullptr) state_->close_clients();
}

task<void> server::wait_closed() {
  const std::shared_ptr<detail::server_state> s = state_;
  if (s == nullptr) co_return;
  while (!s->is_closed())
    co_await s->closed_waiters.wait_until(&detail::server_state::closed_fn, s.get());
}

task<void> server::serve_forever() {
  const std::shared_ptr<detail::server_state> s = state_;
  if (s == nullptr || !s->serving) {
    throw std::system_error(make_error_code(errc::closed), "coloop::server::serve_forever");
  }
  try {
    while (s->serving) {
      co_await s->serving_waiters.wait_until(&detail::server_state::not_serving_fn, s.get());
    }
    co_return;
  } catch (const cancelled_error&) {  // stop serving, then end as cancelled
  }
  s->close();
  s->close_clients();
  while (!s->is_closed())
    co_await s->closed_waiters.wait_until(&detail::server_state::closed_fn, s.get());
  throw cancelled_error();
}

task<server> start_server(connection_handler handler, std::string host, std::uint16_t port,
                          server_options options) {
  auto s = detail::new_state(std::move(handler), options, "coloop::start_server");
  // A named string: g++ 12 mishandles a temporary made by ?: inside a co_await expression.
  std::string bind_host = host.empty() ? std::string("0.0.0.0") : std::move(host);
  const std::vector<endpoint> addresses = co_await resolve(std::move(bind_host), port);
  for (const endpoint& address : addresses) {
    // Port 0: every address gets the port the first bind picked.
    const endpoint local = (port == 0 && !s->tcp.empty())
                               ? endpoint::ip(address.address(), s->endpoints.front().port())
                               : address;
    detail::listen_tcp(*s, local, options);
  }
  co_return detail::start_accepting(std::move(s));
}

task<server> start_unix_server(connection_handler handler, std::string path,
                               server_options options) {
  auto s = detail::new_state(std::move(handler), options, "coloop::start_unix_server");
  detail::listen_unix(*s, path, options);
  co_return detail::start_accepting(std::move(s));
}

server serve(connection_handler handler, const endpoint& where, server_options options) {
  detail::require_running_loop("coloop::serve");  // before binding: no loop, no listener
  if (where.family() == endpoint::family_type::none) {
    throw std::invalid_argument("coloop::serve: empty endpoint");
  }
  auto s = detail::new_state(std::move(handler), options, "coloop::serve");
  if (where.is_ip()) {
    detail::listen_tcp(*s, where, options);
  } else {
    detail::listen_unix(*s, where.address(), options);
  }
  return detail::start_accepting(std::move(s));
}

}  // namespace coloop

// Boost.Beast plaintext server on one Asio io_context, one thread: the Beast peer of bench/http.
// The classic async session (Beast's http_server_async example): read a request, write the
// answer, read the next from the same buffer (keep-alive and pipelining); close when the client
// asks. Beast adds no Date header, so a timer refreshes one once a second as the others do.
// Prints `listening on 127.0.0.1:P` when ready; SIGINT and SIGTERM stop it.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string date_header;  // one thread: no synchronisation

void refresh_date(asio::steady_timer& timer) {
  char buf[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  date_header.assign(buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm));
  timer.expires_after(std::chrono::seconds(1));
  timer.async_wait([&timer](beast::error_code ec) {
    if (!ec) refresh_date(timer);
  });
}

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    req_ = {};
    http::async_read(
        socket_, buffer_, req_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec) return;
    res_ = {};
    res_.result(http::status::ok);
    res_.version(req_.version());
    res_.set(http::field::content_type, "text/plain");
    res_.set(http::field::date, date_header);
    res_.keep_alive(req_.keep_alive());
    res_.body() = "Hello, World!";
    res_.prepare_payload();
    http::async_write(socket_, res_,
                      [self = shared_from_this()](beast::error_code wec, std::size_t) {
                        if (wec) return;
                        if (self->res_.need_eof()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket))->read();
    }
    if (acceptor.is_open()) accept(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 8080;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: beast_http [--port P]\n");
      return 2;
    }
  }
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc);
  try {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(1024);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "beast_http: cannot listen on port %u: %s\n", port, e.what());
    return 1;
  }
  asio::steady_timer timer(ioc);
  refresh_date(timer);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
  accept(acceptor);
  std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  ioc.run();
  return 0;
}

// Streams: make_streams wraps a connected socket in a shared stream_transport and hands out its
// reader and writer; open_connection / open_unix_connection connect first.

#include <coloop/core/errors.hpp>
#include <coloop/net/streams.hpp>
#include <coloop/net/tcp.hpp>
#include <coloop/net/unix_socket.hpp>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "net/stream_transport.hpp"

namespace coloop {
namespace {

void check_options(const stream_options& options) {
  if (options.limit == 0) throw std::invalid_argument("coloop::make_streams: limit is 0");
  if (options.low_water > options.high_water) {
    throw std::invalid_argument("coloop::make_streams: low_water > high_water");
  }
}

}  // namespace

stream_pair make_streams(stream_socket socket, const stream_options& options) {
  check_options(options);
  if (!socket.is_open()) {
    throw std::system_error(make_error_code(errc::closed), "coloop::make_streams");
  }
  auto transport = std::make_shared<detail::stream_transport>(std::move(socket), options);
  return {stream_reader(transport), stream_writer(std::move(transport))};  // copied, then moved
}

task<stream_pair> open_connection(std::string host, std::uint16_t port, stream_options options) {
  check_options(options);
  tcp_stream connection = co_await tcp_stream::connect(std::move(host), port);
  co_return make_streams(std::move(connection), options);
}

task<stream_pair> open_unix_connection(std::string path, stream_options options) {
  check_options(options);
  unix_stream connection = co_await unix_stream::connect(path);
  co_return make_streams(std::move(connection), options);
}

}  // namespace coloop

#pragma once
// Streams: a connected socket as a stream_reader / stream_writer pair, and asyncio's
// open_connection / open_unix_connection.

#include <coloop/core/task.hpp>
#include <coloop/net/stream_reader.hpp>
#include <coloop/net/stream_socket.hpp>
#include <coloop/net/stream_writer.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace coloop {

struct stream_options {
  std::size_t limit = stream_reader::default_limit;            ///< read_line / read_until
  std::size_t high_water = stream_writer::default_high_water;  ///< drain() waits above this...
  std::size_t low_water = stream_writer::default_low_water;    ///< ...until at most this
};

/// The two halves of one connection; `auto [reader, writer] = co_await open_connection(...)`.
struct stream_pair {
  stream_reader reader;
  stream_writer writer;
};

/// Wraps a connected socket (a tcp_stream or unix_stream, moved in) as a reader and a writer that
/// share it. Throws std::invalid_argument for limit == 0 or low_water > high_water,
/// std::system_error(errc::closed) for a closed socket.
stream_pair make_streams(stream_socket socket, const stream_options& options = {});

/// Connects to `host` (a name or an IP literal) and `port` over TCP (tcp_stream::connect).
/// Throws std::system_error (ECONNREFUSED, a resolve error, ...), std::invalid_argument for a bad
/// host or options; cancellable (wait_for gives a connect timeout).
task<stream_pair> open_connection(std::string host, std::uint16_t port,
                                  stream_options options = {});
/// Connects to the unix-domain socket at `path`; errors as unix_stream::connect.
task<stream_pair> open_unix_connection(std::string path, stream_options options = {});

}  // namespace coloop

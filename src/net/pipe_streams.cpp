// Pipe streams: one stream_transport per pipe end, flagged as a pipe (stream_transport.hpp), so
// a pipe gets the same buffering, flow control and cancel safety as a socket.

#include "net/pipe_streams.hpp"

#include <coloop/io/async_fd.hpp>
#include <coloop/net/stream_socket.hpp>
#include <memory>

#include "net/stream_transport.hpp"

namespace coloop::detail {
namespace {

std::shared_ptr<stream_transport> pipe_transport(int fd) {
  stream_socket end{async_fd(fd)};
  return std::make_shared<stream_transport>(std::move(end), stream_options{}, true);
}

}  // namespace

stream_reader make_pipe_reader(int fd) { return stream_reader(pipe_transport(fd)); }

stream_writer make_pipe_writer(int fd) { return stream_writer(pipe_transport(fd)); }

}  // namespace coloop::detail

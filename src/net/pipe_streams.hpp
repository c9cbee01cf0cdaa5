#pragma once
// Pipe ends as streams: the process layer's child stdio (asyncio's connect_read_pipe /
// connect_write_pipe). Private to the library: src/net and the layers above it.

#include <coloop/net/stream_reader.hpp>
#include <coloop/net/stream_writer.hpp>

namespace coloop::detail {

/// A stream_reader over the read end of a pipe. Takes `fd` (closed even when this throws),
/// makes it non-blocking and close-on-exec and registers it with the running loop; throws as
/// async_fd's constructor.
stream_reader make_pipe_reader(int fd);
/// A stream_writer over the write end of a pipe: write_eof() closes it (the reader sees end of
/// stream); a reader that is gone gives EPIPE, never SIGPIPE. Ownership and errors as above.
stream_writer make_pipe_writer(int fd);

}  // namespace coloop::detail

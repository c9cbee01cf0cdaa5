#pragma once
// Helpers shared by the stream and server tests: connected socket pairs, failure capture, and a
// wait-until helper that yields to the loop (never sleeps).

#include <coloop/coloop.hpp>
#include <coloop/net/server.hpp>
#include <coloop/net/stream_reader.hpp>
#include <coloop/net/stream_writer.hpp>
#include <coloop/net/streams.hpp>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace coloop::test {

/// A server handler that echoes each line until the client's end of stream.
inline task<void> echo_lines(stream_reader r, stream_writer w) {
  for (;;) {
    std::string line = co_await r.read_line();
    if (line.empty()) co_return;
    w.write(line);
    co_await w.drain();
  }
}

/// Two connected loopback TCP streams: {client, accepted}.
inline task<std::pair<tcp_stream, tcp_stream>> tcp_pair() {
  tcp_listener listener = tcp_listener::bind(endpoint::loopback(0));
  join_handle<tcp_stream> accepted = spawn(listener.accept());
  tcp_stream client = co_await tcp_stream::connect(listener.local_endpoint());
  tcp_stream server = co_await std::move(accepted);
  listener.close();
  co_return std::make_pair(std::move(client), std::move(server));
}

/// Two stream pairs over a socketpair: {ours, theirs}.
inline std::pair<stream_pair, stream_pair> local_streams(const stream_options& options = {}) {
  auto [a, b] = unix_stream::pair();
  stream_pair first = make_streams(std::move(a), options);
  stream_pair second = make_streams(std::move(b), options);
  return {std::move(first), std::move(second)};
}

/// Awaits `aw` and returns the exception it ended with (null if none).
template <class Awaitable>
task<std::exception_ptr> failure_of(Awaitable aw) {
  try {
    co_await std::move(aw);
  } catch (...) {
    co_return std::current_exception();
  }
  co_return nullptr;
}

/// The error_code a std::system_error carries, {} for no or another exception.
inline std::error_code code_of(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::system_error& s) {
    return s.code();
  } catch (...) {
  }
  return {};
}

/// Yields to the loop (which polls I/O every turn) until `done()` holds.
template <class Pred>
task<void> until(Pred done) {
  while (!done()) co_await yield();
}

/// A string of `n` bytes cycling through the alphabet.
inline std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

}  // namespace coloop::test

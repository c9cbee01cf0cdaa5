// stream_reader: asyncio.StreamReader's reads over a stream_transport's socket.
//
// Reads are pulled by the caller (no background reading): each syscall goes through io_step
// into the thread's scratch area and is consumed before the task next suspends, so the scratch
// is never held across a wait. The fast paths (nothing buffered) build the result straight from
// the scratch; only bytes past what the call returns are stashed in buffer_, which is released
// as soon as it empties: an idle reader holds no buffer.
//
// Invariants: buffer_[begin_, size) are the bytes read and not yet returned; every byte read
// from the socket is either returned or stashed before the next co_await, so a cancelled read
// loses nothing; eof_ is set once a read returned 0 and never cleared.

#include <algorithm>
#include <coloop/core/errors.hpp>
#include <coloop/net/stream_reader.hpp>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "net/stream_transport.hpp"

namespace coloop {
namespace {

std::string incomplete_message(std::size_t got, std::optional<std::size_t> expected) {
  std::string m = "coloop::stream_reader: end of stream after " + std::to_string(got) + " bytes";
  if (expected) m += " of " + std::to_string(*expected);
  return m;
}

constexpr const char* read_what = "coloop::stream_reader";

constexpr std::size_t retry = detail::io_step::retry;

/// One read of up to `n` bytes into this thread's scratch area, which it stores in `s`; awaiting
/// it yields the byte count, or `retry` after a wait for readiness (then try again).
detail::io_step scratch_read(detail::stream_transport& t, char*& s, std::size_t n) noexcept {
  s = detail::scratch();  // this thread's: after a wait the task may be on another worker
  return {t, s, n, read_what};
}

}  // namespace

limit_overrun_error::limit_overrun_error(std::size_t consumed, const char* what)
    : std::system_error(make_error_code(errc::limit_overrun), what), consumed_(consumed) {}

incomplete_read_error::incomplete_read_error(std::string partial,
                                             std::optional<std::size_t> expected)
    : std::system_error(make_error_code(errc::incomplete_read),
                        incomplete_message(partial.size(), expected)),
      partial_(std::make_shared<const std::string>(std::move(partial))),
      expected_(expected) {}

stream_reader::stream_reader(std::shared_ptr<detail::stream_transport> transport) noexcept
    : transport_(std::move(transport)),
      limit_(transport_ != nullptr ? transport_->limit : default_limit) {}

stream_reader::~stream_reader() = default;

stream_reader::one_reader::one_reader(stream_reader& r) : marked_(nullptr) {
  if (r.transport_ == nullptr) {
    throw std::system_error(make_error_code(errc::closed), "coloop::stream_reader: no stream");
  }
  if (!detail::debug_here()) return;
  if (r.reading_) {
    throw std::logic_error(
        "coloop::stream_reader: read by two tasks at once (await one read before the next)");
  }
  r.reading_ = true;
  marked_ = &r;
}

stream_reader::one_reader::~one_reader() {
  if (marked_ != nullptr) marked_->reading_ = false;
}

bool stream_reader::at_eof() const noexcept { return eof_ && buffered() == 0; }

std::string stream_reader::take(std::size_t n) {
  if (begin_ == 0 && n == buffer_.size()) return std::exchange(buffer_, std::string());
  std::string r(buffer_, begin_, n);
  skip(n);
  return r;
}

void stream_reader::skip(std::size_t n) noexcept {
  begin_ += n;
  if (begin_ >= buffer_.size()) {
    std::string().swap(buffer_);  // release the memory: idle readers hold no buffer
    begin_ = 0;
  }
}

void stream_reader::keep(const char* data, std::size_t n) {
  if (n == 0) eof_ = true;
  stash(data, n);  // nothing for n == 0
}

void stream_reader::stash(const char* data, std::size_t n) {
  if (n == 0) return;
  if (begin_ > 0 && begin_ >= buffer_.size() / 2) {
    buffer_.erase(0, begin_);
    begin_ = 0;
  }
  buffer_.append(data, n);
}

task<std::size_t> stream_reader::fill() {
  char* s;
  std::size_t got;
  while ((got = co_await scratch_read(*transport_, s, detail::scratch_size)) == retry) {
  }
  keep(s, got);
  co_return got;
}

task<std::string> stream_reader::read(std::size_t n) {
  const one_reader guard(*this);
  if (n == 0) co_return std::string();
  if (n == all) {
    while (!eof_) co_await fill();
    co_return take(buffered());
  }
  if (buffered() > 0) co_return take(std::min(n, buffered()));
  if (eof_) co_return std::string();
  char* s;
  std::size_t got;
  while ((got = co_await scratch_read(*transport_, s, std::min(n, detail::scratch_size))) ==
         retry) {
  }
  if (got == 0) eof_ = true;
  co_return std::string(s, got);
}

task<std::size_t> stream_reader::read_into(void* buf, std::size_t n) {
  const one_reader guard(*this);
  if (n == 0) co_return 0;
  if (buffered() > 0) {
    const std::size_t k = std::min(n, buffered());
    std::memcpy(buf, buffer_.data() + begin_, k);
    skip(k);
    co_return k;
  }
  if (eof_) co_return 0;
  std::size_t got;
  do {
    detail::io_step step(*transport_, buf, n, read_what);  // the caller's buffer: no scratch
    got = co_await step;
  } while (got == retry);
  if (got == 0) eof_ = true;
  co_return got;
}

task<std::string> stream_reader::read_exactly(std::size_t n) {
  const one_reader guard(*this);
  if (buffered() >= n) co_return take(n);
  if (buffered() == 0 && !eof_) {  // fast path: the whole message in one read
    char* s;
    std::size_t got;
    while ((got = co_await scratch_read(*transport_, s, detail::scratch_size)) == retry) {
    }
    if (got >= n) {
      std::string r(s, n);
      stash(s + n, got - n);
      co_return r;
    }
    keep(s, got);
  }
  while (buffered() < n && !eof_) co_await fill();
  if (buffered() < n) throw incomplete_read_error(take(buffered()), n);
  co_return take(n);
}

task<std::string> stream_reader::read_line() {
  return read_until_impl("\n", std::string(), line_mode::line);
}

task<std::string> stream_reader::read_until(std::string_view separator) {
  if (separator.empty()) {
    throw std::invalid_argument("coloop::stream_reader::read_until: empty separator");
  }
  // The caller's view may not outlive a suspension: read_until keeps a copy.
  return read_until_impl({}, std::string(separator), line_mode::until);
}

// The fast path only (nothing buffered, the separator in the first read), so that the frame an
// idle connection keeps while it waits for its next line stays small; the rest is scan().
task<std::string> stream_reader::read_until_impl(std::string_view fixed, std::string owned,
                                                 line_mode mode) {
  const one_reader guard(*this);
  const std::string_view sep = owned.empty() ? fixed : std::string_view(owned);
  if (buffered() == 0 && !eof_ && !skipping_line_) {
    char* s;
    std::size_t got;
    while ((got = co_await scratch_read(*transport_, s, detail::scratch_size)) == retry) {
    }
    const std::size_t at = std::string_view(s, got).find(sep);
    if (at != std::string_view::npos && at <= limit_) {
      const std::size_t len = at + sep.size();
      std::string r(s, len);
      stash(s + len, got - len);
      co_return r;
    }
    keep(s, got);
  }
  co_return co_await scan(sep, mode);
}

task<std::string> stream_reader::scan(std::string_view sep, line_mode mode) {
  const bool line = mode == line_mode::line;
  if (line && skipping_line_) {
    const std::size_t skipped = co_await skip_long_line();
    throw limit_overrun_error(skipped, "coloop::stream_reader::read_line: line too long");
  }
  std::size_t from = 0;  // no separator starts before this offset
  for (;;) {
    const std::string_view data(buffer_.data() + begin_, buffered());
    const std::size_t at = data.find(sep, from);
    if (at != std::string_view::npos) {
      if (at <= limit_) co_return take(at + sep.size());
      if (!line) throw limit_overrun_error(at, "coloop::stream_reader::read_until: line too long");
      take(at + sep.size());
      throw limit_overrun_error(at + sep.size(), "coloop::stream_reader::read_line: line too long");
    }
    from = data.size() >= sep.size() ? data.size() - sep.size() + 1 : 0;
    if (from > limit_) {
      if (!line) {
        throw limit_overrun_error(from, "coloop::stream_reader::read_until: separator not found");
      }
      skipped_ = buffered();
      take(buffered());
      skipping_line_ = true;
      const std::size_t skipped = co_await skip_long_line();
      throw limit_overrun_error(skipped, "coloop::stream_reader::read_line: line too long");
    }
    if (eof_) {
      if (line) co_return take(buffered());
      throw incomplete_read_error(take(buffered()), std::nullopt);
    }
    co_await fill();
  }
}

task<std::size_t> stream_reader::skip_long_line() {
  while (!eof_) {
    char* s;
    std::size_t got;
    while ((got = co_await scratch_read(*transport_, s, detail::scratch_size)) == retry) {
    }
    if (got == 0) eof_ = true;  // the loop ends: nothing is found in no bytes
    const std::size_t at = std::string_view(s, got).find('\n');
    if (at != std::string_view::npos) {
      skipped_ += at + 1;
      stash(s + at + 1, got - at - 1);
      break;
    }
    skipped_ += got;
  }
  skipping_line_ = false;
  co_return std::exchange(skipped_, 0);
}

}  // namespace coloop

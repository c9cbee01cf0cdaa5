// endpoint: conversions between text and the sockaddr bytes an endpoint stores.
//
// Invariants: size_ is 0 exactly when family_ is none; otherwise storage_ holds a sockaddr_in,
// sockaddr_in6 or sockaddr_un of size_ bytes (for unix paths: the path with its NUL, so the
// size is what bind/connect want). Parsing never truncates: text that does not fit is an error.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <coloop/net/endpoint.hpp>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>

namespace coloop {
namespace {

static_assert(sizeof(sockaddr_storage) <= endpoint::capacity);

[[noreturn]] void bad(std::string_view what, std::string_view text) {
  std::string message = "coloop::endpoint: ";
  message.append(what).append(": \"").append(text).append("\"");
  throw std::invalid_argument(message);
}

std::uint16_t parse_port(std::string_view digits, std::string_view whole) {
  if (digits.empty() || digits.size() > 5) bad("bad port", whole);
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') bad("bad port", whole);
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) bad("port out of range", whole);
  return static_cast<std::uint16_t>(value);
}

bool looks_like_path(std::string_view text) {
  return text.starts_with("unix:") || text.find('/') != std::string_view::npos;
}

}  // namespace

endpoint endpoint::ip(std::string_view address, std::uint16_t port) {
  // inet_pton wants a NUL-terminated string; an IPv6 literal is at most 45 characters.
  char text[INET6_ADDRSTRLEN + 1];
  if (address.empty() || address.size() >= sizeof text ||
      address.find('\0') != std::string_view::npos) {
    bad("bad IP address", address);
  }
  std::memcpy(text, address.data(), address.size());
  text[address.size()] = '\0';
  endpoint e;
  if (address.find(':') == std::string_view::npos) {
    auto* sa = reinterpret_cast<sockaddr_in*>(e.storage_);
    if (inet_pton(AF_INET, text, &sa->sin_addr) != 1) bad("bad IPv4 address", address);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    e.size_ = sizeof(sockaddr_in);
    e.family_ = family_type::ipv4;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(e.storage_);
    if (inet_pton(AF_INET6, text, &sa->sin6_addr) != 1) bad("bad IPv6 address", address);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    e.size_ = sizeof(sockaddr_in6);
    e.family_ = family_type::ipv6;
  }
  return e;
}

endpoint endpoint::unix_path(std::string_view path) {
  if (path.empty()) bad("empty unix socket path", path);
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    bad("unix socket path too long (max 107 bytes)", path);
  if (path.find('\0') != std::string_view::npos) bad("NUL in unix socket path", path);
  endpoint e;
  auto* un = reinterpret_cast<sockaddr_un*>(e.storage_);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  e.size_ = static_cast<unsigned>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  e.family_ = family_type::unix_path;
  return e;
}

endpoint endpoint::loopback(std::uint16_t port) { return ip("127.0.0.1", port); }

endpoint endpoint::parse(std::string_view text) {
  if (looks_like_path(text)) {
    return unix_path(text.starts_with("unix:") ? text.substr(5) : text);
  }
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) bad("missing ']' in IPv6 endpoint", text);
    if (close + 1 >= text.size() || text[close + 1] != ':') bad("missing port", text);
    const std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) bad("bad IPv6 address", text);
    const std::uint16_t port = parse_port(text.substr(close + 2), text);
    try {
      return ip(host, port);
    } catch (const std::invalid_argument&) {
      bad("bad IPv6 address", text);
    }
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) bad("missing port", text);
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) bad("IPv6 address needs brackets", text);
  const std::uint16_t port = parse_port(text.substr(colon + 1), text);
  if (host.empty()) bad("missing address", text);
  try {
    return ip(host, port);
  } catch (const std::invalid_argument&) {
    bad("bad IPv4 address", text);
  }
}

endpoint endpoint::from_raw(const void* sockaddr_bytes, unsigned size) {
  const std::string shown = std::to_string(size) + " bytes";
  if (size < sizeof(sa_family_t)) bad("from_raw: sockaddr too short for its family", shown);
  if (size > capacity) bad("from_raw: sockaddr too long", shown);
  endpoint e;
  std::memcpy(e.storage_, sockaddr_bytes, size);
  e.size_ = size;
  // An IP address is read whole (port(), address()): a shorter one would be read past its end.
  // A unix one may be just the family: an unnamed socket (socketpair, autobind).
  const auto family = reinterpret_cast<const sockaddr*>(e.storage_)->sa_family;
  switch (family) {
    case AF_INET:
      if (size < sizeof(sockaddr_in)) bad("from_raw: AF_INET sockaddr too short", shown);
      e.family_ = family_type::ipv4;
      e.size_ = sizeof(sockaddr_in);  // as parse() makes it, so that == compares equal
      break;
    case AF_INET6:
      if (size < sizeof(sockaddr_in6)) bad("from_raw: AF_INET6 sockaddr too short", shown);
      e.family_ = family_type::ipv6;
      e.size_ = sizeof(sockaddr_in6);
      break;
    case AF_UNIX:
      e.family_ = family_type::unix_path;
      break;
    default:
      bad("from_raw: unknown address family", std::to_string(family));
  }
  return e;
}

std::uint16_t endpoint::port() const {
  if (family_ == family_type::ipv4)
    return ntohs(reinterpret_cast<const sockaddr_in*>(storage_)->sin_port);
  if (family_ == family_type::ipv6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(storage_)->sin6_port);
  throw std::logic_error("coloop::endpoint::port: not an IP endpoint");
}

std::string endpoint::address() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family_) {
    case family_type::ipv4:
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(storage_)->sin_addr, text,
                sizeof text);
      return text;
    case family_type::ipv6:
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(storage_)->sin6_addr, text,
                sizeof text);
      return text;
    case family_type::unix_path: {
      // Unnamed (autobound or socketpair) sockets have no path; abstract ones start with NUL.
      const auto* un = reinterpret_cast<const sockaddr_un*>(storage_);
      const std::size_t n = size_ - offsetof(sockaddr_un, sun_path);
      return std::string(un->sun_path, ::strnlen(un->sun_path, n));
    }
    case family_type::none:
      break;
  }
  throw std::logic_error("coloop::endpoint::address: empty endpoint");
}

std::string endpoint::to_string() const {
  if (!is_ip()) return family_ == family_type::none ? std::string() : address();
  // Built with append: g++ 12 warns (-Wrestrict, a false positive) on "[" + address() + ...
  const bool v6 = family_ == family_type::ipv6;
  std::string out(v6 ? "[" : "");
  out.append(address()).append(v6 ? "]:" : ":").append(std::to_string(port()));
  return out;
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(a.storage_, b.storage_, a.size_) == 0;
}

}  // namespace coloop

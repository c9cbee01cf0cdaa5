#pragma once
// endpoint: an IPv4, IPv6 or unix-domain socket address, parsed from and formatted to text.
// No OS headers: the address is kept as the raw bytes of a sockaddr, converted in src/net.

#include <cstdint>
#include <string>
#include <string_view>

namespace coloop {

class endpoint {
 public:
  enum class family_type : unsigned char { none, ipv4, ipv6, unix_path };

  /// An empty endpoint (family none); every accessor but family() and to_string() throws on it.
  endpoint() noexcept = default;

  /// Parses "127.0.0.1:8080", "[::1]:80", or a unix socket path ("/run/x.sock", "./x.sock",
  /// "unix:x.sock"). Throws std::invalid_argument naming the bad text for a malformed address,
  /// a missing or out-of-range port, or a path over the OS limit (107 bytes).
  static endpoint parse(std::string_view text);
  /// An IP literal ("10.0.0.1", "::1") and a port. Throws std::invalid_argument naming the text.
  static endpoint ip(std::string_view address, std::uint16_t port);
  /// A unix-domain socket path. Throws std::invalid_argument when empty, too long or with a NUL.
  static endpoint unix_path(std::string_view path);
  /// 127.0.0.1:port.
  static endpoint loopback(std::uint16_t port = 0);

  family_type family() const noexcept { return family_; }
  bool is_ip() const noexcept {
    return family_ == family_type::ipv4 || family_ == family_type::ipv6;
  }
  /// The port (host order) of an IP endpoint; std::logic_error for other families.
  std::uint16_t port() const;
  /// The address alone: "127.0.0.1", "::1", or the unix path.
  std::string address() const;
  /// The text parse() accepts: "127.0.0.1:80", "[::1]:80", the unix path; "" when empty.
  std::string to_string() const;

  friend bool operator==(const endpoint& a, const endpoint& b) noexcept;

  /// The raw sockaddr bytes, for the socket layer (src/net).
  const void* data() const noexcept { return storage_; }
  unsigned size() const noexcept { return size_; }
  /// Builds an endpoint from `size` bytes of a sockaddr written by the OS (accept, recvfrom,
  /// getsockname). Throws std::invalid_argument for an unknown family, a size over `capacity`,
  /// or one shorter than its family's sockaddr (a unix one may be just the family: unnamed).
  static endpoint from_raw(const void* sockaddr, unsigned size);
  static constexpr unsigned capacity = 128;

 private:
  alignas(8) unsigned char storage_[capacity] = {};
  unsigned size_ = 0;
  family_type family_ = family_type::none;
};

}  // namespace coloop

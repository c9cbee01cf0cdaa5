// resolve: name validation, then getaddrinfo on the default thread pool.
//
// The checks run before anything reaches getaddrinfo, because the C API takes NUL-terminated
// strings: an embedded NUL would silently look up a prefix of the name. Lengths follow RFC 1035
// (253 bytes for the presentation form without the trailing dot, 63 per label).

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <coloop/executor/to_thread.hpp>
#include <coloop/net/resolve.hpp>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace coloop {
namespace {

class resolve_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coloop.resolve"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

[[noreturn]] void bad_name(const char* what, std::string_view name) {
  std::string shown(name.substr(0, 80));
  for (char& c : shown) {
    if (c == '\0') c = '?';
  }
  if (name.size() > 80) shown += "...";
  throw std::invalid_argument(std::string("coloop::resolve: ") + what + ": \"" + shown + "\"");
}

void check_host(std::string_view host) {
  if (host.find('\0') != std::string_view::npos) bad_name("NUL in host name", host);
  if (host.empty()) bad_name("empty host name", host);
  std::string_view name = host;
  if (name.ends_with('.')) name.remove_suffix(1);  // the root label
  if (name.size() > 253) bad_name("host name over 253 bytes", host);
  while (!name.empty()) {
    const auto dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty()) bad_name("empty label in host name", host);
    if (label.size() > 63) bad_name("label over 63 bytes in host name", host);
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
}

std::vector<endpoint> lookup(const std::string& host, const std::string& service) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address instead of one per socket type
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    throw std::system_error(rc, resolve_category(), "coloop::resolve: " + host + ":" + service);
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(list, &::freeaddrinfo);
  std::vector<endpoint> out;
  for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    endpoint e = endpoint::from_raw(a->ai_addr, a->ai_addrlen);
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  if (out.empty())
    throw std::system_error(EAI_NONAME, resolve_category(), "coloop::resolve: " + host);
  return out;
}

/// Checks the service before getaddrinfo sees it: glibc reads anything strtoul takes as a
/// number (leading blanks, a sign) and keeps it modulo 65536, so "65536" would be port 0 and
/// "-1" port 65535. Digits must make a port; a sign or a blank first is refused; the rest are
/// service names ("https", "3com-tsmux"). Returns the port of a number, -1 for a name.
long check_service(std::string_view service) {
  if (service.find('\0') != std::string_view::npos) bad_name("NUL in service", service);
  if (service.empty()) bad_name("empty service", service);
  if (service.find_first_not_of("0123456789") == std::string_view::npos) {
    long port = 0;
    for (char c : service) {
      port = port * 10 + (c - '0');
      if (port > 65535) bad_name("port out of range", service);
    }
    return port;
  }
  const char first = service.front();
  if (first == '+' || first == '-' || std::isspace(static_cast<unsigned char>(first)) != 0) {
    bad_name("bad service (a port number or a service name)", service);
  }
  return -1;
}

}  // namespace

const std::error_category& resolve_category() noexcept {
  static const resolve_error_category category;
  return category;
}

task<std::vector<endpoint>> resolve(std::string host, std::string service) {
  const long number = check_service(service);
  // An IP literal needs no lookup (and no thread): convert it here.
  if (number >= 0) {
    const auto port = static_cast<std::uint16_t>(number);
    const std::string_view literal = host.size() > 2 && host.front() == '[' && host.back() == ']'
                                         ? std::string_view(host).substr(1, host.size() - 2)
                                         : std::string_view(host);
    try {
      co_return std::vector<endpoint>{endpoint::ip(literal, port)};
    } catch (const std::invalid_argument&) {
      // not a literal: look it up
    }
  }
  check_host(host);
  // Named, not a temporary in the co_await operand: g++ 12 mis-destroys such temporaries.
  auto job = [host, service] { return lookup(host, service); };
  co_return co_await to_thread(std::move(job));
}

task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port) {
  return resolve(std::move(host), std::to_string(port));
}

}  // namespace coloop

// endpoint: parsing and formatting of IPv4, IPv6 and unix endpoints, and the errors for bad text.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <coloop/net/endpoint.hpp>
#include <stdexcept>
#include <string>

namespace {

using coloop::endpoint;

std::string message_of(const std::string& text) {
  try {
    endpoint::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(Endpoint, ParsesAndFormatsIpv4) {
  const endpoint e = endpoint::parse("127.0.0.1:8080");
  EXPECT_EQ(e.family(), endpoint::family_type::ipv4);
  EXPECT_EQ(e.address(), "127.0.0.1");
  EXPECT_EQ(e.port(), 8080);
  EXPECT_EQ(e.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(e.size(), sizeof(sockaddr_in));
}

TEST(Endpoint, ParsesAndFormatsIpv6) {
  const endpoint e = endpoint::parse("[::1]:80");
  EXPECT_EQ(e.family(), endpoint::family_type::ipv6);
  EXPECT_EQ(e.address(), "::1");
  EXPECT_EQ(e.port(), 80);
  EXPECT_EQ(e.to_string(), "[::1]:80");
  EXPECT_EQ(endpoint::parse("[2001:db8:0:0:0:0:0:1]:443").to_string(), "[2001:db8::1]:443");
}

TEST(Endpoint, ParsesUnixPaths) {
  EXPECT_EQ(endpoint::parse("/run/x.sock").family(), endpoint::family_type::unix_path);
  EXPECT_EQ(endpoint::parse("/run/x.sock").to_string(), "/run/x.sock");
  EXPECT_EQ(endpoint::parse("unix:x.sock").address(), "x.sock");
  EXPECT_THROW(endpoint::parse("/run/x.sock").port(), std::logic_error);
}

TEST(Endpoint, FactoriesAndEquality) {
  EXPECT_EQ(endpoint::ip("10.1.2.3", 7), endpoint::parse("10.1.2.3:7"));
  EXPECT_EQ(endpoint::ip("::1", 7), endpoint::parse("[::1]:7"));
  EXPECT_FALSE(endpoint::ip("10.1.2.3", 7) == endpoint::ip("10.1.2.3", 8));
  EXPECT_EQ(endpoint::loopback(9).to_string(), "127.0.0.1:9");
  EXPECT_EQ(endpoint{}.family(), endpoint::family_type::none);
  EXPECT_EQ(endpoint{}.to_string(), "");
  EXPECT_THROW(endpoint{}.address(), std::logic_error);
}

TEST(Endpoint, RoundTripsThroughRawBytes) {
  const endpoint e = endpoint::parse("[::1]:1234");
  EXPECT_EQ(endpoint::from_raw(e.data(), e.size()), e);
  const unsigned char junk[4] = {0xff, 0xff, 0, 0};
  EXPECT_THROW(endpoint::from_raw(junk, sizeof junk), std::invalid_argument);
}

std::string from_raw_error(const void* bytes, unsigned size) {
  try {
    (void)endpoint::from_raw(bytes, size);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

// The OS writes whole sockaddrs; anything shorter than its family's is refused, not read past.
TEST(Endpoint, FromRawRefusesTruncatedSockaddrs) {
  const endpoint v4 = endpoint::parse("10.0.0.1:80");
  for (unsigned size : {0u, 1u, 2u, 4u, 8u, static_cast<unsigned>(sizeof(sockaddr_in)) - 1}) {
    EXPECT_NE(from_raw_error(v4.data(), size).find("too short"), std::string::npos) << size;
  }
  const endpoint v6 = endpoint::parse("[::1]:80");
  for (unsigned size : {2u, 8u, static_cast<unsigned>(sizeof(sockaddr_in)),
                        static_cast<unsigned>(sizeof(sockaddr_in6)) - 1}) {
    EXPECT_NE(from_raw_error(v6.data(), size).find("too short"), std::string::npos) << size;
  }
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_NE(from_raw_error(&un, 1).find("too short"), std::string::npos);
  EXPECT_NE(from_raw_error(&un, endpoint::capacity + 1).find("too long"), std::string::npos);
  // Just the family: an unnamed unix socket (socketpair, autobind) is a valid address.
  const endpoint unnamed = endpoint::from_raw(&un, sizeof un.sun_family);
  EXPECT_EQ(unnamed.family(), endpoint::family_type::unix_path);
  EXPECT_EQ(unnamed.address(), "");
  sockaddr_storage other{};
  other.ss_family = AF_APPLETALK;
  EXPECT_NE(from_raw_error(&other, sizeof other).find("unknown address family"),
            std::string::npos);
}

TEST(Endpoint, FromRawKeepsWholeSockaddrs) {
  for (const char* text : {"10.0.0.1:80", "[::1]:443", "/run/x.sock"}) {
    const endpoint e = endpoint::parse(text);
    const endpoint back = endpoint::from_raw(e.data(), e.size());
    EXPECT_EQ(back, e);
    EXPECT_EQ(back.to_string(), text);
  }
}

TEST(Endpoint, MalformedTextNamesTheText) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                          "127.0.0.1:123456", "300.0.0.1:80", ":80", "::1:80", "[::1]80", "[::1:80",
                          "[1.2.3.4]:80", "[::g]:80", "localhost:80"}) {
    const std::string m = message_of(bad);
    EXPECT_NE(m.find(std::string("\"") + bad + "\""), std::string::npos) << bad << " -> " << m;
  }
  EXPECT_NE(message_of("1.2.3.4:99999").find("port out of range"), std::string::npos);
}

TEST(Endpoint, RejectsBadUnixPaths) {
  EXPECT_THROW(endpoint::unix_path(""), std::invalid_argument);
  EXPECT_THROW(endpoint::unix_path(std::string(108, 'a')), std::invalid_argument);
  EXPECT_NO_THROW(endpoint::unix_path(std::string(107, 'a')));
  EXPECT_THROW(endpoint::unix_path(std::string("a\0b", 3)), std::invalid_argument);
  EXPECT_THROW(endpoint::ip(std::string("1.2.3.4\0", 8), 1), std::invalid_argument);
}

}  // namespace

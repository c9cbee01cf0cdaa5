// resolve: literals without a lookup, localhost through getaddrinfo on the pool, and the name
// checks that keep a bad name from ever reaching getaddrinfo.

#include <gtest/gtest.h>

#include <algorithm>
#include <coloop/coloop.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/net/resolve.hpp>
#include <string>
#include <utility>

#include "net/net_test_util.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::endpoint;
using coloop::resolve;
using coloop::task;

class Resolve : public coloop::test::flavour_test {};

TEST_P(Resolve, LiteralsNeedNoLookup) {
  run([]() -> task<void> {
    const auto v4 = co_await resolve(std::string("10.0.0.1"), 80);
    EXPECT_EQ(v4, std::vector<endpoint>{endpoint::parse("10.0.0.1:80")});
    const auto v6 = co_await resolve(std::string("[::1]"), std::string("443"));
    EXPECT_EQ(v6, std::vector<endpoint>{endpoint::parse("[::1]:443")});
  }());
}

TEST_P(Resolve, LooksUpLocalhost) {
  run([]() -> task<void> {
    const auto found = co_await resolve("localhost", 8080);
    EXPECT_FALSE(found.empty());
    EXPECT_TRUE(std::any_of(found.begin(), found.end(), [](const endpoint& e) {
      return e.to_string() == "127.0.0.1:8080" || e.to_string() == "[::1]:8080";
    }));
  }());
  coloop::shutdown_default_pool();
}

TEST_P(Resolve, RejectsBadNamesBeforeLookingUp) {
  run([]() -> task<void> {
    const std::string label64(64, 'a');
    const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                  std::string(63, 'c') + "." + std::string(63, 'd');  // 255
    for (const std::string& bad : {long_name, label64 + ".com", std::string("a..b"),
                                   std::string("good.com\0evil.com", 17), std::string()}) {
      EXPECT_THROW(co_await resolve(bad, 80), std::invalid_argument) << bad;
    }
    EXPECT_THROW(co_await resolve("localhost", std::string("80\0", 3)), std::invalid_argument);
  }());
}

// getaddrinfo reads a numeric service with strtoul and keeps it modulo 65536 ("65536" is port
// 0, "-1" 65535): resolve refuses what endpoint::parse refuses, naming the text, before any
// lookup, for names and IP literals alike.
TEST_P(Resolve, RefusesServicesThatAreNoPort) {
  run([]() -> task<void> {
    for (const char* host : {"localhost", "127.0.0.1"}) {
      for (const char* service : {"65536", "70000", "4294967376", "99999999999999999999999"}) {
        try {
          co_await resolve(std::string(host), std::string(service));
          ADD_FAILURE() << host << " " << service << " resolved";
        } catch (const std::invalid_argument& e) {
          const std::string m = e.what();
          EXPECT_NE(m.find("port out of range"), std::string::npos) << m;
          EXPECT_NE(m.find(std::string("\"") + service + "\""), std::string::npos) << m;
        }
      }
      for (const char* service : {"+80", "-1", " 80", "\t80", "-", ""}) {
        try {
          co_await resolve(std::string(host), std::string(service));
          ADD_FAILURE() << host << " [" << service << "] resolved";
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find(std::string("\"") + service + "\""),
                    std::string::npos)
              << e.what();
        }
      }
    }
  }());
}

TEST_P(Resolve, AcceptsPortNumbersAndServiceNames) {
  run([]() -> task<void> {
    for (const char* host : {"localhost", "127.0.0.1"}) {
      for (const auto& [service, port] : {std::pair{"0", 0}, std::pair{"65535", 65535},
                                          std::pair{"00080", 80}, std::pair{"https", 443}}) {
        const auto found = co_await resolve(std::string(host), std::string(service));
        EXPECT_FALSE(found.empty());
        for (const endpoint& e : found) EXPECT_EQ(e.port(), port) << host << " " << service;
      }
    }
  }());
  coloop::shutdown_default_pool();
}

TEST_P(Resolve, UnknownNameIsAResolveError) {
  run([]() -> task<void> {
    try {
      co_await resolve("no-such-host.invalid", 80);
      ADD_FAILURE() << "resolved a .invalid name";
    } catch (const std::system_error& e) {
      EXPECT_EQ(&e.code().category(), &coloop::resolve_category());
      EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos);
    }
  }());
  coloop::shutdown_default_pool();
}

COLOOP_INSTANTIATE_FLAVOURS(Resolve);

}  // namespace

// resolve: literals without a lookup, localhost through getaddrinfo on the pool, and the name
// checks that keep a bad name from ever reaching getaddrinfo.

#include <gtest/gtest.h>

#include <algorithm>
#include <coloop/coloop.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/net/resolve.hpp>
#include <string>

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

// Backend selection: names, available_backends(), loop_options::backend, $COLOOP_BACKEND, and
// the errors for unknown or not-compiled-in backends. coloop::now() too (the flavour-agnostic
// clock the conformance suites read).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <coloop/coloop.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using coloop::backend;
using namespace std::chrono_literals;

const std::vector<backend> every = {backend::epoll, backend::kqueue, backend::io_uring,
                                    backend::libuv};

/// Sets $COLOOP_BACKEND (or unsets it for nullopt) for the test's duration.
class env_backend {
 public:
  explicit env_backend(std::optional<std::string> value) {
    if (const char* old = ::getenv("COLOOP_BACKEND")) saved_ = old;
    if (value) {
      ::setenv("COLOOP_BACKEND", value->c_str(), 1);
    } else {
      ::unsetenv("COLOOP_BACKEND");
    }
  }
  ~env_backend() {
    if (saved_) {
      ::setenv("COLOOP_BACKEND", saved_->c_str(), 1);
    } else {
      ::unsetenv("COLOOP_BACKEND");
    }
  }
  env_backend(const env_backend&) = delete;
  env_backend& operator=(const env_backend&) = delete;

 private:
  std::optional<std::string> saved_;
};

/// A backend this build lacks, if any (kqueue on Linux, io_uring until it is plugged in).
std::optional<backend> missing_backend() {
  for (backend b : every) {
    if (!coloop::is_available(b)) return b;
  }
  return std::nullopt;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

TEST(Backend, AvailableBackendsAreCompiledInAndNeverAutomatic) {
  const std::vector<backend> avail = coloop::available_backends();
  ASSERT_FALSE(avail.empty());
  EXPECT_EQ(std::count(avail.begin(), avail.end(), backend::automatic), 0);
  for (backend b : avail) EXPECT_TRUE(coloop::is_available(b)) << coloop::to_string(b);
  EXPECT_TRUE(coloop::is_available(backend::automatic));
#ifdef __linux__
  EXPECT_EQ(avail.front(), backend::epoll);  // the default on Linux
  EXPECT_FALSE(coloop::is_available(backend::kqueue));
#endif
}

TEST(Backend, NamesRoundTrip) {
  for (backend b :
       {backend::automatic, backend::epoll, backend::kqueue, backend::io_uring, backend::libuv}) {
    EXPECT_EQ(coloop::parse_backend(coloop::to_string(b)), b);
  }
  EXPECT_EQ(coloop::to_string(backend::io_uring), "io_uring");
}

TEST(Backend, UnknownNameNamesTheKnownAndAvailableOnes) {
  const std::string what = message_of([] { (void)coloop::parse_backend("select"); });
  EXPECT_NE(what.find("'select'"), std::string::npos) << what;
  EXPECT_NE(what.find("kqueue"), std::string::npos) << what;
  for (backend b : coloop::available_backends()) {
    EXPECT_NE(what.find(std::string(coloop::to_string(b))), std::string::npos) << what;
  }
  EXPECT_THROW((void)coloop::parse_backend(""), std::invalid_argument);
  EXPECT_THROW((void)coloop::parse_backend("EPOLL"), std::invalid_argument);
}

TEST(Backend, EachAvailableBackendRunsALoop) {
  const env_backend env(std::nullopt);
  for (backend b : coloop::available_backends()) {
    coloop::event_loop loop({.backend = b});
    EXPECT_EQ(loop.backend_name(), coloop::to_string(b));
    auto main = []() -> coloop::task<std::string> {
      co_await coloop::sleep_for(1ms);
      co_return std::string(coloop::event_loop::current()->backend_name());
    };
    EXPECT_EQ(loop.run_until_complete(main()), coloop::to_string(b));
    loop.close();
    EXPECT_EQ(loop.backend_name(), coloop::to_string(b));  // still valid once closed
  }
}

TEST(Backend, AutomaticIsTheFirstAvailable) {
  const env_backend env(std::nullopt);
  coloop::event_loop loop;
  EXPECT_EQ(loop.backend_name(), coloop::to_string(coloop::available_backends().front()));
}

TEST(Backend, NotCompiledInThrowsNamingTheAvailableOnes) {
  const std::optional<backend> missing = missing_backend();
  if (!missing) GTEST_SKIP() << "every backend is compiled in";
  const std::string what = message_of([&] { coloop::event_loop loop({.backend = *missing}); });
  EXPECT_NE(what.find("not compiled in"), std::string::npos) << what;
  EXPECT_NE(what.find(std::string(coloop::to_string(*missing))), std::string::npos) << what;
  for (backend b : coloop::available_backends()) {
    EXPECT_NE(what.find(std::string(coloop::to_string(b))), std::string::npos) << what;
  }
  auto main = []() -> coloop::task<void> { co_return; };
  EXPECT_THROW(coloop::run(main(), {.backend = *missing}), std::invalid_argument);
}

TEST(Backend, EnvironmentOverridesAutomaticOnly) {
  for (backend b : coloop::available_backends()) {
    const env_backend env(std::string(coloop::to_string(b)));
    coloop::event_loop automatic;
    EXPECT_EQ(automatic.backend_name(), coloop::to_string(b));
    // An explicit choice wins over the environment.
    const backend other = coloop::available_backends().back();
    coloop::event_loop chosen({.backend = other});
    EXPECT_EQ(chosen.backend_name(), coloop::to_string(other));
  }
  const env_backend env(std::string("automatic"));
  coloop::event_loop loop;
  EXPECT_EQ(loop.backend_name(), coloop::to_string(coloop::available_backends().front()));
}

TEST(Backend, BadEnvironmentValueNamesTheVariable) {
  {
    const env_backend env(std::string("nosuch"));
    const std::string what = message_of([] { coloop::event_loop loop; });
    EXPECT_NE(what.find("COLOOP_BACKEND"), std::string::npos) << what;
    EXPECT_NE(what.find("'nosuch'"), std::string::npos) << what;
  }
  const std::optional<backend> missing = missing_backend();
  if (!missing) return;
  const env_backend env(std::string(coloop::to_string(*missing)));
  const std::string what = message_of([] { coloop::event_loop loop; });
  EXPECT_NE(what.find("COLOOP_BACKEND"), std::string::npos) << what;
  EXPECT_NE(what.find("not compiled in"), std::string::npos) << what;
}

TEST(Backend, EmptyEnvironmentValueMeansAutomatic) {
  const env_backend env(std::string(""));
  coloop::event_loop loop;
  EXPECT_EQ(loop.backend_name(), coloop::to_string(coloop::available_backends().front()));
}

TEST(Now, IsTheRunningLoopsClock) {
  EXPECT_THROW((void)coloop::now(), std::logic_error);
  auto main = []() -> coloop::task<void> {
    EXPECT_EQ(coloop::now(), coloop::event_loop::current()->time());
    const auto before = coloop::now();
    co_await coloop::sleep_for(1h);
    EXPECT_EQ(coloop::now() - before, 1h);  // manual clock: exact
  };
  coloop::run(main(), {.manual_clock = true});
}

}  // namespace

// coloop's logging facade: levels, the sink, $COLOOP_LOG, and coloop's own messages (a detached
// task's exception, an exception escaping a thread-pool job) going through it with their origin.

#include <gtest/gtest.h>

#include <coloop/core/log.hpp>
#include <coloop/executor/thread_pool.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/capture_log.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::log_level;

using coloop::test::capture_sink;
using coloop::test::captured;

TEST(log, sink_receives_level_and_text_filtered_by_threshold) {
  capture_sink sink;
  coloop::set_log_level(log_level::warn);
  EXPECT_FALSE(coloop::log_enabled(log_level::info));
  EXPECT_TRUE(coloop::log_enabled(log_level::error));
  coloop::log(log_level::info, "dropped");
  coloop::log(log_level::warn, "kept warn");
  coloop::log(log_level::error, "kept error");
  coloop::set_log_level(log_level::off);
  coloop::log(log_level::error, "dropped too");
  const std::vector<captured> r = sink.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].level, log_level::warn);
  EXPECT_EQ(r[0].text, "kept warn");
  EXPECT_EQ(r[0].origin, "");  // not a scheduler's thread
  EXPECT_EQ(r[1].level, log_level::error);
  EXPECT_EQ(coloop::get_log_level(), log_level::off);
}

TEST(log, level_names_parse_and_print) {
  for (log_level l : {log_level::debug, log_level::info, log_level::warn, log_level::error,
                      log_level::off}) {
    EXPECT_EQ(coloop::parse_log_level(coloop::to_string(l)), l);
  }
  try {
    coloop::parse_log_level("verbose");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"verbose\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("debug, info, warn, error or off"), std::string::npos);
  }
}

/// Makes the next message read $COLOOP_LOG again, as the first message of a process does.
void reread_environment(const char* value) {
  ::setenv("COLOOP_LOG", value, 1);
  coloop::detail::log_threshold.store(0, std::memory_order_relaxed);
}

TEST(log, coloop_log_environment_sets_the_threshold) {
  capture_sink sink;
  reread_environment("error");
  coloop::log(log_level::warn, "below error");
  coloop::log(log_level::error, "at error");
  ::unsetenv("COLOOP_LOG");
  EXPECT_EQ(coloop::get_log_level(), log_level::error);
  const std::vector<captured> r = sink.records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].text, "at error");
}

TEST(log, bad_coloop_log_warns_and_uses_info) {
  capture_sink sink;
  reread_environment("loud");
  coloop::log(log_level::debug, "below info");
  coloop::log(log_level::info, "at info");
  ::unsetenv("COLOOP_LOG");
  EXPECT_EQ(coloop::get_log_level(), log_level::info);
  const std::vector<captured> r = sink.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].level, log_level::warn);
  EXPECT_NE(r[0].text.find("COLOOP_LOG: unknown log level \"loud\""), std::string::npos)
      << r[0].text;
  EXPECT_EQ(r[1].text, "at info");
}

coloop::task<void> fail() {
  co_await coloop::yield();
  throw std::runtime_error("boom");
}

class log_flavoured : public coloop::test::flavour_test {};

TEST_P(log_flavoured, detached_task_exception_goes_through_the_sink_with_its_origin) {
  capture_sink sink;
  // Above info: a runtime made under $COLOOP_SCHEDULE_SEED (replaying a seed) logs its seed there.
  coloop::set_log_level(log_level::warn);
  const bool mt = GetParam().workers > 0;
  run([](capture_sink* s) -> coloop::task<void> {
    coloop::spawn(fail()).detach();
    auto logged = [s] { return !s->records().empty(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(logged));
  }(&sink));
  const std::vector<captured> r = sink.records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].level, log_level::error);
  EXPECT_EQ(r[0].text, "coloop: unhandled exception in a detached task: boom");
  EXPECT_EQ(r[0].origin.rfind(mt ? "runtime " : "loop ", 0), 0u) << r[0].origin;
  if (mt) {
    EXPECT_NE(r[0].origin.find(" worker "), std::string::npos) << r[0].origin;
  }
}
COLOOP_INSTANTIATE_FLAVOURS(log_flavoured);

TEST(log, thread_pool_job_exception_goes_through_the_sink) {
  capture_sink sink;
  {
    coloop::thread_pool pool;
    pool.submit([] { throw std::runtime_error("job failed"); });
    pool.shutdown();
  }
  const std::vector<captured> r = sink.records();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].level, log_level::error);
  EXPECT_EQ(r[0].text, "coloop: exception escaped a thread_pool job: job failed");
}

}  // namespace

// coloop's error category, codes and exception types.

#include <gtest/gtest.h>

#include <coloop/core/errors.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace {

TEST(Errors, CategoryName) {
  EXPECT_STREQ(coloop::error_category().name(), "coloop");
  // One category object for the whole process (error_code comparison relies on identity).
  EXPECT_EQ(&coloop::error_category(), &coloop::error_category());
  EXPECT_NE(coloop::error_category(), std::generic_category());
  EXPECT_NE(coloop::error_category(), std::system_category());
}

TEST(Errors, MessageForEachCode) {
  const auto& cat = coloop::error_category();
  auto msg = [&](coloop::errc e) { return cat.message(static_cast<int>(e)); };
  EXPECT_EQ(msg(coloop::errc::cancelled), "operation cancelled");
  EXPECT_EQ(msg(coloop::errc::timed_out), "operation timed out");
  EXPECT_EQ(msg(coloop::errc::closed), "closed");
  EXPECT_EQ(msg(coloop::errc::limit_overrun), "limit overrun");
  EXPECT_EQ(msg(coloop::errc::incomplete_read), "incomplete read");
  EXPECT_EQ(msg(coloop::errc::rejected), "rejected");
  EXPECT_EQ(msg(coloop::errc::broken_promise), "broken promise: destroyed without a value");
}

TEST(Errors, MessagesAreDistinctAndNonEmpty) {
  const auto& cat = coloop::error_category();
  std::vector<std::string> seen;
  for (int c = static_cast<int>(coloop::errc::cancelled);
       c <= static_cast<int>(coloop::errc::broken_promise); ++c) {
    std::string m = cat.message(c);
    EXPECT_FALSE(m.empty()) << c;
    EXPECT_EQ(m.find("unknown"), std::string::npos) << c << ": " << m;
    for (const auto& s : seen) EXPECT_NE(s, m) << c;
    seen.push_back(m);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(Errors, UnknownCodeHasAMessage) {
  std::string m = coloop::error_category().message(999);
  EXPECT_NE(m.find("999"), std::string::npos) << m;
  EXPECT_NE(coloop::error_category().message(0).find("unknown"), std::string::npos);
}

TEST(Errors, MakeErrorCode) {
  std::error_code ec = coloop::make_error_code(coloop::errc::timed_out);
  EXPECT_EQ(ec.value(), static_cast<int>(coloop::errc::timed_out));
  EXPECT_EQ(&ec.category(), &coloop::error_category());
  EXPECT_EQ(ec.message(), "operation timed out");
  EXPECT_TRUE(static_cast<bool>(ec));
}

TEST(Errors, ErrcIsAnErrorCodeEnum) {
  static_assert(std::is_error_code_enum_v<coloop::errc>);
  std::error_code ec = coloop::errc::closed;  // implicit, through ADL make_error_code
  EXPECT_EQ(ec, coloop::make_error_code(coloop::errc::closed));
  EXPECT_EQ(ec, coloop::errc::closed);
  EXPECT_NE(ec, coloop::errc::rejected);
  // Same value, different category: not equal.
  EXPECT_NE(ec, std::error_code(static_cast<int>(coloop::errc::closed), std::generic_category()));
}

TEST(Errors, CancelledError) {
  static_assert(std::is_base_of_v<std::system_error, coloop::cancelled_error>);
  coloop::cancelled_error e;
  EXPECT_EQ(e.code(), coloop::errc::cancelled);
  EXPECT_EQ(&e.code().category(), &coloop::error_category());
  EXPECT_NE(std::string(e.what()).find("operation cancelled"), std::string::npos) << e.what();
  try {
    throw coloop::cancelled_error();
  } catch (const std::system_error& se) {
    EXPECT_EQ(se.code(), coloop::errc::cancelled);
  }
}

TEST(Errors, TimeoutError) {
  static_assert(std::is_base_of_v<std::system_error, coloop::timeout_error>);
  coloop::timeout_error e;
  EXPECT_EQ(e.code(), coloop::errc::timed_out);
  EXPECT_NE(std::string(e.what()).find("operation timed out"), std::string::npos) << e.what();
  try {
    throw coloop::timeout_error();
  } catch (const std::system_error& se) {
    EXPECT_EQ(se.code(), coloop::errc::timed_out);
  }
  // A timeout is not a cancellation.
  EXPECT_FALSE((std::is_base_of_v<coloop::cancelled_error, coloop::timeout_error>));
  EXPECT_NE(e.code(), coloop::errc::cancelled);
}

}  // namespace

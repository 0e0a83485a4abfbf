#include "core/errc.hpp"

#include <gtest/gtest.h>

#include <set>

namespace eventfeed::core {
namespace {

TEST(Errc, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (errc code : {errc::bad_request, errc::invalid_json, errc::invalid_stream,
                    errc::payload_too_large, errc::unauthorized, errc::forbidden, errc::not_found,
                    errc::rate_limited, errc::unavailable, errc::shutting_down, errc::internal}) {
    EXPECT_FALSE(to_string(code).empty());
    names.insert(to_string(code));
  }
  EXPECT_EQ(names.size(), 11u);
  EXPECT_EQ(to_string(errc::payload_too_large), "payload_too_large");
}

TEST(Result, CarriesAValueOrAnError) {
  result<int> ok = 5;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  result<int> bad{errc::forbidden, "no"};
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().code, errc::forbidden);
  EXPECT_EQ(bad.err().message, "no");
  result<std::string> moved = std::string("text");
  EXPECT_EQ(std::move(moved).value(), "text");
}

}  // namespace
}  // namespace eventfeed::core

#include "api/chaturbate/methods.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>

namespace eventfeed::api::chaturbate {
namespace {

namespace json = boost::json;

json::value user() {
  return {{"username", "bob"},    {"inFanclub", false}, {"hasTokens", true}, {"isMod", false},
          {"recentTips", "some"}, {"gender", "m"},      {"subgender", ""},   {"language", "en"}};
}

// A valid object for every method, with everything the spec requires (and an extra key or two).
std::map<std::string, json::value> valid_objects() {
  std::map<std::string, json::value> out;
  for (std::string_view m : methods)
    out[std::string(m)] = {{"broadcaster", "alice"}, {"user", user()}};
  out["chatMessage"].as_object()["message"] = {
      {"color", "#494949"}, {"message", "hi all"}, {"font", "default"}, {"bgColor", nullptr}};
  out["privateMessage"].as_object()["message"] = {{"color", ""},
                                                  {"message", "psst"},
                                                  {"font", "default"},
                                                  {"fromUser", "bob"},
                                                  {"toUser", "alice"}};
  out["tip"].as_object()["tip"] = {{"tokens", 25}, {"isAnon", false}, {"message", ""}};
  out["mediaPurchase"].as_object()["media"] = {
      {"id", 1}, {"type", "photos"}, {"name", "set one"}, {"tokens", 50}};
  out["roomSubjectChange"] = {{"broadcaster", "alice"}, {"subject", "hello #new"}};
  return out;
}

// Every path of a required field of `obj` ("user.isMod", "tip.tokens"), skipping the keys the
// spec leaves optional.
void required_paths(const json::object& obj, const std::string& prefix,
                    std::vector<std::vector<std::string>>& out, std::vector<std::string> at = {}) {
  static const std::vector<std::string> optional = {"subgender", "language", "bgColor"};
  for (const auto& [k, v] : obj) {
    const std::string key(k);
    if (std::find(optional.begin(), optional.end(), key) != optional.end()) continue;
    auto path = at;
    path.push_back(key);
    out.push_back(path);
    if (v.is_object()) required_paths(v.as_object(), prefix, out, path);
  }
}

json::object without(json::value v, const std::vector<std::string>& path) {
  json::object* at = &v.as_object();
  for (std::size_t i = 0; i + 1 < path.size(); ++i) at = &(*at)[path[i]].as_object();
  at->erase(path.back());
  return v.as_object();
}

TEST(ChaturbateMethods, TwelveMethodsAreKnown) {
  EXPECT_EQ(methods.size(), 12u);
  EXPECT_TRUE(is_method("tip"));
  EXPECT_FALSE(is_method("Tip"));
  auto r = check_event("dance", "{}");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("must be one of the feed's methods"), std::string::npos);
}

TEST(ChaturbateMethods, AValidObjectOfEveryMethodPasses) {
  for (const auto& [method, obj] : valid_objects())
    EXPECT_EQ(check_event(method, json::serialize(obj)), std::nullopt) << method;
}

TEST(ChaturbateMethods, EachRequiredFieldMissingInTurnIsRefusedByName) {
  std::size_t cases = 0;
  for (const auto& [method, obj] : valid_objects()) {
    std::vector<std::vector<std::string>> paths;
    required_paths(obj.as_object(), "", paths);
    for (const auto& path : paths) {
      std::string dotted;
      for (const auto& p : path) dotted += (dotted.empty() ? "" : ".") + p;
      auto problem = check_event(method, json::serialize(without(obj, path)));
      ASSERT_TRUE(problem) << method << " without " << dotted;
      EXPECT_EQ(*problem, "'" + dotted + "' is required") << method;
      ++cases;
    }
  }
  EXPECT_GT(cases, 90u) << "every method's broadcaster, user keys and object keys";
}

TEST(ChaturbateMethods, WrongTypesAndValuesAreRefusedByName) {
  auto objects = valid_objects();
  auto with = [&](const std::string& method, const std::vector<std::string>& path, json::value v) {
    json::value o = objects[method];
    json::object* at = &o.as_object();
    for (std::size_t i = 0; i + 1 < path.size(); ++i) at = &(*at)[path[i]].as_object();
    (*at)[path.back()] = std::move(v);
    return check_event(method, json::serialize(o)).value_or("(accepted)");
  };
  EXPECT_EQ(with("tip", {"tip", "tokens"}, 0), "'tip.tokens' must be an integer of at least 1");
  EXPECT_EQ(with("tip", {"tip", "tokens"}, 2.5), "'tip.tokens' must be an integer of at least 1");
  EXPECT_EQ(with("tip", {"tip", "message"}, nullptr), "'tip.message' must be a string");
  EXPECT_EQ(with("follow", {"user", "recentTips"}, "loads"),
            "'user.recentTips' must be one of none, some, few, lots, tons");
  EXPECT_EQ(with("follow", {"user", "gender"}, "x"), "'user.gender' must be one of m, f, t, c");
  EXPECT_EQ(with("follow", {"user", "isMod"}, "no"), "'user.isMod' must be true or false");
  EXPECT_EQ(with("follow", {"user"}, "bob"), "'user' must be an object");
  EXPECT_EQ(with("userEnter", {"broadcaster"}, 5), "'broadcaster' must be a string");
  EXPECT_EQ(with("mediaPurchase", {"media", "id"}, "1"), "(accepted)") << "a string of digits";
  EXPECT_EQ(with("mediaPurchase", {"media", "id"}, "one"),
            "'media.id' must be an integer or a string of digits");
  EXPECT_EQ(with("mediaPurchase", {"media", "type"}, "audio"),
            "'media.type' must be one of photos, video");
  EXPECT_EQ(with("roomSubjectChange", {"subject"}, json::array{}), "'subject' must be a string");
  EXPECT_EQ(check_event("tip", "[1]"), "'data' must be a JSON object");
  EXPECT_EQ(check_event("tip", "{"), "'data' must be a JSON object");
}

}  // namespace
}  // namespace eventfeed::api::chaturbate

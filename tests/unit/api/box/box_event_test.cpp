#include "api/box/box_event.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace eventfeed::api::box {
namespace {

namespace json = boost::json;

const std::string user =
    R"({"type":"user","id":"11","name":"Example User","login":"u@example.com"})";
const std::string file = R"({"type":"file","id":"123","name":"a.txt","etag":"0"})";

std::string data(const std::string& rest = {}) {
  return R"({"created_by":)" + user + R"(,"source":)" + file + rest + "}";
}

// Events are not copied or moved (their caches are not): one on the heap.
std::unique_ptr<core::event> make_event(std::string type, std::string d, core::position pos = 7) {
  auto ev = std::make_unique<core::event>();
  ev->stream = "box:user:11";
  ev->pos = pos;
  ev->time_ms = 1'767'323'045'678;  // 2026-01-02T03:04:05.678Z
  ev->type = std::move(type);
  ev->data = std::move(d);
  return ev;
}

TEST(BoxStreamTypes, ParseAndFilter) {
  EXPECT_EQ(parse_stream_type("all"), stream_type::all);
  EXPECT_EQ(parse_stream_type("changes"), stream_type::changes);
  EXPECT_EQ(parse_stream_type("sync"), stream_type::sync);
  for (auto bad : {"", "ALL", "admin_logs", "admin_logs_streaming", "tree"})
    EXPECT_EQ(parse_stream_type(bad), std::nullopt) << bad;
  EXPECT_EQ(to_string(stream_type::changes), "changes");
  EXPECT_TRUE(filter_for(stream_type::all).accepts_all());
  for (auto t : {stream_type::changes, stream_type::sync}) {
    const auto& f = filter_for(t);
    for (auto type : {"ITEM_UPLOAD", "ITEM_MOVE", "LOCK_DESTROY", "COLLAB_ROLE_CHANGE",
                      "GROUP_REMOVE_USER", "ITEM_MAKE_CURRENT_VERSION"})
      EXPECT_TRUE(f.accepts(std::string_view(type))) << type;
    for (auto type : {"COMMENT_CREATE", "ITEM_DOWNLOAD", "ITEM_PREVIEW", "TASK_CREATE",
                      "ITEM_SHARED", "ACCESS_GRANTED", "SOMETHING_NEW"})
      EXPECT_FALSE(f.accepts(std::string_view(type))) << type;
  }
}

TEST(BoxPositions, AreOffsetAndParsed) {
  EXPECT_EQ(to_stream_position(0), position_offset);
  EXPECT_EQ(to_stream_position(17), 1'000'000'000'017u);
  EXPECT_LT(to_stream_position(1'000'000'000), 1ULL << 53);
  auto kind = [](std::optional<std::string> text) {
    auto c = parse_stream_position(text);
    EXPECT_TRUE(c) << text.value_or("(absent)");
    return c ? c->from : core::cursor::kind::latest;
  };
  EXPECT_EQ(kind(std::nullopt), core::cursor::kind::oldest);
  EXPECT_EQ(kind(""), core::cursor::kind::oldest);
  EXPECT_EQ(kind("0"), core::cursor::kind::oldest);
  EXPECT_EQ(kind("5"), core::cursor::kind::oldest) << "below the offset: never handed out";
  EXPECT_EQ(kind("1000000000000"), core::cursor::kind::oldest);
  EXPECT_EQ(kind("now"), core::cursor::kind::now);
  auto after = parse_stream_position("1000000000017");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->from, core::cursor::kind::after);
  EXPECT_EQ(after->pos, 17u);
  for (auto bad : {"-1", "NOW", "1e5", "12 ", "abc", "99999999999999999999999"}) {
    auto c = parse_stream_position(std::string(bad));
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.err().code, core::errc::bad_request);
  }
}

TEST(BoxEvents, TimesAreIso8601WithAnOffset) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(iso8601(1'767'323'045'678), "2026-01-02T03:04:05+00:00");
}

TEST(BoxEvents, IdsAreStableAndDistinct) {
  auto a = make_event("ITEM_UPLOAD", data(), 7);
  auto b = make_event("ITEM_UPLOAD", data(), 8);
  EXPECT_EQ(derived_event_id(*a), derived_event_id(*make_event("X", "{}", 7)));
  EXPECT_NE(derived_event_id(*a), derived_event_id(*b));
  b->pos = 7;
  b->stream = "box:user:12";
  EXPECT_NE(derived_event_id(*a), derived_event_id(*b));
  EXPECT_EQ(derived_event_id(*a).size(), 32u);
  EXPECT_EQ(derived_event_id(*a).find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(BoxEvents, RenderedAsBoxEventObjects) {
  auto owned = make_event("ITEM_UPLOAD", data(R"(,"session_id":"s1","extra":{"k":1.5})"));
  const core::event& ev = *owned;
  const std::string& text = render_event(ev);
  EXPECT_EQ(&text, &render_event(ev)) << "cached on the event";
  const json::value v = json::parse(text);
  const json::value expected =
      json::parse(R"({"type":"event","event_id":")" + derived_event_id(ev) +
                  R"(","event_type":"ITEM_UPLOAD","created_at":"2026-01-02T03:04:05+00:00",)"
                  R"("recorded_at":"2026-01-02T03:04:05+00:00","created_by":)" +
                  user + R"(,"source":)" + file +
                  R"(,"session_id":"s1","additional_details":null,"extra":{"k":1.5}})");
  EXPECT_EQ(v, expected);
  EXPECT_TRUE(text.starts_with(R"({"type":"event","event_id":)")) << text;
  EXPECT_NE(text.find(R"("k":1.5)"), std::string::npos) << "numbers as written: " << text;
}

TEST(BoxEvents, WhatThePublisherGaveWins) {
  auto ev =
      make_event("ITEM_TRASH", R"({"type":"event","event_type":"ITEM_TRASH","event_id":"box-1",)"
                               R"("created_at":"2012-12-12T10:53:43-08:00","created_by":)" +
                                   user + R"(,"source":null,"additional_details":{"a":1}})");
  const json::value v = json::parse(render_event(*ev));
  EXPECT_EQ(v.at("event_id"), "box-1");
  EXPECT_EQ(v.at("created_at"), "2012-12-12T10:53:43-08:00");
  EXPECT_EQ(v.at("recorded_at"), "2026-01-02T03:04:05+00:00");
  EXPECT_TRUE(v.at("source").is_null());
  EXPECT_TRUE(v.at("session_id").is_null());
  EXPECT_EQ(v.at("additional_details"), json::parse(R"({"a":1})"));
}

TEST(BoxEvents, GivenFieldsOfTheWrongTypeAreNotRendered) {
  // As an event stored before its stream had a Box token may be: never checked.
  auto ev =
      make_event("ITEM_UPLOAD", R"({"event_id":5,"created_at":1767323045,"recorded_at":{"t":1},)"
                                R"("session_id":7,"created_by":"11","source":"file",)"
                                R"("additional_details":[1],"extra":true})");
  const json::value v = json::parse(render_event(*ev));
  EXPECT_EQ(v.at("event_id"), json::value(derived_event_id(*ev)));
  EXPECT_EQ(v.at("created_at"), "2026-01-02T03:04:05+00:00");
  EXPECT_EQ(v.at("recorded_at"), "2026-01-02T03:04:05+00:00");
  for (auto key : {"session_id", "created_by", "source", "additional_details"})
    EXPECT_TRUE(v.at(key).is_null()) << key;
  EXPECT_EQ(v.at("extra"), true) << "other keys pass through";
  EXPECT_EQ(v.as_object().size(), 10u) << v;
}

TEST(BoxEvents, ChecksWhatTheSdksNeed) {
  EXPECT_EQ(check_event("ITEM_UPLOAD", data()), std::nullopt);
  EXPECT_EQ(check_event("ITEM_UPLOAD", R"({"created_by":)" + user + "}"), std::nullopt);
  EXPECT_EQ(check_event("LOCK_DESTROY", R"({"created_by":)" + user + R"(,"source":null})"),
            std::nullopt);
  EXPECT_EQ(check_event("UPLOAD", R"({"created_by":)" + user +
                                      R"(,"source":{"item_type":"file","item_id":"9",)"
                                      R"("item_name":"a.txt"}})"),
            std::nullopt);
  EXPECT_EQ(
      check_event("X", R"({"created_by":)" + user +
                           R"(,"source":{"type":"app_item","id":"1","app_item_type":"hubs"}})"),
      std::nullopt);
  EXPECT_EQ(check_event("X", R"({"created_by":)" + user +
                                 R"(,"source":{"item_type":"user","item_id":"9"}})"),
            std::nullopt)
      << "an item_type the SDKs do not know is a generic source: no item_name needed";
  EXPECT_EQ(check_event("X", R"({"created_by":)" + user + R"(,"source":{"anything":1}})"),
            std::nullopt)
      << "a generic source";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"[]", "'data' must be a JSON object"},
      {"{}", "'created_by' is required"},
      {R"({"created_by":"11"})", "'created_by' must be an object"},
      {R"({"created_by":{"id":"11"}})", "'created_by.type' is required"},
      {R"({"created_by":{"type":"group","id":"11"}})", "'created_by.type' must be \"user\""},
      {R"({"created_by":{"type":"user","id":11}})", "'created_by.id' must be a string"},
      {R"({"created_by":{"type":"user","id":""}})", "'created_by.id' must not be empty"},
      {R"({"created_by":{"type":"user","id":"1","name":5}})",
       "'created_by.name' must be a string or null"},
      {R"({"created_by":)" + user + R"(,"source":"file"})", "'source' must be an object"},
      {R"({"created_by":)" + user + R"(,"source":{"type":"file","id":123}})",
       "'source.id' must be a string"},
      {R"({"created_by":)" + user + R"(,"source":{"type":"folder"}})", "'source.id' is required"},
      {R"({"created_by":)" + user + R"(,"source":{"item_type":"file","item_id":9}})",
       "'source.item_id' must be a string"},
      {R"({"created_by":)" + user + R"(,"source":{"type":"app_item","id":"1"}})",
       "'source.app_item_type' is required"},
      {R"({"created_by":)" + user + R"(,"source":{"type":"app_item","id":"1","app_item_type":2}})",
       "'source.app_item_type' must be a string"},
      {R"({"created_by":)" + user + R"(,"source":{"item_type":"file","item_id":"9"}})",
       "'source.item_name' is required"},
      {R"({"created_by":)" + user +
           R"(,"source":{"item_type":"folder","item_id":"9","item_name":null}})",
       "'source.item_name' must be a string"},
      {R"({"created_by":)" + user +
           R"(,"source":{"item_type":"folder","item_id":"9","item_name":5}})",
       "'source.item_name' must be a string"},
      {R"({"created_by":)" + user + R"(,"session_id":7})", "'session_id' must be a string or null"},
      {R"({"created_by":)" + user + R"(,"additional_details":[]})",
       "'additional_details' must be an object or null"},
      {R"({"created_by":)" + user + R"(,"created_at":"yesterday"})",
       "'created_at' must be an ISO 8601 date-time with an offset (2026-01-02T03:04:05+00:00)"},
      {R"({"created_by":)" + user + R"(,"recorded_at":"2026-01-02T03:04:05"})",
       "'recorded_at' must be an ISO 8601 date-time with an offset (2026-01-02T03:04:05+00:00)"},
      {R"({"created_by":)" + user + R"(,"event_id":""})", "'event_id' must not be empty"},
      {R"({"created_by":)" + user + R"(,"event_id":5})", "'event_id' must be a string"},
      {R"({"created_by":)" + user + R"(,"type":"file"})", "'type' must be \"event\""},
      {R"({"created_by":)" + user + R"(,"event_type":"ITEM_MOVE"})",
       "'event_type' must be \"ITEM_UPLOAD\""},
  };
  for (const auto& [d, message] : refused) EXPECT_EQ(check_event("ITEM_UPLOAD", d), message) << d;
  for (auto ok : {"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123-08:00"})
    EXPECT_EQ(check_event("X", R"({"created_by":)" + user + R"(,"created_at":")" + ok + "\"}"),
              std::nullopt)
        << ok;
}

}  // namespace
}  // namespace eventfeed::api::box

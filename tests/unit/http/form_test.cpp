#include "http/form.hpp"

#include <gtest/gtest.h>

namespace eventfeed::http {
namespace {

TEST(Form, ReadsAnUrlencodedBodyAsPythonsClientSendsIt) {
  form f;
  EXPECT_EQ(
      f.add_body("application/x-www-form-urlencoded",
                 "event_types=%5B%22message%22%5D&narrow=%5B%5B%22stream%22%2C+%22Denmark%22%5D%5D"
                 "&apply_markdown=false&queue_lifespan_secs=600"),
      std::nullopt);
  ASSERT_NE(f.find("event_types"), nullptr);
  EXPECT_EQ(*f.find("event_types"), R"(["message"])");
  EXPECT_EQ(*f.find("narrow"), R"([["stream", "Denmark"]])");
  EXPECT_EQ(*f.find("queue_lifespan_secs"), "600");
  EXPECT_EQ(f.find("dont_block"), nullptr);
}

TEST(Form, ReadsAMultipartBodyAsZulipJsSendsIt) {
  form f;
  const std::string body =
      "--------------------------123\r\n"
      "Content-Disposition: form-data; name=\"event_types\"\r\n\r\n"
      "[\"message\"]\r\n"
      "--------------------------123\r\n"
      "Content-Disposition: form-data; name=\"narrow\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "[]\r\n"
      "--------------------------123\r\n"
      "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
      "\r\n"
      "--------------------------123--\r\n";
  EXPECT_EQ(f.add_body("multipart/form-data;boundary=------------------------123", body),
            std::nullopt);
  ASSERT_NE(f.find("event_types"), nullptr);
  EXPECT_EQ(*f.find("event_types"), R"(["message"])");
  EXPECT_EQ(*f.find("narrow"), "[]");
  EXPECT_EQ(*f.find("empty"), "");
  form quoted;
  EXPECT_EQ(quoted.add_body(R"(Multipart/Form-Data; boundary="------------------------123")", body),
            std::nullopt);
  EXPECT_EQ(quoted.fields().size(), 3u);
}

TEST(Form, BodyFieldsComeBeforeQueryFields) {
  form f;
  ASSERT_EQ(f.add_body("application/x-www-form-urlencoded", "queue_id=from-body"), std::nullopt);
  f.add_query("queue_id=from-query&last_event_id=-1&bad=%zz");
  EXPECT_EQ(*f.find("queue_id"), "from-body");
  EXPECT_EQ(*f.find("last_event_id"), "-1");
  EXPECT_EQ(f.find("bad"), nullptr) << "a malformed query field is skipped";
}

TEST(Form, OtherBodiesAddNothingAndBrokenFormsSayWhy) {
  form f;
  EXPECT_EQ(f.add_body("application/json", R"({"queue_id":"x"})"), std::nullopt);
  EXPECT_TRUE(f.fields().empty());
  EXPECT_EQ(f.add_body("application/x-www-form-urlencoded", ""), std::nullopt);
  EXPECT_TRUE(form().add_body("application/x-www-form-urlencoded", "a=%zz").has_value());
  EXPECT_TRUE(form().add_body("multipart/form-data", "--x\r\n").has_value());
  EXPECT_TRUE(form().add_body("multipart/form-data; boundary=x", "no parts").has_value());
  EXPECT_TRUE(form()
                  .add_body("multipart/form-data; boundary=x",
                            "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunclosed")
                  .has_value());
  EXPECT_TRUE(form()
                  .add_body("multipart/form-data; boundary=x",
                            "--x\r\nContent-Type: text/plain\r\n\r\nv\r\n--x--")
                  .has_value());
}

}  // namespace
}  // namespace eventfeed::http

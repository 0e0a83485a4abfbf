#include "cli/demo_room.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace eventfeed::cli {

namespace json = boost::json;

namespace {

const std::vector<std::string> first_names = {
    "sunny", "max",  "lena", "kai",  "mia",   "theo", "zoe",   "leo",  "nora",
    "finn",  "ivy",  "jack", "ruby", "omar",  "yuki", "sofia", "luca", "ada",
    "milo",  "emma", "noah", "lily", "felix", "nina", "oscar", "hana", "marco"};
const std::vector<std::string> suffixes = {"_77",    "2000", "_x",   "xo",    "_the_great",
                                           "_night", "99",   "_fan", "_live", "_jazz"};
const std::vector<std::string> chat_lines = {"hi everyone!",
                                             "hello from Berlin :)",
                                             "love the music",
                                             "what song is this?",
                                             "you look great today",
                                             "first time here",
                                             "lol",
                                             "brb",
                                             "good evening!",
                                             "happy friday",
                                             "nice setup",
                                             "how long are you on tonight?",
                                             "greetings from Tokyo",
                                             "the lighting is perfect",
                                             "haha yes",
                                             "that was funny"};
const std::vector<std::string> tip_notes = {
    "", "", "", "for the song", "keep it up!", "| hi", "you deserve it", "request: dance"};
const std::vector<std::string> subjects = {
    "Friday chill stream #music #talk", "Goal: 500 tokens for a new song #goal",
    "Cooking night, ask me anything #cooking", "Late night jam session #guitar"};
const std::vector<std::string> media_names = {"Beach photos", "Studio set", "Behind the scenes",
                                              "Sunset clip"};
const std::vector<std::string> recent_tips = {"none", "few", "some", "lots", "tons"};

std::string compact(const json::value& v) {
  return json::serialize(v);
}

}  // namespace

demo_room::demo_room(std::string broadcaster, std::uint64_t seed)
    : broadcaster_(std::move(broadcaster)), random_(seed) {
  for (const auto& first : first_names) {
    person p;
    p.name = first + pick(suffixes);
    p.gender = std::string(1, "mfmfc"[random_() % 5]);
    p.has_tokens = random_() % 4 != 0;
    p.is_mod = random_() % 13 == 0;
    people_.push_back(std::move(p));
  }
}

const std::string& demo_room::pick(const std::vector<std::string>& from) {
  return from[random_() % from.size()];
}

json::value demo_room::user(const person& p, bool in_fanclub) const {
  return {{"username", p.name},
          {"inFanclub", in_fanclub},
          {"hasTokens", p.has_tokens},
          {"isMod", p.is_mod},
          {"recentTips", recent_tips[p.name.size() % recent_tips.size()]},
          {"gender", p.gender},
          {"subgender", ""},
          {"language", "en"}};
}

// {"broadcaster": ..., "user": <who>} plus `key`: `value` when given.
demo_event demo_room::event(std::string method, std::size_t who, std::string line,
                            std::string_view key, json::value value) const {
  json::object data{{"broadcaster", broadcaster_},
                    {"user", user(people_[who], fans_.count(who) > 0)}};
  if (!key.empty()) data[key] = std::move(value);
  return {std::move(method), compact(data), std::move(line)};
}

demo_event demo_room::start() {
  const person self{broadcaster_, "f", true, false};
  json::object data{{"broadcaster", broadcaster_}, {"user", user(self, false)}};
  return {"broadcastStart", compact(data), broadcaster_ + " started broadcasting"};
}

demo_event demo_room::stop() {
  const person self{broadcaster_, "f", true, false};
  json::object data{{"broadcaster", broadcaster_}, {"user", user(self, false)}};
  return {"broadcastStop", compact(data), broadcaster_ + " stopped broadcasting"};
}

std::size_t demo_room::someone_present() {
  auto it = present_.begin();
  std::advance(it, static_cast<long>(random_() % present_.size()));
  return *it;
}

demo_event demo_room::enter() {
  std::vector<std::size_t> away;
  for (std::size_t i = 0; i < people_.size(); ++i)
    if (!present_.count(i)) away.push_back(i);
  if (away.empty()) return chat();
  const std::size_t who = away[random_() % away.size()];
  present_.insert(who);
  return event("userEnter", who, people_[who].name + " entered the room");
}

demo_event demo_room::leave() {
  const std::size_t who = someone_present();
  auto e = event("userLeave", who, people_[who].name + " left the room");
  present_.erase(who);
  return e;
}

demo_event demo_room::chat() {
  const std::size_t who = someone_present();
  const std::string& text = pick(chat_lines);
  return event("chatMessage", who, people_[who].name + ": " + text, "message",
               {{"color", "#494949"},
                {"bgColor", nullptr},
                {"message", text},
                {"font", "default"},
                {"orig", nullptr}});
}

demo_event demo_room::tip() {
  const std::size_t who = someone_present();
  static const int amounts[] = {1, 5, 10, 25, 25, 50, 100, 200};
  const int tokens = amounts[random_() % std::size(amounts)];
  const bool anonymous = random_() % 10 == 0;
  const std::string& note = pick(tip_notes);
  return event("tip", who,
               (anonymous ? std::string("someone") : people_[who].name) + " tipped " +
                   std::to_string(tokens) + " tokens" + (note.empty() ? "" : " (\"" + note + "\")"),
               "tip", {{"tokens", tokens}, {"isAnon", anonymous}, {"message", note}});
}

demo_event demo_room::follow() {
  const std::size_t who = someone_present();
  const bool unfollow = followers_.count(who) > 0 && random_() % 3 == 0;
  if (unfollow)
    followers_.erase(who);
  else
    followers_.insert(who);
  return event(unfollow ? "unfollow" : "follow", who,
               people_[who].name + (unfollow ? " unfollowed" : " followed"));
}

demo_event demo_room::private_message() {
  const std::size_t who = someone_present();
  return event("privateMessage", who,
               people_[who].name + " sent " + broadcaster_ + " a private message", "message",
               {{"color", ""},
                {"bgColor", nullptr},
                {"message", "are you taking requests?"},
                {"font", "default"},
                {"fromUser", people_[who].name},
                {"toUser", broadcaster_}});
}

demo_event demo_room::fanclub_join() {
  const std::size_t who = someone_present();
  fans_.insert(who);
  return event("fanclubJoin", who, people_[who].name + " joined the fan club");
}

demo_event demo_room::media_purchase() {
  const std::size_t who = someone_present();
  const bool video = random_() % 2 == 0;
  const std::string& name = pick(media_names);
  return event(
      "mediaPurchase", who,
      people_[who].name + " bought the " + (video ? "video" : "photo set") + " \"" + name + "\"",
      "media",
      {{"id", media_id_++},
       {"type", video ? "video" : "photos"},
       {"name", name},
       {"tokens", video ? 100 : 50}});
}

demo_event demo_room::subject_change() {
  const std::string& subject = pick(subjects);
  json::object data{{"broadcaster", broadcaster_}, {"subject", subject}};
  return {"roomSubjectChange", compact(data), "the room's subject is now \"" + subject + "\""};
}

demo_event demo_room::next() {
  // An empty room fills up first; a full one thins out.
  if (present_.size() < 3) return enter();
  const auto roll = random_() % 100;
  if (roll < 12) return enter();
  if (roll < 20) return present_.size() > 4 ? leave() : enter();
  if (roll < 55) return chat();
  if (roll < 72) return tip();
  if (roll < 81) return follow();
  if (roll < 86) return private_message();
  if (roll < 91) return fanclub_join();
  if (roll < 95) return media_purchase();
  if (roll < 97) return subject_change();
  return chat();
}

}  // namespace eventfeed::cli

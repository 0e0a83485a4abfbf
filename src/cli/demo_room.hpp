// cli/demo_room.hpp: a made-up, lively broadcast room, one event at a time, for `eventfeed
// demo`: people come in and go, chat, tip, follow, join the fan club, send private messages,
// buy a photo set now and then, and the broadcaster changes the subject. Every event is one of
// the Chaturbate feed's twelve methods with every field its clients require, so the room's
// stream accepts it (api/chaturbate/methods.hpp).
//
// The room keeps who is present, who follows and who is a fan, so the story holds together:
// only someone present chats or tips, a follow comes before an unfollow, and a person leaves
// after entering. Deterministic for a given seed.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventfeed::cli {

struct demo_event {
  std::string method;  // the event type: "tip", "chatMessage", ...
  std::string data;    // the object, compact JSON
  std::string line;    // what happened, for a person ("bob tipped 25 tokens")
};

class demo_room {
 public:
  demo_room(std::string broadcaster, std::uint64_t seed);

  demo_event start();  // broadcastStart
  demo_event next();   // whatever happens next in the room
  demo_event stop();   // broadcastStop

 private:
  struct person {
    std::string name;
    std::string gender;
    bool has_tokens = true;
    bool is_mod = false;
  };
  boost::json::value user(const person& p, bool in_fanclub) const;
  // An event of `who` in this room, with one more field `key` of `value` if given.
  demo_event event(std::string method, std::size_t who, std::string line, std::string_view key = {},
                   boost::json::value value = {}) const;
  demo_event enter();
  demo_event leave();
  demo_event chat();
  demo_event tip();
  demo_event follow();
  demo_event private_message();
  demo_event fanclub_join();
  demo_event media_purchase();
  demo_event subject_change();
  std::size_t someone_present();
  const std::string& pick(const std::vector<std::string>& from);

  std::string broadcaster_;
  std::mt19937_64 random_;
  std::vector<person> people_;
  std::set<std::size_t> present_, followers_, fans_;
  std::uint64_t media_id_ = 1;
};

}  // namespace eventfeed::cli

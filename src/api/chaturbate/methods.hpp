// api/chaturbate/methods.hpp: the feed's twelve event methods and what each event's `object`
// must carry for the feed's clients to read it (../shared/spec/chaturbate.md, section 2).
//
// A publisher puts the method in the event's type and the object in its data; a room's stream
// refuses anything else (feed::engine::guard_streams with check_event), so that every event a
// client receives has the fields the strictest client requires:
//   - every method: `broadcaster` (string), and `user` except for roomSubjectChange;
//   - `user`: username, inFanclub, hasTokens, isMod, recentTips (none|some|few|lots|tons),
//     gender (m|f|t|c); extra keys are passed through;
//   - chatMessage, privateMessage: `message` {color, message, font}; privateMessage also
//     fromUser and toUser;
//   - tip: `tip` {tokens (an integer >= 1), isAnon, message (a string, "" when empty)};
//   - mediaPurchase: `media` {id (a number, or a string of digits), type (photos|video), name,
//     tokens (a number)};
//   - roomSubjectChange: `subject` (string).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/publish.hpp"

namespace eventfeed::api::chaturbate {

inline constexpr std::array<std::string_view, 12> methods = {
    "broadcastStart", "broadcastStop", "userEnter",     "userLeave",
    "follow",         "unfollow",      "fanclubJoin",   "chatMessage",
    "privateMessage", "tip",           "mediaPurchase", "roomSubjectChange"};

bool is_method(std::string_view type) noexcept;

// Nothing when `data` is a valid object for method `type`; else what is wrong, naming the field
// by its path ("'user.recentTips' must be one of none, some, few, lots, tons").
std::optional<std::string> check_event(std::string_view type, std::string_view data);

// The same for a new event (the check a room's stream is guarded with).
inline std::optional<std::string> check_event(const core::new_event& e) {
  return check_event(e.type, e.data);
}

}  // namespace eventfeed::api::chaturbate

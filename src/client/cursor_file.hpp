// client/cursor_file.hpp: a follower's cursor kept in a file, so that a restarted consumer
// resumes where it stopped.
//
// The file is one line: "eventfeed-cursor 1 <stream> <position> <check>\n", where <check> is
// the FNV-1a 64-bit hash of "<stream> <position>" in 16 hex digits. A write goes to
// "<file>.tmp", which is (optionally) fsynced and then renamed over the file, so a reader sees
// the old cursor or the new one, never a mix; the check and the final newline catch what rename
// cannot (a file cut short or scribbled over by something else, a copy half made). Every file
// that is not exactly such a line for the expected stream is an error, never a fresh start:
// a consumer that silently started again from "now" would lose events without saying so.
// A follower of several streams records them as one <stream> field, "a,b" (sorted names joined
// by commas, which no name holds).
//
// Reads and writes are plain blocking POSIX calls on the caller's thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "eventfeed/client.hpp"

namespace eventfeed::detail {

// The file's text for `stream` at `pos`.
std::string cursor_file_text(std::string_view stream, position pos);

// The position saved in `path` for `stream`; nullopt when the file does not exist. Errors, all
// of kind local: "cursor_file_unreadable" (open or read failed other than "no such file"),
// "cursor_file_damaged" (not a whole cursor line, or a wrong check), "cursor_file_stream" (a
// cursor of another stream).
result<std::optional<position>> read_cursor_file(const std::string& path, std::string_view stream);

// Replaces `path` with the cursor, atomically; `sync` fsyncs the data and the directory.
// Errors: kind local, code "cursor_file_unwritable".
std::optional<error> write_cursor_file(const std::string& path, std::string_view stream,
                                       position pos, bool sync);

}  // namespace eventfeed::detail

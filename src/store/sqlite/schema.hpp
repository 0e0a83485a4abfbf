// store/sqlite/schema.hpp: the tables of an eventfeed database, and bringing a file to them.
//
//   meta(key, value)                    schema_version
//   sequence(id = 1, last)              written by older builds only; see below
//   streams(id, name, head, trimmed_through, retained)
//   events(stream_id, pos, time_ms, type, data)      primary key (stream_id, pos), no rowid
//   records(kind, key, value, expires_ms)            primary key (kind, key), no rowid
//
// Invariants the store relies on:
// - A stream's `head` is the position of the last event ever appended to it, committed with
//   that event, and never decreases (retention removes events, not heads, and no stream row is
//   ever deleted). Positions come from one sequence, so the last position handed out is the
//   largest head: the store derives its sequence from the heads at open and writes no sequence
//   row per commit. The row that older builds kept is still read (the larger of the two
//   counts), so their files continue where they stopped.
// - `trimmed_through`: every event of the stream at or below it has been removed by retention
//   (a poll from below it reports a gap). `retained`: how many events the stream holds.
//
// open_schema() creates the tables in an empty file, migrates an older version in one
// transaction, and refuses (std::runtime_error, a message for the operator naming the file)
// a file that is not an eventfeed database or has a newer or unknown version.
#pragma once

#include <sqlite3.h>

#include <string>

namespace eventfeed::store::sqlite {

// The schema this build reads and writes; checked at open.
// 2: records gained `expires_ms`. A file of version 1 is migrated when opened.
inline constexpr int schema_version = 2;

void open_schema(sqlite3* db, const std::string& file);

}  // namespace eventfeed::store::sqlite

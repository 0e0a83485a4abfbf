#include "store/sqlite/schema.hpp"

#include <stdexcept>
#include <string_view>

#include "store/sqlite/sql.hpp"

namespace eventfeed::store::sqlite {

namespace {

const char* schema_sql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sequence(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT INTO sequence(id, last) VALUES (1, 0);
CREATE TABLE streams(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  head INTEGER NOT NULL,
  trimmed_through INTEGER NOT NULL DEFAULT 0,
  retained INTEGER NOT NULL DEFAULT 0);
CREATE TABLE events(
  stream_id INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (stream_id, pos)) WITHOUT ROWID;
CREATE TABLE records(kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  expires_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, key)) WITHOUT ROWID;
)sql";

// From one schema version to the next, by the version it starts from.
const char* migration_from_1 = R"sql(
ALTER TABLE records ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
UPDATE meta SET value='2' WHERE key='schema_version';
)sql";

struct tables_found {
  bool any = false;
  bool meta = false;
};

tables_found list_tables(sqlite3* db, const std::string& not_ours) {
  tables_found found;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table'", -1, &st,
                         nullptr) != SQLITE_OK)
    throw std::runtime_error(not_ours);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    found.any = true;
    auto* name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    if (name && std::string_view(name) == "meta") found.meta = true;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw std::runtime_error(not_ours);
  return found;
}

void run_in_transaction(sqlite3* db, const char* sql, const std::string& what) {
  exec(db, "BEGIN IMMEDIATE", what);
  try {
    exec(db, sql, what);
    exec(db, "COMMIT", what);
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace

void open_schema(sqlite3* db, const std::string& file) {
  const std::string not_ours = file +
                               " is not an eventfeed database or is corrupt; move it aside (or "
                               "restore it from a backup) and start again";
  const tables_found tables = list_tables(db, not_ours);
  if (!tables.any) {
    const std::string sql = std::string(schema_sql) +
                            "INSERT INTO meta(key, value) VALUES ('schema_version', '" +
                            std::to_string(schema_version) + "');";
    run_in_transaction(db, sql.c_str(), "cannot create the schema in " + file);
    return;
  }
  if (!tables.meta)
    throw std::runtime_error(file +
                             " holds tables but no eventfeed schema: it belongs to something "
                             "else; choose another --data-dir");
  statement version(db, "SELECT value FROM meta WHERE key='schema_version'");
  std::string found = version.step() == SQLITE_ROW ? version.text(0) : "";
  version.reset();
  if (found == "1") {  // an older file: brought up to date in one transaction
    run_in_transaction(db, migration_from_1, "cannot migrate " + file + " from schema version 1");
    found = std::to_string(schema_version);
  }
  if (found == std::to_string(schema_version)) return;
  int n = 0;
  try {
    n = std::stoi(found);
  } catch (...) {
  }
  if (n > schema_version)
    throw std::runtime_error(file + " has schema version " + found +
                             ", newer than this eventfeed understands (" +
                             std::to_string(schema_version) + "); run a newer eventfeed on it");
  throw std::runtime_error(file + " has an unknown schema version '" + found +
                           "'; it was not written by this eventfeed");
}

}  // namespace eventfeed::store::sqlite

// store/sqlite/sql.hpp: the few SQLite helpers the store's files share: a reusable prepared
// statement, running SQL without results, a write transaction that cannot be left open, and the
// operator's message for a failed write.
//
// Invariants: a `statement` is reset (bindings cleared) after every `run()`; a caller of `step()`
// resets it when done, so the next user starts from a clean statement. Text bindings are
// SQLITE_STATIC: the bound bytes must outlive the step that reads them (every caller binds and
// steps in one expression or block).
//
// Not thread-safe: a statement and a transaction belong to the connection's one thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace eventfeed::store::sqlite {

// A prepared statement, reset after each use so it can be reused.
class statement {
 public:
  // Throws std::runtime_error when the SQL does not prepare.
  statement(sqlite3* db, const char* sql);
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  // Runs a statement that returns no rows (or ignores them): SQLITE_OK or an error code.
  int run() {
    const int rc = step();
    reset();
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL without results; throws std::runtime_error with `what` and SQLite's reason.
void exec(sqlite3* db, const char* sql, std::string_view what);

// One write transaction on `db`: BEGIN IMMEDIATE when constructed. commit() ends it; a
// transaction that was not committed (an error, an exception) is rolled back when destroyed, so
// the connection is never left inside one.
class transaction {
 public:
  explicit transaction(sqlite3* db);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  // SQLITE_OK when BEGIN succeeded.
  int begun() const noexcept { return begin_rc_; }
  // COMMIT: SQLITE_OK, or the error (the destructor then rolls back).
  int commit();

 private:
  sqlite3* db_;
  int begin_rc_;
  bool open_;
};

// What a client is told when a write failed with `rc`: the cause (disk full, I/O error,
// read-only, other) and SQLite's message, and that it may retry.
std::string write_error_message(sqlite3* db, int rc);

}  // namespace eventfeed::store::sqlite

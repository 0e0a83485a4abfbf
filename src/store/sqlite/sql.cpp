#include "store/sqlite/sql.hpp"

#include <stdexcept>

namespace eventfeed::store::sqlite {

statement::statement(sqlite3* db, const char* sql) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("cannot prepare statement: ") + sqlite3_errmsg(db));
}

std::string statement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

void exec(sqlite3* db, const char* sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(what) + ": " + (err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

transaction::transaction(sqlite3* db)
    : db_(db),
      begin_rc_(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr)),
      open_(begin_rc_ == SQLITE_OK) {}

transaction::~transaction() {
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

int transaction::commit() {
  const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  // A failed COMMIT in WAL mode leaves the transaction open; the destructor rolls it back.
  if (rc == SQLITE_OK) open_ = false;
  return rc;
}

std::string write_error_message(sqlite3* db, int rc) {
  const int primary = rc & 0xff;
  std::string why = primary == SQLITE_FULL       ? "the disk is full"
                    : primary == SQLITE_IOERR    ? "an I/O error"
                    : primary == SQLITE_READONLY ? "the database is read-only"
                                                 : "a database error";
  return "the store cannot write (" + why + ": " + sqlite3_errmsg(db) + "); try again later";
}

}  // namespace eventfeed::store::sqlite

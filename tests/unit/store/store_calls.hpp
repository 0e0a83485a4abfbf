// tests/unit/store/store_calls.hpp: the store's callback calls made synchronous, for the store
// tests (the contract suite and the backends' own suites).
//
// A backend answers inline (memory), on one of its own threads (sqlite's writer and readers) or
// after a round trip (redis). Each call here hands the store a callback that fulfils a promise
// and waits on its future: the same code serves all three, and nothing sleeps. The wait is
// bounded so that a backend that never answers fails the test instead of hanging the binary.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace eventfeed::store::calls {

// How long a test waits for one answer before it reports the store as hung.
inline constexpr std::chrono::seconds answer_bound{30};

// Calls `call` with a completion callback and returns what the store passed to it, or an
// `internal` error (with a test failure) when nothing came within answer_bound. T is one of the
// store's answers: a core::result<...> or an std::optional<core::error>, both made from an error.
template <class T, class Call>
T answer_of(Call call) {
  auto answer = std::make_shared<std::promise<T>>();
  auto future = answer->get_future();
  call([answer](T value) { answer->set_value(std::move(value)); });
  if (future.wait_for(answer_bound) != std::future_status::ready) {
    ADD_FAILURE() << "the store did not answer within " << answer_bound.count() << " s";
    return T(core::error{core::errc::internal, "no answer from the store"});
  }
  return future.get();
}

inline core::result<std::vector<core::event_ptr>> append(store& s,
                                                         std::vector<core::new_event> events) {
  return answer_of<core::result<std::vector<core::event_ptr>>>(
      [&](append_callback done) { s.append(std::move(events), std::move(done)); });
}

// Appends and expects success: for setting up a scenario. Returns the stored events (none when
// the append failed, which has failed the test).
inline std::vector<core::event_ptr> append_ok(store& s, std::vector<core::new_event> events) {
  auto r = append(s, std::move(events));
  EXPECT_TRUE(r) << (r ? "" : r.err().message);
  return r ? std::move(r).value() : std::vector<core::event_ptr>{};
}

// `n` events of `stream` with data {"i":0}, {"i":1}, ...
inline std::vector<core::new_event> numbered(const std::string& stream, int n,
                                             const std::string& type = "t") {
  std::vector<core::new_event> events;
  for (int i = 0; i < n; ++i)
    events.push_back({stream, type, R"({"i":)" + std::to_string(i) + "}"});
  return events;
}

// The callback form, which always answers (from memory or from disk, as the store chooses).
inline core::result<read_result> read(store& s, std::string stream, core::position after,
                                      std::size_t limit) {
  return answer_of<core::result<read_result>>(
      [&](read_callback done) { s.read(std::move(stream), after, limit, std::move(done)); });
}

inline core::result<read_result> read_last(store& s, std::string stream, std::size_t limit) {
  return answer_of<core::result<read_result>>(
      [&](read_callback done) { s.read_last(std::move(stream), limit, std::move(done)); });
}

inline core::result<stream_info> info(store& s, std::string stream) {
  return answer_of<core::result<stream_info>>(
      [&](info_callback done) { s.info(std::move(stream), std::move(done)); });
}

// nullopt once the record is written.
inline std::optional<core::error> put_record(store& s, std::string kind, std::string key,
                                             std::string value) {
  return answer_of<std::optional<core::error>>([&](done_callback done) {
    s.put_record(std::move(kind), std::move(key), std::move(value), std::move(done));
  });
}

inline core::result<bool> swap_record(store& s, std::string kind, std::string key,
                                      std::optional<std::string> expected,
                                      std::optional<std::string> value,
                                      std::int64_t expires_at_ms = 0) {
  return answer_of<core::result<bool>>([&](swap_callback done) {
    s.swap_record(std::move(kind), std::move(key), std::move(expected), std::move(value),
                  expires_at_ms, std::move(done));
  });
}

inline std::optional<core::error> erase_record(store& s, std::string kind, std::string key) {
  return answer_of<std::optional<core::error>>([&](done_callback done) {
    s.erase_record(std::move(kind), std::move(key), std::move(done));
  });
}

inline std::vector<core::position> positions(const std::vector<core::event_ptr>& events) {
  std::vector<core::position> out;
  for (const auto& e : events) out.push_back(e->pos);
  return out;
}

inline std::vector<core::position> positions(const read_result& r) {
  return positions(r.events);
}

// A fresh directory under the system's temporary directory, removed with everything in it when
// this object is destroyed (destroy the stores that use it first).
class scratch_directory {
 public:
  scratch_directory() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("eventfeed-store-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace eventfeed::store::calls

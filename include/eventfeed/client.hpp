// eventfeed/client.hpp: a synchronous C++ client for eventfeed's native HTTP API.
//
//   eventfeed::client c({.url = "http://127.0.0.1:8080", .key = "demo-publisher-key"});
//   auto pos = c.publish("room:alice", "tip", R"({"amount":5})");   // {first, last}
//   auto r = c.poll("room:alice", {.after = "now", .timeout = std::chrono::seconds(30)});
//   if (!r) std::cerr << r.err().to_string() << '\n';
//   for (const auto& ev : r->events) std::cout << eventfeed::to_json(ev) << '\n';
//   // and poll again with .after = std::to_string(r->next)
//
// How it works. A client owns one HTTP/1.1 keep-alive connection to the server and a private
// Asio io_context. Each call writes one request and reads its answer on that connection, driving
// the io_context on the calling thread until the answer is complete; the connection stays open
// for the next call. Before reusing a connection the client checks, without blocking, that the
// server has not closed it meanwhile (idle timeout, restart); if a reused connection still fails
// before a single byte of the answer arrives, the client reconnects and sends the request once
// more. The server closes idle connections only between requests, so that retry does not
// publish twice in practice (a server that dies after committing a publish and before answering
// it, and is back within milliseconds, could see it twice).
//
// Every call has a deadline: `request_timeout` for publish and info calls, and for a poll the
// poll's own `timeout` (the time the server may hold it) plus `poll_grace`, so that a server that
// answers on time is never cut off and a dead one is noticed.
//
// Errors are values: every call returns `result<T>`, either the value or an `error` saying what
// failed (a transport failure, an error answer of the server with its HTTP status, code and
// message, an answer the client could not read, an argument rejected before sending, or a
// cancellation). Nothing here throws, except std::bad_alloc.
//
// Cancellation. `cancel()` may be called from any thread (a signal-handling thread, typically):
// it makes the call in flight return `error_kind::cancelled` promptly (the io_context is stopped
// and the connection closed) and every later call return the same at once, until
// `reset_cancel()`. That is how `eventfeed tail` ends a 30-second poll within milliseconds on
// Ctrl-C.
//
// Thread affinity: a client is used by one thread at a time; only `cancel()`, `reset_cancel()`
// and `cancelled()` may be called concurrently with a call in flight.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eventfeed {

// ---- results and errors ------------------------------------------------------------------------

enum class error_kind : std::uint8_t {
  invalid_argument,  // rejected before sending: bad URL, stream name, cursor, or data not a JSON
                     // object
  transport,         // could not resolve, connect, send or receive; timed out; connection lost
  server,            // the server answered with an error status (`status`, `code`, `message`)
  protocol,          // the answer is not what the API documents (not JSON, a field missing)
  cancelled,         // cancel() was called
  local,             // on this machine: a cursor file missing, damaged, unreadable or unwritable
};

// Short stable name of a kind: "invalid_argument", "transport", "server", "protocol", "cancelled",
// "local".
std::string_view to_string(error_kind kind) noexcept;

struct error {
  error_kind kind = error_kind::transport;
  int status = 0;  // the HTTP status of the answer, when there was one; 0 otherwise
  // server: the server's error code ("unauthorized", "forbidden", "bad_request", ...).
  // others: a short client code: "invalid_url", "invalid_stream", "invalid_cursor",
  // "invalid_json", "resolve", "connect", "timeout", "closed", "io", "bad_response", "cancelled".
  std::string code{};
  std::string message{};  // for people; no trailing period
  // server: the delay the answer asked for in `Retry-After` (whole seconds), 0 when it had none.
  std::chrono::milliseconds retry_after{0};

  // True for failures that may go away by themselves: transport errors and server answers 429,
  // 500, 502, 503 and 504. Bad keys, rights, requests and cancellation are not retryable.
  bool retryable() const noexcept;

  // One line for people: "server answered 401 (unauthorized): unknown key",
  // "cannot connect to 127.0.0.1:8080: Connection refused" (transport and argument errors are
  // their message), "unexpected answer from the server: the body is not JSON (...)".
  std::string to_string() const;
};

// A value or an error. Deliberately tiny: C++20 has no std::expected yet.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& { return std::get<1>(v_); }
  error&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

// ---- the API's values --------------------------------------------------------------------------

// A 64-bit sequence number, strictly increasing within a stream; 0 means "before the first".
using position = std::uint64_t;

// One event to publish to the stream named by the call.
struct new_event {
  std::string type{};
  std::string data = "{}";  // a JSON object, as text
};

// One event to publish with publish_many(), which may target several streams.
struct stream_event {
  std::string stream{};
  std::string type{};
  std::string data = "{}";  // a JSON object, as text
};

// Positions given to a batch published to one stream: first..last, in the order sent.
struct published {
  position first = 0;
  position last = 0;
};

// One event as read from a stream.
struct event {
  position pos = 0;
  std::int64_t time_ms = 0;  // milliseconds since the Unix epoch, assigned by the server
  std::string type{};
  std::string data{};    // the JSON object exactly as the server sent it (compact text)
  std::string stream{};  // the stream it was read from
};

// What a poll or a follower reads: one stream, or several whose names share a `{tag}` (the text
// between the first '{' and the next '}'), which share one position sequence, so that one
// cursor follows them all in order: "room:alice", or {"{acme}user:42", "{acme}public"}. At most
// 50 streams (the server's limit for one poll).
class stream_set {
 public:
  stream_set(const char* name) : names_{std::string(name)} {}               // NOLINT
  stream_set(std::string_view name) : names_{std::string(name)} {}          // NOLINT
  stream_set(const std::string& name) : names_{name} {}                     // NOLINT
  stream_set(std::initializer_list<std::string> names) : names_(names) {}   // NOLINT
  stream_set(std::vector<std::string> names) : names_(std::move(names)) {}  // NOLINT
  const std::vector<std::string>& names() const noexcept { return names_; }

 private:
  std::vector<std::string> names_;
};

// What poll() asks for.
struct poll_options {
  // The cursor: "" for the oldest retained event, "now" for only what is published from now on,
  // or a decimal position ("17": everything after 17). Resume with std::to_string(result.next).
  std::string after{};
  // How long the server may hold the poll when nothing is there; 0 answers at once. The server
  // caps it (90 s by default). The client waits this long plus client_options::poll_grace.
  std::chrono::milliseconds timeout{30'000};
  std::vector<std::string> types{};  // only these event types; empty for all
  std::size_t limit = 0;             // at most this many events; 0 for the server's default
};

struct poll_result {
  std::vector<event> events{};  // in position order; empty when the poll timed out
  position next = 0;            // the cursor to poll from next
  bool gap = false;  // events after the cursor were removed by retention before being read
};

// GET /v1/streams/{stream}.
struct stream_info {
  std::string stream{};
  position head = 0;        // the last position in the stream (0: empty)
  position oldest = 0;      // the oldest retained position (0: empty)
  std::size_t waiters = 0;  // polls parked on the stream right now
};

// GET /healthz.
struct server_health {
  std::string status{};  // "ok"
  std::string store{};   // the store backend: "memory", "sqlite", ...
  std::size_t waiters = 0;
};

// One event as one line of JSON, in the server's own rendering:
// {"position":17,"time":1700000000000,"type":"tip","data":{"amount":5}} (no trailing newline);
// `with_stream` puts the stream first, as a poll of several streams has it:
// {"stream":"{acme}public","position":17,...}.
std::string to_json(const event& ev, bool with_stream = false);

// ---- the base URL ------------------------------------------------------------------------------

// A parsed base URL: http://host[:port][/prefix].
struct base_url {
  std::string host{};  // a name, an IPv4 address, or an IPv6 address without its brackets
  std::uint16_t port = 80;
  std::string prefix{};  // "" or a path starting with '/' and not ending with one: "/eventfeed"
};

// Parses "http://host[:port][/prefix]". https, user info, a query or a fragment, a port outside
// 1..65535 and anything that is not such a URL are errors of kind invalid_argument, code
// "invalid_url", with a message saying what is wrong.
result<base_url> parse_url(std::string_view url);

// ---- the client --------------------------------------------------------------------------------

struct client_options {
  std::string url = "http://127.0.0.1:8080";  // http://host[:port][/prefix]
  std::string key{};                          // sent as "Authorization: Bearer <key>" when set
  std::chrono::milliseconds connect_timeout{5'000};   // resolve + TCP connect
  std::chrono::milliseconds request_timeout{30'000};  // a whole publish or info exchange
  std::chrono::milliseconds poll_grace{10'000};       // added to a poll's timeout on the client
  std::size_t max_response_bytes = 256 * 1024 * 1024;
};

class client {
 public:
  // Never throws for a bad URL: every call then fails with the URL's error (check parse_url()
  // first to report it early). Connects lazily, on the first call.
  explicit client(client_options options);
  ~client();
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // POST /v1/streams/{stream}/events with one event. `data` must be a JSON object.
  result<published> publish(std::string_view stream, std::string_view type,
                            std::string_view data = "{}");

  // The same with 1..1000 events (the server's default batch limit), published atomically and
  // given consecutive positions in order.
  result<published> publish_batch(std::string_view stream, const std::vector<new_event>& events);

  // POST /v1/events: events for several streams in one request; their positions, in order.
  result<std::vector<position>> publish_many(const std::vector<stream_event>& events);

  // GET /v1/streams/{stream}/events: the events after `opts.after`, waiting up to `opts.timeout`
  // for some to be published. For several streams (sharing a {tag}), GET /v1/events?streams=:
  // their events merged in position order, each with its `stream`.
  result<poll_result> poll(const stream_set& streams, const poll_options& opts = {});

  // GET /v1/streams/{stream}.
  result<stream_info> info(std::string_view stream);

  // GET /healthz (no key needed).
  result<server_health> health();

  // Any other route (the admin API's, docs/api/admin.md): `method` ("GET", "POST", "DELETE")
  // on `target` (the path below the base URL, with any query), with `body` (JSON text, or
  // empty). The answer's body as the server sent it, for a 2xx answer; an error answer is an
  // error as for the other calls. Deliberately raw: the caller reads the JSON.
  result<std::string> call(std::string_view method, std::string_view target,
                           std::string_view body = {});

  // Thread-safe. Ends the call in flight with error_kind::cancelled, promptly, and makes every
  // later call fail the same way until reset_cancel().
  void cancel() noexcept;
  void reset_cancel() noexcept;
  bool cancelled() const noexcept;

  // Closes the connection now (the next call reconnects).
  void close() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace eventfeed

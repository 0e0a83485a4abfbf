// client/client.cpp: eventfeed::client, the synchronous face of client/session.hpp (see
// eventfeed/client.hpp for how it works as a whole).
//
// Each call builds one request (session.cpp checks its arguments) and runs the session's
// exchange coroutine on the client's private io_context,
// on the calling thread, until it completes: the synchronous API over Beast's asynchronous one.
// Being asynchronous inside is what makes cancel() possible: it sets a sticky flag and stops
// the io_context, which is the one io_context member that may be called from any thread.
// run_op() then finds the coroutine unfinished, closes the socket and cancels the resolver
// (safe: no thread is running the io_context any more), and runs the io_context again until
// the coroutine has seen its operations aborted and returned; the coroutine checks the flag
// after every failure, so it never retries once cancelled.
//
// cancel() racing with the start of a call: the flag is stored before stop(), and run_op()
// reads it after restart(). Either stop() came first, and the read sees the flag; or it came
// after restart(), and run() returns at once. No cancellation is lost.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "client/session.hpp"
#include "client/wire.hpp"
#include "eventfeed/client.hpp"

namespace eventfeed {

namespace net = boost::asio;

struct client::impl {
  net::io_context ioc{1};
  detail::session session;

  explicit impl(client_options o) : session(ioc.get_executor(), std::move(o)) {}

  // Runs one exchange on the calling thread until it completes or cancel() ends it.
  result<detail::answer> run_op(const detail::request_spec& spec) {
    std::optional<result<detail::answer>> out;
    ioc.restart();
    if (session.cancelled()) return detail::cancelled_error();
    net::co_spawn(
        ioc,
        [](detail::session& s, const detail::request_spec& r,
           std::optional<result<detail::answer>>& o) -> net::awaitable<void> {
          o.emplace(co_await s.exchange(r));
        }(session, spec, out),
        [&out](std::exception_ptr e) {
          if (e && !out) {
            std::string what = "internal error";
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              what = ex.what();
            } catch (...) {
            }
            out.emplace(error{error_kind::transport, 0, "io", what});
          }
        });
    ioc.run();
    if (!out) {  // stopped by cancel(): abort what is pending and let the coroutine unwind
      session.close();
      while (!out) {
        ioc.restart();
        ioc.run();
      }
    }
    if (session.cancelled() && !out->ok()) return detail::cancelled_error();
    return std::move(*out);
  }

  // A whole call: the request (already checked), the exchange, the answer read by `parse`.
  template <class T, class Parse>
  result<T> call(result<detail::request_spec> spec, Parse parse) {
    if (!spec) return std::move(spec).err();
    if (!session.url()) return session.url().err();
    return detail::read_answer<T>(run_op(*spec), !session.options().key.empty(), parse);
  }
};

client::client(client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

result<published> client::publish(std::string_view stream, std::string_view type,
                                  std::string_view data) {
  return publish_batch(stream, {new_event{std::string(type), std::string(data)}});
}

result<published> client::publish_batch(std::string_view stream,
                                        const std::vector<new_event>& events) {
  return impl_->call<published>(detail::publish_request(stream, events, impl_->session.options()),
                                detail::parse_published);
}

result<std::vector<position>> client::publish_many(const std::vector<stream_event>& events) {
  return impl_->call<std::vector<position>>(
      detail::publish_many_request(events, impl_->session.options()), detail::parse_positions);
}

result<poll_result> client::poll(const stream_set& streams, const poll_options& opts) {
  return impl_->call<poll_result>(
      detail::poll_request(streams, opts, impl_->session.options()),
      [&streams](std::string_view body) { return detail::parse_poll(body, streams); });
}

result<stream_info> client::info(std::string_view stream) {
  return impl_->call<stream_info>(detail::info_request(stream, impl_->session.options()),
                                  detail::parse_stream_info);
}

result<server_health> client::health() {
  return impl_->call<server_health>(
      detail::request_spec{
          boost::beast::http::verb::get, "/healthz", {}, impl_->session.options().request_timeout},
      detail::parse_health);
}

result<std::string> client::call(std::string_view method, std::string_view target,
                                 std::string_view body) {
  const auto verb = boost::beast::http::string_to_verb(method);
  if (verb == boost::beast::http::verb::unknown || target.empty() || target.front() != '/')
    return error{error_kind::invalid_argument, 0, "invalid_target",
                 "a call needs a method and a target starting with '/'"};
  return impl_->call<std::string>(
      detail::request_spec{verb, std::string(target), std::string(body),
                           impl_->session.options().request_timeout},
      [](std::string_view answer) -> result<std::string> { return std::string(answer); });
}

void client::cancel() noexcept {
  if (!impl_) return;
  impl_->session.cancel();
  impl_->ioc.stop();
}

void client::reset_cancel() noexcept {
  if (impl_) impl_->session.reset_cancel();
}

bool client::cancelled() const noexcept {
  return impl_ && impl_->session.cancelled();
}

void client::close() noexcept {
  if (impl_) impl_->session.close();
}

}  // namespace eventfeed

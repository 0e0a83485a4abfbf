// api/common/routes.hpp: binding a dialect's handler object to its routes.
//
// A dialect keeps its handlers as member functions of one object shared by all its routes:
//
//   auto h = std::make_shared<handlers>(...);
//   common::route_binder<handlers> bind(p.routes, h);
//   bind.get("/v1/streams/{stream}/events", &handlers::poll)
//       .post("/v1/streams/{stream}/events", &handlers::publish_one);
//
// Each route holds a reference to the object, which lives as long as the router.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "http/request_context.hpp"
#include "http/router.hpp"

namespace eventfeed::api::common {

template <class Handlers>
class route_binder {
 public:
  using member = boost::asio::awaitable<void> (Handlers::*)(http::request_context&);

  route_binder(http::router& routes, std::shared_ptr<Handlers> handlers)
      : routes_(routes), handlers_(std::move(handlers)) {}

  route_binder& add(http::bhttp::verb method, std::string pattern, member fn) {
    routes_.add(method, std::move(pattern),
                [h = handlers_, fn](http::request_context& ctx) { return ((*h).*fn)(ctx); });
    return *this;
  }
  route_binder& get(std::string pattern, member fn) {
    return add(http::bhttp::verb::get, std::move(pattern), fn);
  }
  route_binder& post(std::string pattern, member fn) {
    return add(http::bhttp::verb::post, std::move(pattern), fn);
  }
  route_binder& del(std::string pattern, member fn) {
    return add(http::bhttp::verb::delete_, std::move(pattern), fn);
  }
  route_binder& options(std::string pattern, member fn) {
    return add(http::bhttp::verb::options, std::move(pattern), fn);
  }

 private:
  http::router& routes_;
  std::shared_ptr<Handlers> handlers_;
};

}  // namespace eventfeed::api::common

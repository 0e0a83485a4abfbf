#include "http/request_context.hpp"

#include "http/url_codec.hpp"

namespace eventfeed::http {

request_context::request_context(std::unique_ptr<request>& req, route_params params,
                                 std::string_view request_id, const router& routes,
                                 connection_io* io, std::unique_ptr<response>& answer)
    : req_(req),
      params_(std::move(params)),
      request_id_(request_id),
      routes_(routes),
      io_(io),
      answer_(answer) {
  std::string_view target = req_->target();
  auto q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string_view::npos) query_ = target.substr(q + 1);
  renderer_ = routes_.renderer_for(path_);
}

void request_context::release_request() {
  path_ = {};
  query_ = {};
  params_ = route_params{};
  req_.reset();
}

const std::string& request_context::param(std::string_view name) const {
  static const std::string empty;
  const std::string* v = params_.find(name);
  return v ? *v : empty;
}

std::optional<std::string> request_context::query(std::string_view name) const {
  return query_param(query_, name);
}

std::string_view request_context::header(bhttp::field f) const {
  if (!req_) return {};
  auto it = req_->find(f);
  return it == req_->end() ? std::string_view{} : std::string_view(it->value());
}

}  // namespace eventfeed::http

#include "http/router.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "http/url_codec.hpp"

namespace eventfeed::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto seg = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    out.push_back(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // "/a/b/" matches "/a/b": a trailing empty segment is dropped, except for "/" itself.
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

bool is_capture(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

response json_response(bhttp::status status, std::string body) {
  response res{status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

response render_json_error(bhttp::status status, std::string_view code, std::string_view message) {
  boost::json::value v = {{"error", {{"code", code}, {"message", message}}}};
  return json_response(status, boost::json::serialize(v));
}

const std::string* route_params::find(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

void router::add(bhttp::verb method, std::string pattern, handler h) {
  route r{method, {}, std::move(h)};
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

void router::set_error_renderer(std::string prefix, error_renderer render) {
  renderers_.emplace_back(std::move(prefix), std::move(render));
}

router::match router::find(bhttp::verb method, std::string_view path) const {
  match m;
  const auto segments = split_path(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    route_params params;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (is_capture(r.segments[i])) {
        auto decoded = percent_decode(segments[i], false);
        if (!decoded || decoded->empty()) {
          ok = false;
          break;
        }
        std::string_view name = r.segments[i];
        params.add(name.substr(1, name.size() - 2), std::move(*decoded));
      } else {
        ok = r.segments[i] == segments[i];
      }
    }
    if (!ok) continue;
    if (r.method != method) {
      m.path_known = true;
      continue;
    }
    m.h = &r.h;
    m.params = std::move(params);
    return m;
  }
  return m;
}

const error_renderer* router::renderer_for(std::string_view path) const {
  const error_renderer* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [prefix, render] : renderers_) {
    if (path.starts_with(prefix) && prefix.size() >= best_len) {
      best = &render;
      best_len = prefix.size();
    }
  }
  return best;
}

response router::render_with(const error_renderer* render, bhttp::status status,
                             std::string_view code, std::string_view message) {
  return render ? (*render)(status, code, message) : render_json_error(status, code, message);
}

response router::render_error(std::string_view path, bhttp::status status, std::string_view code,
                              std::string_view message) const {
  return render_with(renderer_for(path), status, code, message);
}

}  // namespace eventfeed::http

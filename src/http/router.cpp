#include "http/router.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <stdexcept>

#include "http/url_codec.hpp"

namespace eventfeed::http {

namespace {

// Segments of one path, kept inline: split_path runs for every request, and no route has more
// than a few segments. A path with more segments than fit matches no route (see `overflow`).
struct path_segments {
  static constexpr std::size_t capacity = 16;
  std::array<std::string_view, capacity> items;
  std::size_t size = 0;
  bool overflow = false;
  std::string_view operator[](std::size_t i) const { return items[i]; }
};

path_segments split_path(std::string_view path) {
  path_segments out;
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto seg = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (out.size == path_segments::capacity) {
      out.overflow = true;
      break;
    }
    out.items[out.size++] = seg;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // "/a/b/" matches "/a/b": a trailing empty segment is dropped, except for "/" itself.
  if (out.size > 1 && out.items[out.size - 1].empty()) --out.size;
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

response render_json_error(const error_details& e) {
  boost::json::value v = {{"error", {{"code", e.code}, {"message", e.message}}}};
  return json_response(e.status, boost::json::serialize(v));
}

const std::string* route_params::find(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

void router::add(bhttp::verb method, std::string pattern, handler h) {
  route r{method, {}, std::move(h)};
  const auto segments = split_path(pattern);
  if (segments.overflow)
    throw std::invalid_argument("route pattern has too many segments: " + pattern);
  for (std::size_t i = 0; i < segments.size; ++i) {
    r.segments.emplace_back(segments[i]);
    if (is_capture(segments[i])) ++r.captures;
  }
  routes_.push_back(std::move(r));
}

void router::set_error_renderer(std::string prefix, error_renderer render) {
  renderers_.emplace_back(std::move(prefix), std::move(render));
}

namespace {

// Whether `segments` match route `r`: literals equal, captures decodable and not empty. With
// `params`, the decoded captures are added to it.
template <class Route>
bool matches(const Route& r, const path_segments& segments, route_params* params) {
  if (r.segments.size() != segments.size) return false;
  for (std::size_t i = 0; i < segments.size; ++i) {
    if (!is_capture(r.segments[i])) {
      if (r.segments[i] != segments[i]) return false;
      continue;
    }
    auto decoded = percent_decode(segments[i], false);
    if (!decoded || decoded->empty()) return false;
    if (params) {
      std::string_view name = r.segments[i];
      params->add(name.substr(1, name.size() - 2), std::move(*decoded));
    }
  }
  return true;
}

}  // namespace

router::match router::find(bhttp::verb method, std::string_view path) const {
  match m;
  const auto segments = split_path(path);
  if (segments.overflow) return m;
  // A route refused on its method only tells whether the path exists (405 rather than 404):
  // its captures are not kept, so routing allocates at most the one capture list it returns.
  for (const auto& r : routes_) {
    if (r.method != method) {
      if (!m.path_known && matches(r, segments, nullptr)) m.path_known = true;
      continue;
    }
    route_params params;
    params.reserve(r.captures);
    if (!matches(r, segments, &params)) continue;
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

response router::render_with(const error_renderer* render, const error_details& e) {
  return render ? (*render)(e) : render_json_error(e);
}

response router::render_error(std::string_view path, const error_details& e) const {
  return render_with(renderer_for(path), e);
}

}  // namespace eventfeed::http

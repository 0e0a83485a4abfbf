// http/form.hpp: the named fields of an HTML form, from a request body
// (`application/x-www-form-urlencoded` or `multipart/form-data`) and from a query string.
//
// Clients of form-based APIs send parameters either way (Zulip's Python client urlencodes a
// POST body, zulip-js sends multipart, and both put GET and DELETE parameters in the query):
// a form collects them all, body fields first, so `find` answers as such an API reads a
// parameter: from the body, else from the query.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventfeed::http {

class form {
 public:
  // Adds the fields of `body` as its Content-Type says; anything but the two form types (or an
  // empty body) adds nothing. Returns what is wrong with a body that claims to be a form but
  // cannot be read (a bad escape, a multipart body without its boundary or parts).
  std::optional<std::string> add_body(std::string_view content_type, std::string_view body);
  // Adds the fields of a query string ("a=1&b=2", without the '?'); malformed fields are skipped.
  void add_query(std::string_view query);

  // The first field named `name` (body fields come first); nullptr if there is none.
  const std::string* find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const noexcept {
    return fields_;
  }

 private:
  std::optional<std::string> add_urlencoded(std::string_view text, bool strict);
  std::optional<std::string> add_multipart(std::string_view boundary, std::string_view body);

  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace eventfeed::http

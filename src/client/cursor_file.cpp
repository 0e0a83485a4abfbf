#include "client/cursor_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace eventfeed::detail {

namespace {

constexpr std::string_view magic = "eventfeed-cursor 1 ";
// A stream name is at most 200 bytes, and a set of streams at most 50 of them, comma-separated.
constexpr std::size_t max_file_bytes = 16 * 1024;

std::string check_of(std::string_view stream, position pos) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  mix(stream);
  mix(" ");
  mix(std::to_string(pos));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

error local_error(std::string code, std::string message) {
  return error{error_kind::local, 0, std::move(code), std::move(message)};
}

error damaged(const std::string& path, std::string_view why) {
  return local_error("cursor_file_damaged",
                     "cursor file '" + path + "' is damaged (" + std::string(why) +
                         "); it was not written by this client or was cut short. Remove it and "
                         "choose where to start, or restore it");
}

std::string errno_text() {
  return std::strerror(errno);
}

// Reads the whole small file; nullopt with errno set on failure.
std::optional<std::string> slurp(int fd) {
  std::string text;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_file_bytes) return text;  // too long to be ours; parse says so
  }
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string cursor_file_text(std::string_view stream, position pos) {
  return std::string(magic) + std::string(stream) + " " + std::to_string(pos) + " " +
         check_of(stream, pos) + "\n";
}

result<std::optional<position>> read_cursor_file(const std::string& path, std::string_view stream) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<position>();
    return local_error("cursor_file_unreadable",
                       "cannot read cursor file '" + path + "': " + errno_text());
  }
  auto text = slurp(fd);
  const std::string read_failure = text ? "" : errno_text();
  ::close(fd);
  if (!text)
    return local_error("cursor_file_unreadable",
                       "cannot read cursor file '" + path + "': " + read_failure);

  std::string_view line = *text;
  if (line.empty()) return damaged(path, "it is empty");
  if (line.size() > max_file_bytes) return damaged(path, "it is too long");
  if (line.back() != '\n') return damaged(path, "it does not end with a newline");
  line.remove_suffix(1);
  if (!line.starts_with(magic)) return damaged(path, "it does not start with 'eventfeed-cursor 1'");
  line.remove_prefix(magic.size());
  // <stream> <position> <check>; a stream name holds no space.
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return damaged(path, "expected '<stream> <position> <check>'");
  const std::string_view saved_stream = line.substr(0, sp1);
  const std::string_view pos_text = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view check = line.substr(sp2 + 1);
  position pos = 0;
  auto [end, ec] = std::from_chars(pos_text.data(), pos_text.data() + pos_text.size(), pos);
  if (pos_text.empty() || ec != std::errc{} || end != pos_text.data() + pos_text.size())
    return damaged(path, "the position is not a number");
  if (check != check_of(saved_stream, pos)) return damaged(path, "its check does not match");
  if (saved_stream != stream)
    return local_error("cursor_file_stream", "cursor file '" + path + "' holds the cursor of " +
                                                 "stream '" + std::string(saved_stream) +
                                                 "', not of '" + std::string(stream) + "'");
  return std::optional<position>(pos);
}

std::optional<error> write_cursor_file(const std::string& path, std::string_view stream,
                                       position pos, bool sync) {
  const std::string tmp = path + ".tmp";
  auto failed = [&](std::string_view what) {
    return local_error("cursor_file_unwritable", "cannot " + std::string(what) + " cursor file '" +
                                                     path + "': " + errno_text());
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed("create the temporary file of");
  const bool written = write_all(fd, cursor_file_text(stream, pos)) && (!sync || ::fsync(fd) == 0);
  const int saved = errno;
  ::close(fd);
  if (!written) {
    errno = saved;
    return failed("write");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("rename over");
  if (sync) {  // make the rename itself durable
    const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return std::nullopt;
}

}  // namespace eventfeed::detail

#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace eventfeed::integration {

namespace {

using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

exit_status decode(int wstatus) {
  exit_status s;
  if (WIFEXITED(wstatus)) {
    s.exited = true;
    s.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    s.signal = WTERMSIG(wstatus);
  }
  return s;
}

// Lets the test process (and the servers it starts, which inherit the limit) hold a few thousand
// sockets: the 1,000-poll test needs one per poll on each side.
void raise_fd_limit() {
  static const bool done = [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    return true;
  }();
  (void)done;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const exit_status& s) {
  if (s.timed_out) return os << "still running after " << s.elapsed.count() << " ms";
  if (s.exited) return os << "exit code " << s.code << " after " << s.elapsed.count() << " ms";
  return os << "killed by signal " << s.signal << " (" << strsignal(s.signal) << ") after "
            << s.elapsed.count() << " ms";
}

std::string eventfeed_binary() {
  // EVENTFEED_TEST_BINARY runs the same tests against another build (an installed binary, a
  // sanitizer build, or a deliberately broken one to prove that the tests can fail).
  const char* other = std::getenv("EVENTFEED_TEST_BINARY");
  return other && *other ? other : EVENTFEED_BINARY;
}

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/eventfeed-integ-XXXXXX";
  if (!mkdtemp(tmpl.data())) fail_errno("mkdtemp " + tmpl);
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

child_process::child_process(std::vector<std::string> argv, const std::string& stdin_text) {
  raise_fd_limit();
  stderr_path_ = dir_.path() / "stderr.txt";
  const auto stdin_path = dir_.path() / "stdin.txt";
  {
    std::ofstream in(stdin_path, std::ios::binary);
    in << stdin_text;
    if (!in) throw std::runtime_error("cannot write " + stdin_path.string());
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) fail_errno("pipe2");

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // Sockets the test holds must not leak into the child: a leaked copy would keep a connection
  // open after the test closes it.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot spawn " + argv[0] + ": " + std::strerror(rc));
  }
  stdout_fd_ = out[0];
  reader_ = std::thread([this] { read_stdout(); });
}

child_process::~child_process() {
  kill();
  if (reader_.joinable()) reader_.join();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

void child_process::read_stdout() {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      out_closed_ = true;
      changed_.notify_all();
      return;
    }
    out_.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<std::string> line;
  changed_.wait_for(lock, timeout, [&] {
    const auto nl = out_.find('\n', consumed_);
    if (nl != std::string::npos) {
      line = out_.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      return true;
    }
    return out_closed_;
  });
  return line;
}

std::string child_process::stdout_text() const {
  std::lock_guard lock(mutex_);
  return out_;
}

bool child_process::wait_stdout_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return out_closed_; });
}

std::string child_process::stderr_text() const {
  std::ifstream in(stderr_path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void child_process::send_signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

exit_status child_process::wait(std::chrono::milliseconds timeout) {
  const auto start = clock_type::now();
  if (reaped_) return status_;
  for (;;) {
    int wstatus = 0;
    const pid_t r = waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = decode(wstatus);
      status_.elapsed = since(start);
      return status_;
    }
    if (r < 0 && errno != EINTR) fail_errno("waitpid");
    if (clock_type::now() - start >= timeout) {
      exit_status s;
      s.timed_out = true;
      s.elapsed = since(start);
      return s;
    }
    // No event to wait on for a child's exit short of SIGCHLD plumbing: re-check often.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

exit_status child_process::stop(int sig, std::chrono::milliseconds timeout) {
  send_signal(sig);
  return wait(timeout);
}

void child_process::kill() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  status_ = decode(wstatus);
}

namespace {
void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}
}  // namespace

server_process::server_process(const std::string& config_toml,
                               std::chrono::milliseconds startup_timeout,
                               unsigned short listen_port)
    : config_path_(dir_.path() / "eventfeed.toml") {
  write_file(config_path_, config_toml);
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{eventfeed_binary(), "serve", "--config", config_path_.string(),
                               "--listen", "127.0.0.1:" + std::to_string(listen_port)});
  auto line = process_->read_line(startup_timeout);
  const std::string prefix = "eventfeed listening on 127.0.0.1:";
  if (!line || !line->starts_with(prefix)) {
    const auto status = process_->wait(std::chrono::milliseconds(0));
    process_->kill();
    std::ostringstream msg;
    msg << "eventfeed did not print its listening line within " << startup_timeout.count()
        << " ms (first stdout line: " << (line ? "\"" + *line + "\"" : "none")
        << "; process: " << status << ")\n--- server stderr ---\n"
        << process_->stderr_text() << "--- server stdout ---\n"
        << process_->stdout_text();
    throw std::runtime_error(msg.str());
  }
  listening_line_ = *line;
  const int port = std::atoi(line->c_str() + prefix.size());
  if (port <= 0 || port > 65535 || std::to_string(port) != line->substr(prefix.size())) {
    process_->kill();
    throw std::runtime_error("listening line has no valid port: \"" + *line + "\"");
  }
  port_ = static_cast<unsigned short>(port);
}

void server_process::reload(const std::string& config_toml) {
  write_file(config_path_, config_toml);
  process_->send_signal(SIGHUP);
}

exit_status server_process::terminate(std::chrono::milliseconds timeout) {
  return process_->stop(SIGTERM, timeout);
}

std::size_t server_process::open_sockets() const {
  std::size_t n = 0;
  std::error_code ec;
  const auto fd_dir = std::filesystem::path("/proc") / std::to_string(process_->pid()) / "fd";
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir, ec)) {
    std::error_code link_ec;
    const auto target = std::filesystem::read_symlink(entry.path(), link_ec);
    if (!link_ec && target.string().starts_with("socket:")) ++n;
  }
  return n;
}

}  // namespace eventfeed::integration

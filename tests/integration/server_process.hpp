// tests/integration/server_process.hpp: the eventfeed executable as a child process.
//
// `child_process` runs any command line: stdin reads a text given by the test (from a file),
// stdout goes into a pipe that a reader thread drains into memory (so a chatty child can never
// block on a full pipe), stderr goes into a temporary file that a failing test prints. The
// destructor always kills (SIGKILL) and reaps, so a failed assertion never leaves a server
// running behind the test binary.
//
// `server_process` writes a config to a temporary directory, runs
// `eventfeed serve --config F --listen 127.0.0.1:0` and waits, with a bound, for the one line
// `eventfeed listening on 127.0.0.1:<port>` on stdout. If it never comes, the constructor throws
// with the server's stderr, which GoogleTest reports as the test's failure.
//
// Thread affinity: one test thread owns each object; only the stdout reader runs beside it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace eventfeed::integration {

// How a child ended, and how long after the stop signal (or the start of the wait).
struct exit_status {
  bool exited = false;     // it called exit(): `code` is valid
  int code = -1;           // exit code
  int signal = 0;          // the signal that ended it, if one did
  bool timed_out = false;  // still running when the wait gave up
  std::chrono::milliseconds elapsed{0};
};
std::ostream& operator<<(std::ostream& os, const exit_status& s);

// A temporary directory, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

class child_process {
 public:
  // Starts argv[0] (a path) with `argv`; its stdin reads `stdin_text` (default: nothing).
  // Throws std::runtime_error if it cannot be spawned.
  explicit child_process(std::vector<std::string> argv, const std::string& stdin_text = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // The next whole line of stdout (without its '\n'), waiting up to `timeout`; nullopt if the
  // child closed stdout first or the time passed.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Everything the child has written to stdout so far (including lines already read).
  std::string stdout_text() const;
  // Waits up to `timeout` for the child to close its stdout (it exited); returns whether it did.
  bool wait_stdout_closed(std::chrono::milliseconds timeout);
  // What the child has written to stderr so far.
  std::string stderr_text() const;

  void send_signal(int sig);
  // Waits up to `timeout` for the child to end; `elapsed` counts from this call.
  exit_status wait(std::chrono::milliseconds timeout);
  // Sends `sig`, then waits up to `timeout`; `elapsed` counts from the signal.
  exit_status stop(int sig, std::chrono::milliseconds timeout);
  // SIGKILL and reap (no-op once reaped).
  void kill();
  bool reaped() const noexcept { return reaped_; }

 private:
  void read_stdout();

  temp_dir dir_;
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  exit_status status_;
  int stdout_fd_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_;           // all of stdout so far
  std::size_t consumed_ = 0;  // bytes of out_ already returned by read_line
  bool out_closed_ = false;
};

class server_process {
 public:
  // Starts the server on `config_toml` (its [server] listen is overridden to 127.0.0.1:<port>;
  // 0: a port the kernel picks, the usual; a given port restarts a server where its clients
  // expect it). Throws std::runtime_error, with the server's stderr, if it exits or stays silent.
  explicit server_process(const std::string& config_toml,
                          std::chrono::milliseconds startup_timeout = std::chrono::seconds(15),
                          unsigned short port = 0);

  unsigned short port() const noexcept { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The first stdout line, as printed.
  const std::string& listening_line() const noexcept { return listening_line_; }
  child_process& process() noexcept { return *process_; }

  // SIGTERM, then wait up to `timeout`; `elapsed` counts from the signal.
  exit_status terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void kill() { process_->kill(); }

  // Writes `config_toml` over the server's config file and sends SIGHUP: the server reloads what
  // can change while it runs (credentials). Returns once the signal is sent.
  void reload(const std::string& config_toml);

  // The number of the server's open file descriptors that are sockets (listener + connections),
  // read from /proc; proves that a connection the server closed holds nothing.
  std::size_t open_sockets() const;

 private:
  temp_dir dir_;
  std::filesystem::path config_path_;
  std::unique_ptr<child_process> process_;
  unsigned short port_ = 0;
  std::string listening_line_;
};

// The path of the eventfeed executable under test: $EVENTFEED_TEST_BINARY if set, else the one
// built with the tests.
std::string eventfeed_binary();

}  // namespace eventfeed::integration

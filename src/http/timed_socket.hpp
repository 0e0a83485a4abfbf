// http/timed_socket.hpp: a TCP socket with a deadline, swept by its thread instead of timed by
// a timer per operation.
//
// Why. `beast::tcp_stream` arms a timer for every read and write: a heap entry in the
// reactor's timer queue, an extra completion, and a shared state of about half a kilobyte per
// connection. A server with tens of thousands of connections that are mostly parked polls pays
// that on every request. Here a deadline is one `time_point` in the socket; setting it costs a
// clock read.
//
// Mechanism. Every timed_socket of one io_context is linked into that context's
// `deadline_list`. A sweep (server.cpp runs one per context, every `deadline_list::period`)
// walks the list and closes every socket whose deadline has passed: its pending operation
// completes with `operation_aborted`, which the connection treats like any failed read or
// write: it stops without answering, as on a `tcp_stream` timeout. A deadline is therefore
// honoured within one period, which is fine for timeouts measured in seconds.
//
// The same sweep runs one deferred action per socket (`defer`): the connection uses it to
// start its disconnect watch only once a poll has been parked for a while (connection.hpp).
//
// Thread affinity: a timed_socket (once linked), its list and the sweep all live on one
// io_context's single thread; nothing here is locked.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <utility>

namespace eventfeed::http {

namespace net = boost::asio;

class timed_socket;

// The sockets of one io_context (an intrusive doubly linked list: linking and unlinking
// allocate nothing).
class deadline_list {
 public:
  static constexpr std::chrono::milliseconds period{250};

  deadline_list() = default;
  deadline_list(const deadline_list&) = delete;
  deadline_list& operator=(const deadline_list&) = delete;

  // Closes every socket whose deadline is at or before `now`; returns how many.
  std::size_t sweep(std::chrono::steady_clock::time_point now);
  std::size_t size() const noexcept { return size_; }

 private:
  friend class timed_socket;
  timed_socket* head_ = nullptr;
  std::size_t size_ = 0;
};

class timed_socket {
 public:
  using executor_type = net::ip::tcp::socket::executor_type;
  using clock = std::chrono::steady_clock;

  // Linked into `list` by the first expires_after, which runs on the list's thread; so the
  // socket may be built on another thread (the acceptor's) and handed over.
  timed_socket(net::ip::tcp::socket socket, deadline_list& list)
      : socket_(std::move(socket)), list_(list) {}
  ~timed_socket() {
    if (!linked_) return;
    if (prev_)
      prev_->next_ = next_;
    else
      list_.head_ = next_;
    if (next_) next_->prev_ = prev_;
    --list_.size_;
  }
  timed_socket(const timed_socket&) = delete;
  timed_socket& operator=(const timed_socket&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  net::ip::tcp::socket& socket() noexcept { return socket_; }

  void expires_after(std::chrono::milliseconds d) {
    if (!linked_) link();
    deadline_ = clock::now() + d;
  }
  void expires_never() noexcept { deadline_ = clock::time_point::max(); }
  bool timed_out() const noexcept { return timed_out_; }

  // Has the first sweep at or after `at` call `fn(arg)`, once, unless cancel_defer() comes
  // first. A later defer replaces an earlier one. `arg` must stay valid until then.
  void defer(clock::time_point at, void (*fn)(void*), void* arg) noexcept {
    if (!linked_) link();
    due_at_ = at;
    due_fn_ = fn;
    due_arg_ = arg;
  }
  void cancel_defer() noexcept { due_fn_ = nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  // Writes what the kernel takes right now, never waiting: the bytes written, with
  // `would_block` if it took none. A response of a few hundred bytes almost always goes in
  // whole, and then costs no asynchronous operation: no handler allocation, no completion
  // through the executor's queue.
  template <class ConstBuffers>
  std::size_t try_write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);  // once; async ops unaffected
    if (ec) return 0;
    return socket_.write_some(buffers, ec);
  }

 private:
  friend class deadline_list;
  net::ip::tcp::socket socket_;
  deadline_list& list_;
  timed_socket* prev_ = nullptr;
  timed_socket* next_ = nullptr;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point due_at_{};
  void (*due_fn_)(void*) = nullptr;
  void* due_arg_ = nullptr;
  bool timed_out_ = false;
  bool linked_ = false;

  void link() noexcept {
    next_ = list_.head_;
    if (next_) next_->prev_ = this;
    list_.head_ = this;
    ++list_.size_;
    linked_ = true;
  }
};

inline std::size_t deadline_list::sweep(std::chrono::steady_clock::time_point now) {
  std::size_t closed = 0;
  for (timed_socket* next = head_; next;) {
    timed_socket* s = next;
    next = s->next_;  // (a deferred action starts an operation; it never destroys a socket)
    if (s->due_fn_ && s->due_at_ <= now) {
      // An action that throws (out of memory starting a read) is dropped: the sweep must go on
      // for every other socket of this thread.
      try {
        std::exchange(s->due_fn_, nullptr)(s->due_arg_);
      } catch (...) {
      }
    }
    if (s->deadline_ > now) continue;
    boost::system::error_code ignored;
    s->socket_.close(ignored);  // the pending operation completes with operation_aborted
    s->deadline_ = timed_socket::clock::time_point::max();
    s->timed_out_ = true;
    ++closed;
  }
  return closed;
}

}  // namespace eventfeed::http

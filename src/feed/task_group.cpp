#include "feed/task_group.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace eventfeed::feed {

struct task_group::task {
  std::string name;
  net::cancellation_signal cancel;  // emitted on the group's executor only
};

namespace {

void log_failure(const std::string& name, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    // A task that let the cancellation of its wait escape has simply ended.
    if (ex.code() != net::error::operation_aborted)
      spdlog::error("background task {} failed: {}", name, ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("background task {} failed: {}", name, ex.what());
  } catch (...) {
    spdlog::error("background task {} failed", name);
  }
}

// Runs a task with cancellation delivered as values: an aborted wait returns its error code to
// the task (which then ends) rather than throwing at the next suspension.
net::awaitable<void> guarded(net::awaitable<void> task) {
  co_await net::this_coro::throw_if_cancelled(false);
  co_await std::move(task);
}

}  // namespace

task_group::task_group(net::any_io_executor executor) : executor_(std::move(executor)) {}

task_group::~task_group() {
  stop(std::chrono::milliseconds(0));
}

void task_group::spawn(std::string name, std::function<net::awaitable<void>()> make) {
  auto t = std::make_shared<task>();
  t->name = std::move(name);
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) return;
    state_->tasks.push_back(t);
  }
  // Started on the executor: a stop() racing with this spawn either finds the task in the
  // list when its cancellation runs there (it runs after this), or this sees `stopping` first.
  auto end = [s = state_, t](std::exception_ptr e) {
    if (e) log_failure(t->name, e);
    std::lock_guard lock(s->mutex);
    s->tasks.remove(t);
    s->all_done.notify_all();
  };
  net::dispatch(executor_, [s = state_, ex = executor_, t, end, make = std::move(make)]() mutable {
    bool stopping = false;
    {
      std::lock_guard lock(s->mutex);
      stopping = s->stopping;
    }
    if (stopping) return end(nullptr);
    try {
      net::co_spawn(ex, guarded(make()),
                    net::bind_cancellation_slot(t->cancel.slot(), std::move(end)));
    } catch (...) {  // make() threw, or the coroutine could not be created
      end(std::current_exception());
    }
  });
}

namespace {

// A coroutine function, not a lambda: a lambda coroutine refers to its captures through the
// lambda object, which would be gone once the spawning function object is.
net::awaitable<void> run_every(std::chrono::milliseconds period, std::function<void()> fn) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    timer.expires_after(period);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    // A terminal cancellation (stop) aborts the wait; anything else is the period passing.
    auto cancel = co_await net::this_coro::cancellation_state;
    if (cancel.cancelled() != net::cancellation_type::none) co_return;
    // One failure must not end the periodic work for good (a tick that stops would leave
    // parked polls without deadlines).
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("periodic work failed: {}", e.what());
    }
  }
}

}  // namespace

void task_group::every(std::string name, std::chrono::milliseconds period,
                       std::function<void()> fn) {
  spawn(std::move(name), [period, fn = std::move(fn)] { return run_every(period, fn); });
}

bool task_group::stop(std::chrono::milliseconds bound) {
  bool first = false;
  {
    std::lock_guard lock(state_->mutex);
    first = !state_->stopping;
    state_->stopping = true;
  }
  if (first) {
    // Signals belong to the executor's thread: emit them there.
    net::dispatch(executor_, [s = state_] {
      std::list<std::shared_ptr<task>> running;
      {
        std::lock_guard lock(s->mutex);
        running = s->tasks;
      }
      for (auto& t : running) t->cancel.emit(net::cancellation_type::terminal);
    });
  }
  std::unique_lock lock(state_->mutex);
  return state_->all_done.wait_for(lock, bound, [this] { return state_->tasks.empty(); });
}

std::size_t task_group::running() const {
  std::lock_guard lock(state_->mutex);
  return state_->tasks.size();
}

}  // namespace eventfeed::feed

// feed/task_group.hpp: the server's background work, owned in one place.
//
// Mechanism. Every background task (the deadline tick, age retention, a dialect's queue
// collector, later a Redis subscriber) is a coroutine spawned through a task group onto one
// executor, with a cancellation signal of its own, and with cancellation delivered as values
// (an aborted wait returns `operation_aborted` instead of throwing). The group counts the tasks
// that have not ended. `stop(bound)` refuses new tasks, emits a terminal cancellation to every
// running task (on the executor's thread, the only place a signal may be emitted), then waits until
// they have all ended or `bound` has passed. A task ends at its next cancellable wait (a periodic
// task at its timer); one that does not end within the bound is abandoned to the executor's
// own destruction, and stop() says so by returning false.
//
// Invariants: a task spawned after stop() has begun never runs; `running()` counts spawned
// tasks whose coroutine has not completed; stop() is idempotent.
//
// Thread-safety: spawn/every/running may be called from any thread; stop() from a thread that
// is not the group's executor's (it waits for that executor to run the tasks' endings).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace eventfeed::feed {

namespace net = boost::asio;

class task_group {
 public:
  explicit task_group(net::any_io_executor executor);
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  // Stops the group without waiting for its tasks. The executor must still be alive (stop the
  // group before its io_context goes); tasks that outlive the group only touch shared state.
  ~task_group();

  // Runs the coroutine `make()` returns until it ends or the group stops. An exception that
  // escapes it is logged with `name` and ends only that task. `make` is called once, on the
  // group's executor, and destroyed afterwards: the coroutine must not refer to it (a lambda
  // coroutine would refer to its captures; return a call of a coroutine function instead).
  void spawn(std::string name, std::function<net::awaitable<void>()> make);
  // Calls `fn` every `period` (the first call one period from now) until the group stops.
  void every(std::string name, std::chrono::milliseconds period, std::function<void()> fn);

  // Cancels every task and waits up to `bound` for them to end; true if they all did.
  bool stop(std::chrono::milliseconds bound);

  std::size_t running() const;

 private:
  struct task;
  // Shared with the tasks' completion handlers, which may run after the group is gone.
  struct state {
    mutable std::mutex mutex;
    std::condition_variable all_done;
    std::list<std::shared_ptr<task>> tasks;  // spawned and not ended
    bool stopping = false;
  };

  net::any_io_executor executor_;
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

}  // namespace eventfeed::feed

#include "server/app.hpp"

#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <csignal>
#include <cstdio>

#include "http/request_context.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace eventfeed::server {

namespace net = boost::asio;

namespace {

// GET /healthz: liveness, no credential needed. The server's own route, whatever the dialects.
void add_health_route(http::router& routes, feed::engine& feed) {
  routes.add(
      http::bhttp::verb::get, "/healthz",
      [&feed](http::request_context& ctx) -> net::awaitable<void> {
        co_return ctx.reply(http::json_response(
            http::bhttp::status::ok,
            R"({"status":"ok","store":")" + std::string(feed.backing_store().backend_name()) +
                R"(","waiters":)" + std::to_string(feed.total_waiters()) + "}"));
      });
}

}  // namespace

app::app(config cfg) : cfg_(std::move(cfg)) {
  if (cfg_.store_backend == "memory") {
    store_ = std::make_unique<store::memory::memory_store>(cfg_.retention, &clock_);
  } else {
    store::sqlite::options so;
    so.data_dir = cfg_.data_dir;
    so.mode = cfg_.durability == "full" ? store::sqlite::durability::full
                                        : store::sqlite::durability::normal;
    so.retention = cfg_.retention;
    store_ = std::make_unique<store::sqlite::sqlite_store>(std::move(so), &clock_);
  }
  feed_ = std::make_unique<feed::engine>(*store_, clock_);
  credentials_ = std::make_unique<api::common::credential_store>(*store_, clock_);
  spdlog::info("stored credentials: {} loaded", credentials_->size());
  server_ = std::make_unique<http::server>(cfg_.http, routes_);
  tasks_ = std::make_unique<feed::task_group>(server_->executor());
  platform_ = std::unique_ptr<api::common::platform>(new api::common::platform{
      routes_, *feed_, clock_, *tasks_, cfg_.public_url, credentials_.get()});
  add_health_route(routes_, *feed_);
  for (const auto& d : cfg_.dialects) d->install(*platform_);
}

app::~app() {
  stop();
}

void app::start() {
  server_->listen();
  // Known only now when the configured port is 0.
  if (platform_->public_url.empty())
    platform_->public_url = default_public_url(cfg_.http.address, server_->port());
  server_->start();
  started_ = true;
  tasks_->every("tick", cfg_.tick, [f = feed_.get()] { f->tick(); });
}

void app::stop() {
  if (stopped_) return;
  stopped_ = true;
  feed_->shutdown();
  // One grace for both waits. A task that does not end within it is cut off when the server's
  // threads stop.
  const auto until = std::chrono::steady_clock::now() + cfg_.shutdown_grace;
  tasks_->stop(started_ ? cfg_.shutdown_grace : std::chrono::milliseconds(0));
  server_->stop(
      std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 until - std::chrono::steady_clock::now())));
  store_->close();
}

void app::reload(config& fresh) {
  std::string names;
  for (const auto& installed : cfg_.dialects) {
    for (const auto& next : fresh.dialects) {
      if (next->name() != installed->name()) continue;
      installed->reload(*next);
      names += (names.empty() ? "" : ", ") + std::string(installed->name());
    }
  }
  spdlog::info("reloaded the credentials of: {} (other settings take effect at a restart)", names);
}

int serve(config cfg, config_source reload_from) {
  // Block the stop signals in every thread (the I/O threads inherit this mask) and take them
  // synchronously here, so no handler runs on an I/O thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (RLIMIT_FSIZE) must fail the write, not kill the process: the store then
  // answers 503 to publishes and recovers when the limit is raised.
  std::signal(SIGXFSZ, SIG_IGN);

  // Logs (and the access log) go to stderr; stdout carries only the listening line below.
  spdlog::set_default_logger(spdlog::stderr_color_mt("eventfeed"));
  const std::string address = cfg.http.address;
  std::unique_ptr<app> created;
  try {
    created = std::make_unique<app>(std::move(cfg));
    created->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eventfeed: %s\n", e.what());
    return 1;
  }
  app& instance = *created;
  // One machine-readable line on stdout, so scripts and tests can find a port chosen with :0.
  std::printf("eventfeed listening on %s:%u\n", address.c_str(), instance.port());
  std::fflush(stdout);
  spdlog::info("eventfeed listening on {}:{} (store: {})", address, instance.port(),
               instance.engine().backing_store().backend_name());
  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    if (!reload_from) {
      spdlog::warn("received SIGHUP, but there is no config file to reload");
      continue;
    }
    auto fresh = reload_from();
    if (!fresh) {
      spdlog::error("received SIGHUP; the config was not reloaded: {}", fresh.err().message);
      continue;
    }
    instance.reload(*fresh);
  }
  spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  instance.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace eventfeed::server

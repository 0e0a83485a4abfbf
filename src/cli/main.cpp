// cli/main.cpp: the eventfeed command (serve, publish, tail). Thin: parses arguments, wires
// objects from the libraries, runs.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "server/app.hpp"
#include "server/config.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"eventfeed: real-time events over HTTP long-polling"};
  cli.require_subcommand(1);
  std::string config_path, listen, store;
  auto* serve = cli.add_subcommand("serve", "Run the server");
  serve->add_option("--config,-c", config_path, "TOML config file");
  serve->add_option("--listen", listen, "Address to listen on, host:port");
  serve->add_option("--store", store, "Store backend")->check(CLI::IsMember({"memory"}));
  CLI11_PARSE(cli, argc, argv);
  eventfeed::server::config cfg;
  if (!config_path.empty()) {
    auto loaded = eventfeed::server::load_config(config_path);
    if (!loaded) {
      std::fprintf(stderr, "eventfeed: %s\n", loaded.err().message.c_str());
      return 2;
    }
    cfg = std::move(*loaded);
  }
  if (!listen.empty()) {
    auto hp = eventfeed::server::parse_listen(listen);
    if (!hp) {
      std::fprintf(stderr, "eventfeed: --listen: %s\n", hp.err().message.c_str());
      return 2;
    }
    cfg.http.address = hp->first;
    cfg.http.port = hp->second;
  }
  return eventfeed::server::serve(std::move(cfg));
}

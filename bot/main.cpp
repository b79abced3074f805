// postmortem-bot: command line, configuration, wiring, signals.
#include <boost/asio.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "adapters/shell/shell.hpp"
#include "bot/admin.hpp"
#include "bot/cli.hpp"
#include "bot/config.hpp"
#include "bot/service.hpp"
#include "bot/store.hpp"

namespace asio = boost::asio;
using namespace pm;

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "lint") return bot::run_lint_command({args.begin() + 1, args.end()});

    bot::cli_options opts;
    std::string error;
    if (!bot::parse_cli(args, opts, error)) {
        std::cerr << "postmortem-bot: " << error << "\n" << bot::usage_text();
        return 2;
    }
    if (opts.help) {
        std::cout << bot::usage_text();
        return 0;
    }
    if (opts.version) {
        std::cout << "postmortem-bot " << PM_VERSION << "\n";
        return 0;
    }

    std::vector<std::string> errors;
    auto cfg = bot::load_config(opts.config_file, bot::process_env, errors);
    if (cfg) bot::apply_cli(opts, *cfg, errors);
    if (!cfg || !errors.empty()) {
        for (auto& e : errors)
            std::cerr << e << "\n";
        std::cerr << "postmortem-bot: the configuration has " << errors.size()
                  << (errors.size() == 1 ? " problem" : " problems") << "\n";
        return 2;
    }
    if (opts.check_config) {
        std::cout << "configuration OK\n";
        return 0;
    }
    bot::setup_logging(*cfg);

    std::unique_ptr<bot::store> st;
    try {
        st = bot::store::open(cfg->data_dir);
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        std::cerr << "postmortem-bot: " << e.what() << "\n";
        return 1;
    }

    // One thread runs every socket; the terminal's stdin reader thread only posts to it. So the
    // reactor's per-socket locks are left out; posting stays thread-safe.
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    bot::service svc(io, *cfg, *st);
    for (auto& name : cfg->adapters) {
        if (name == "shell") {
            adapters::shell::options so;
            so.channel = cfg->shell_channel;
            so.exports_dir = cfg->data_dir / "exports";
            svc.add_platform(adapters::shell::make(io.get_executor(), so));
        } else {
            if (!bot::add_network_adapter(io, *cfg, svc, name, error)) {
                std::cerr << "postmortem-bot: " << error << "\n";
                return 2;
            }
        }
    }

    if (cfg->admin_enabled) {
        try {
            auto where = bot::start_admin(
                io, cfg->admin_listen,
                {[&] { return svc.metrics_text(); }, [&](std::string& why) { return svc.ready(why); }});
            spdlog::info("admin HTTP listening on {} (/healthz /readyz /metrics)", where);
        } catch (const std::exception& e) {
            // A terminal session goes on without it; a service must not run unobserved.
            const bool shell_only = cfg->adapters == std::vector<std::string>{"shell"};
            if (!shell_only) {
                spdlog::critical("{}", e.what());
                std::cerr << "postmortem-bot: " << e.what() << "\n";
                return 1;
            }
            spdlog::warn("{}; continuing without it", e.what());
        }
    }

    int exit_code = 0;
    bool shutting_down = false;
    auto shutdown = [&](const char* why) {
        if (shutting_down) return;
        shutting_down = true;
        spdlog::info("{}: sending what is queued, then stopping", why);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await svc.drain(std::chrono::seconds{10});
                svc.stop();
                io.stop();
            },
            asio::detached);
    };
    asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                bot::reopen_logs(*cfg);
                signals.async_wait(on_signal);
                return;
            }
            shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
        };
    signals.async_wait(on_signal);

    std::size_t running = cfg->adapters.size();
    svc.start([&](const std::string& name, const std::string& error) {
        if (!error.empty()) exit_code = 1;
        // The terminal's input ended, or the last adapter gave up: finish what is queued and stop.
        if (name == "shell")
            shutdown("end of input");
        else if (--running == 0)
            shutdown(("the " + name + " adapter stopped").c_str());
    });
    io.run();
    spdlog::info("stopped");
    spdlog::shutdown();
    std::cout.flush();
    // The stdin reader may still be blocked in a read; leave without waiting for it.
    std::_Exit(exit_code);
}

// Wiring that depends on optional parts: the linter and the network adapters.
#include <iostream>

#include "adapters/matrix/matrix_adapter.hpp"
#include "adapters/slack/slack_adapter.hpp"
#include "bot/cli.hpp"
#include "bot/lint.hpp"
#include "bot/rules_config.hpp"
#include "bot/service.hpp"

namespace pm::bot {

int run_lint_command(const std::vector<std::string>& files) {
    return run_lint(files, load_default_rules(), std::cin, std::cout, std::cerr);
}

bool add_network_adapter(boost::asio::io_context& io, const config& c, service& svc, const std::string& name,
                         std::string& error) {
    try {
        if (name == "slack") {
            adapters::slack::config sc;
            sc.api_url = c.slack.api_url;
            sc.bot_token = c.slack.bot_token;
            sc.app_token = c.slack.app_token;
            sc.ca_file = c.slack.ca_file;
            sc.client_rate_limits = c.slack.client_rate_limits;
            if (auto why = adapters::slack::validate(sc); !why.empty()) {
                error = "slack: " + why;
                return false;
            }
            auto slack = std::make_unique<adapters::slack::adapter>(io.get_executor(), sc);
            svc.add_metrics_source([a = slack.get()](metrics& m) {
                const auto s = a->stats();
                const std::string l = "adapter=\"slack\"";
                m.set_counter("postmortem_reconnects_total", l,
                              static_cast<double>(s.sockets_opened > 0 ? s.sockets_opened - 1 : 0));
                m.set_counter("postmortem_adapter_envelopes_total", l, static_cast<double>(s.envelopes));
                m.set_counter("postmortem_adapter_acks_total", l, static_cast<double>(s.acks));
                m.set_counter("postmortem_adapter_bad_frames_total", l, static_cast<double>(s.bad_frames));
                m.set_counter("postmortem_adapter_rate_limited_total", l,
                              static_cast<double>(s.rate_limited));
            });
            svc.add_platform(std::move(slack));
            return true;
        }
        if (name == "matrix") {
            adapters::matrix::config mc;
            mc.homeserver = c.matrix.homeserver;
            mc.user_id = c.matrix.user_id;
            mc.access_token = c.matrix.access_token;
            mc.password = c.matrix.password;
            mc.ca_file = c.matrix.ca_file;
            if (auto why = adapters::matrix::validate(mc); !why.empty()) {
                error = "matrix: " + why;
                return false;
            }
            auto mx = adapters::matrix::make_matrix_adapter(io.get_executor(), mc, svc.cursors());
            svc.add_metrics_source([a = mx.get()](metrics& m) {
                const auto s = a->stats();
                const std::string l = "adapter=\"matrix\"";
                m.set_counter("postmortem_adapter_syncs_total", l, static_cast<double>(s.syncs));
                m.set_counter("postmortem_adapter_envelopes_total", l, static_cast<double>(s.events));
                m.set_counter("postmortem_adapter_gaps_filled_total", l, static_cast<double>(s.gaps_filled));
                m.set_counter("postmortem_adapter_rate_limited_total", l,
                              static_cast<double>(s.rate_limited));
            });
            svc.add_platform(std::move(mx));
            return true;
        }
    } catch (const std::exception& e) {
        error = name + ": " + e.what();
        return false;
    }
    error = "unknown adapter " + name;
    return false;
}

} // namespace pm::bot

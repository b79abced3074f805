// Wiring that depends on optional parts: the linter and the network adapters.
#include <iostream>

#include "bot/cli.hpp"
#include "adapters/matrix/matrix_adapter.hpp"
#include "adapters/slack/slack_adapter.hpp"
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
            if (auto why = adapters::slack::validate(sc); !why.empty()) {
                error = "slack: " + why;
                return false;
            }
            svc.add_platform(std::make_unique<adapters::slack::adapter>(io.get_executor(), sc));
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
            svc.add_platform(adapters::matrix::make_matrix_adapter(io.get_executor(), mc, svc.cursors()));
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

// Wiring that depends on optional parts: the linter and the network adapters.
#include <iostream>

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
    (void)io, (void)c, (void)svc;
    error = "the " + name + " adapter is not available in this build";
    return false;
}

} // namespace pm::bot

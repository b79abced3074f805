// Wiring that depends on optional parts: the linter and the network adapters.
#include "bot/cli.hpp"
#include "bot/service.hpp"

#include <iostream>

namespace pm::bot {

int run_lint_command(const std::vector<std::string>& files) {
    (void)files;
    std::cerr << "postmortem-bot lint: not available in this build\n";
    return 2;
}

bool add_network_adapter(boost::asio::io_context& io, const config& c, service& svc, const std::string& name,
                         std::string& error) {
    (void)io, (void)c, (void)svc;
    error = "the " + name + " adapter is not available in this build";
    return false;
}

} // namespace pm::bot

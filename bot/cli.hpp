// Command-line options and process set-up that main() wires together.
#pragma once

#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bot/config.hpp"

namespace pm::bot {

class service;

struct cli_options {
    std::optional<std::filesystem::path> config_file;
    std::vector<std::string> adapters;
    std::optional<std::filesystem::path> data_dir;
    bool check_config = false;
    bool version = false;
    bool help = false;
};

bool parse_cli(const std::vector<std::string>& args, cli_options& out, std::string& error);
std::string usage_text();
// Command-line values win over the file; no adapter anywhere means the shell.
void apply_cli(const cli_options& o, config& c, std::vector<std::string>& errors);

void setup_logging(const config& c);
void reopen_logs(const config& c);

// `postmortem-bot lint [FILE …]`
int run_lint_command(const std::vector<std::string>& files);

// Creates the Slack or Matrix adapter from the configuration.
bool add_network_adapter(boost::asio::io_context& io, const config& c, service& svc, const std::string& name,
                         std::string& error);

} // namespace pm::bot

#include "bot/cli.hpp"

#include <boost/json.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <unistd.h>

#include "bot/service.hpp"

namespace pm::bot {

bool parse_cli(const std::vector<std::string>& args, cli_options& o, std::string& error) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                error = std::string(name) + " needs a value";
                return std::nullopt;
            }
            return args[++i];
        };
        if (a == "--config") {
            auto v = value("--config");
            if (!v) return false;
            o.config_file = *v;
        } else if (a == "--adapter") {
            auto v = value("--adapter");
            if (!v) return false;
            if (*v != "shell" && *v != "slack" && *v != "matrix") {
                error = "unknown adapter `" + *v + "` (shell, slack or matrix)";
                return false;
            }
            o.adapters.push_back(*v);
        } else if (a == "--data-dir") {
            auto v = value("--data-dir");
            if (!v) return false;
            o.data_dir = *v;
        } else if (a == "--check-config") {
            o.check_config = true;
        } else if (a == "--version") {
            o.version = true;
        } else if (a == "--help" || a == "-h") {
            o.help = true;
        } else {
            error = "unknown option `" + a + "`";
            return false;
        }
    }
    return true;
}

std::string usage_text() {
    return "Usage: postmortem-bot [--config FILE] [--adapter shell|slack|matrix]... [--data-dir DIR]\n"
           "                      [--check-config] [--version] [--help]\n"
           "       postmortem-bot lint [FILE ...]\n"
           "Runs blameless postmortems in chat. Without an adapter it runs in the terminal:\n"
           "type `alice: /postmortem start DB failover @bob` to begin.\n";
}

void apply_cli(const cli_options& o, config& c, std::vector<std::string>& errors) {
    if (o.data_dir) c.data_dir = *o.data_dir;
    if (!o.adapters.empty()) c.adapters = o.adapters;
    if (c.adapters.empty()) c.adapters.push_back("shell");
    std::sort(c.adapters.begin(), c.adapters.end());
    c.adapters.erase(std::unique(c.adapters.begin(), c.adapters.end()), c.adapters.end());
    for (auto& a : c.adapters) {
        if (a == "slack") {
            if (c.slack.bot_token.empty())
                errors.push_back("slack: SLACK_BOT_TOKEN (or slack.bot_token_file) is not set");
            if (c.slack.app_token.empty())
                errors.push_back("slack: SLACK_APP_TOKEN (or slack.app_token_file) is not set");
        }
        if (a == "matrix") {
            if (c.matrix.homeserver.empty())
                errors.push_back("matrix: MATRIX_HOMESERVER (or matrix.homeserver) is not set");
            if (c.matrix.user_id.empty())
                errors.push_back("matrix: MATRIX_USER_ID (or matrix.user_id) is not set");
            if (c.matrix.access_token.empty() && c.matrix.password.empty())
                errors.push_back("matrix: MATRIX_ACCESS_TOKEN (or a password) is not set");
        }
    }
}

namespace {

// `%*`: the message as a JSON string, so a quote in a message never breaks the line.
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        auto s = boost::json::serialize(boost::json::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(s.data(), s.data() + s.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }
};

void install(const config& c) {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (c.log_file.empty())
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(c.log_file);
    auto logger = std::make_shared<spdlog::logger>("postmortem-bot", sink);
    if (c.log_format == "json") {
        auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        f->add_flag<json_message_flag>('*').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","lvl":"%l","logger":"%n","msg":%*})");
        logger->set_formatter(std::move(f));
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    }
    // A person typing at a terminal sees the conversation, not the service's info lines.
    std::string level = c.log_level;
    if (level.empty())
        level = c.adapters == std::vector<std::string>{"shell"} && c.log_file.empty() && ::isatty(STDIN_FILENO) &&
                        ::isatty(STDERR_FILENO)
                    ? "warn"
                    : "info";
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

} // namespace

void setup_logging(const config& c) {
    install(c);
}
void reopen_logs(const config& c) {
    install(c);
    spdlog::info("log reopened");
}

} // namespace pm::bot

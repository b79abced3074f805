// The service configuration: one TOML file, secrets from the environment or *_file paths,
// validated once at start-up. Every problem is reported at once, with its key and line.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conversations/model.hpp"

namespace pm::bot {

struct slack_settings {
    std::string api_url = "https://slack.com/api/";
    std::string bot_token;
    std::string app_token;
    std::string ca_file; // extra CA bundle (tests, private CAs)
    bool client_rate_limits = true;
};

struct matrix_settings {
    std::string homeserver;
    std::string user_id;
    std::string access_token;
    std::string password;
    std::string ca_file;
};

struct config {
    std::filesystem::path data_dir = "data";
    std::vector<std::string> adapters; // empty: the shell
    conv::settings settings;
    std::string admin_listen = "127.0.0.1:9464";
    bool admin_enabled = true;
    std::string log_level;           // empty: "info", or "warn" for a person typing at a terminal
    std::string log_format = "text"; // text | json
    std::string log_file;            // empty: stderr
    std::string shell_channel = "#incident";
    slack_settings slack;
    matrix_settings matrix;
};

using env_fn = std::function<std::optional<std::string>(const char*)>;
std::optional<std::string> process_env(const char* name);

// Loads `file` (or only defaults and the environment when empty). On failure returns nullopt and
// fills `errors` with lines "FILE:LINE: key: problem".
std::optional<config> load_config(const std::optional<std::filesystem::path>& file, const env_fn& env,
                                  std::vector<std::string>& errors);

// Parses "90s", "30m", "24h", "3d".
std::optional<std::chrono::seconds> parse_duration(std::string_view s);

// The shipped defaults (config/questions.toml), compiled in.
conv::question_set default_questions();

} // namespace pm::bot

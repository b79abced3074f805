#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bot/config.hpp"

using namespace pm;

namespace {
std::filesystem::path write(const std::string& name, const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / name;
    std::ofstream(p) << text;
    return p;
}
bot::env_fn env_of(std::map<std::string, std::string> m) {
    return [m](const char* k) -> std::optional<std::string> {
        auto it = m.find(k);
        if (it == m.end()) return std::nullopt;
        return it->second;
    };
}
} // namespace

TEST_CASE("config: the shipped example is valid") {
    std::vector<std::string> errors;
    auto c = bot::load_config(std::filesystem::path(PM_SOURCE_DIR) / "config/postmortem-bot.toml", env_of({}),
                              errors);
    CHECK(errors.empty());
    REQUIRE(c);
    CHECK(c->settings.questions.questions.size() == 9);
    CHECK(c->settings.remind_after == std::chrono::hours{24});
    CHECK(c->adapters == std::vector<std::string>{"shell"});
}

TEST_CASE("config: every problem at once, with file, line and key") {
    auto p = write("pm-config-bad.toml",
                   "adapters = [\"irc\"]\n[defaults]\ntimezone = \"Nowhere/Land\"\n"
                   "remind_after = \"soon\"\n[summary]\ngap_minute = 3\n[log]\nlevel = \"loud\"\n");
    std::vector<std::string> errors;
    auto c = bot::load_config(p, env_of({}), errors);
    CHECK(!c);
    const std::string f = p.string();
    REQUIRE(errors.size() == 5);
    CHECK(errors[0] == f + ":1: adapters: each adapter is \"shell\", \"slack\" or \"matrix\"");
    CHECK(errors[1] == f + ":3: defaults.timezone: `Nowhere/Land` is not an IANA zone");
    CHECK(errors[2] ==
          f + ":4: defaults.remind_after: expects a duration such as \"30m\", \"24h\" or \"3d\"");
    CHECK(errors[3] == f + ":6: summary.gap_minute: unknown key; did you mean `summary.gap_minutes`?");
    CHECK(errors[4] == f + ":8: log.level: is one of trace, debug, info, warn, error, critical, off");
}

TEST_CASE("config: secrets from the environment and from files, the environment wins") {
    auto tok = write("pm-config-token", "xoxb-from-file\n");
    auto p = write("pm-config-slack.toml",
                   "[slack]\nbot_token_file = \"" + tok.string() + "\"\napp_token = \"xapp-1\"\n");
    std::vector<std::string> errors;
    auto c = bot::load_config(
        p, env_of({{"SLACK_APP_TOKEN", "xapp-env"}, {"MATRIX_ACCESS_TOKEN_FILE", tok.string()}}), errors);
    REQUIRE(c);
    CHECK(c->slack.bot_token == "xoxb-from-file");
    CHECK(c->slack.app_token == "xapp-env");
    CHECK(c->matrix.access_token == "xoxb-from-file");
    errors.clear();
    CHECK(!bot::load_config(p, env_of({{"SLACK_BOT_TOKEN_FILE", "/nonexistent/token"}}), errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "environment:0: SLACK_BOT_TOKEN_FILE: cannot read /nonexistent/token");
}

TEST_CASE("config: durations") {
    CHECK(bot::parse_duration("90s") == std::chrono::seconds{90});
    CHECK(bot::parse_duration("30m") == std::chrono::minutes{30});
    CHECK(bot::parse_duration("3d") == std::chrono::hours{72});
    CHECK(!bot::parse_duration("3"));
    CHECK(!bot::parse_duration("h"));
    CHECK(!bot::parse_duration("-3h"));
}

#pragma once

#include "conversations/nudges.hpp"

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

namespace pm::bot {
std::optional<conv::nudges::ruleset> parse_rules(const toml::table& t, std::vector<std::string>& errors);
conv::nudges::ruleset load_default_rules();
} // namespace pm::bot

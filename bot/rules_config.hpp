// Reading the nudge and follow-up rules (config/nudges.toml) into conv::nudges::ruleset.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "conversations/nudges.hpp"

namespace pm::bot {

// The rules in `t`, or nullopt with one message per problem in `errors`; each message names
// the key and the line ("line 12: nudge[3].reframe: expected a string").
std::optional<conv::nudges::ruleset> parse_rules(const toml::table& t, std::vector<std::string>& errors);

// The default rules: config/nudges.toml as compiled into the binary.
conv::nudges::ruleset load_default_rules();

} // namespace pm::bot

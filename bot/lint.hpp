// `postmortem-bot lint [FILE …]`: the nudge rules as a linter for any written text (SPEC §8).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "conversations/nudges.hpp"

namespace pm::bot {

// Prints `file:line:col: phrase — reframe` per finding on `out`. Reads `in` (shown as
// `<stdin>`) when `files` is empty or names "-". Returns 1 when anything is flagged, 0 when the
// text is clean, 2 on a usage error (an unknown option, an unreadable file), reported on `err`.
int run_lint(const std::vector<std::string>& files, const conv::nudges::ruleset& rules, std::istream& in,
             std::ostream& out, std::ostream& err);

} // namespace pm::bot

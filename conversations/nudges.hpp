// Blameless nudges and rule-based follow-ups (FACILITATION.md). Pure text analysis: the rules
// come in as data (loaded from config/nudges.toml by the bot), no I/O here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pm::conv::nudges {

struct rule {
    std::string id;                   // "counterfactual", "character", …
    std::vector<std::string> phrases; // whole-word, case-insensitive
    std::string reframe;              // the gentle question offered instead
};

struct followup_rule {
    std::string id;
    std::vector<std::string> phrases;
    std::string prompt;
};

struct ruleset {
    std::vector<rule> nudges;
    std::vector<followup_rule> followups;
};

struct finding {
    std::size_t line = 1;   // 1-based
    std::size_t column = 1; // 1-based, in bytes
    std::size_t offset = 0; // byte offset in the text
    std::size_t length = 0;
    std::string phrase;     // the words as written
    std::string reframe;
    std::string rule_id;
};

// Every finding in `text`, in order. Quoted text and code spans are evidence and never flagged.
std::vector<finding> scan(std::string_view text, const ruleset& rules);

// The first finding, if any: what the interview nudges on (one per answer at most).
std::optional<finding> first(std::string_view text, const ruleset& rules);

// The follow-up prompt an answer invites, if any.
std::optional<std::string> followup(std::string_view text, const ruleset& rules);

} // namespace pm::conv::nudges

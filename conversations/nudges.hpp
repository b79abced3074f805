// Blameless nudges and rule-based follow-ups (FACILITATION.md). Pure text analysis: the rules
// come in as data (loaded from config/nudges.toml by the bot), no I/O here.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pm::conv::nudges {

// Phrases are sequences of words matched whole-word and case-insensitively; the words of a
// phrase may be separated by any whitespace in the text. A word of a phrase may also be
// `{class}` (any word of the named class in ruleset::words), `{@person}` (a person word or a
// name: a capitalized word in no class), `{@system}` (a system word, or a word that looks like a
// thing: a host or version with digits, an acronym, a CamelCase name) or `*` (any one word).

// How the words around a match decide whether it is about a person (flagged) or about a system,
// a signal or a thing (clean). A listed word is only a hint; who or what it is said of decides.
enum class subject_mode {
    none,   // always flagged (character words, "human error")
    before, // a verb: the subject of its clause decides ("the job missed its window" is clean)
    clause, // a noun: any person in the clause flags it, else a system there clears it
    next,   // an adjective: clean when it describes a system ("a stupid race condition")
};

struct rule {
    std::string id;                   // "counterfactual", "character", …
    std::vector<std::string> phrases; // whole-word, case-insensitive
    std::string reframe;              // the gentle question offered instead
    // Longer phrases that contain a match and make it harmless ("page fault", "nobody's fault").
    std::vector<std::string> exceptions;
    subject_mode subject = subject_mode::none;
    // A past participle: "the page was missed" implies a person unless "by <system>" follows;
    // "three missed heartbeats" is decided by the noun it describes.
    bool passive = false;
    // Clean inside a sentence that proposes something for the future ("next time", "we should add").
    bool forward_ok = false;
};

struct followup_rule {
    std::string id;
    std::vector<std::string> phrases;
    std::string prompt;
};

struct ruleset {
    std::vector<rule> nudges;
    std::vector<followup_rule> followups;
    // Named word classes used by `{class}` in phrases and by the subject checks. The checks read
    // "person", "possessive", "system", "determiner", "be", "skip", "subordinator",
    // "coordinator" and "forward" (phrases marking a proposal); a missing class is empty.
    std::map<std::string, std::vector<std::string>> words;
};

struct finding {
    std::size_t line = 1;   // 1-based
    std::size_t column = 1; // 1-based, in bytes
    std::size_t offset = 0; // byte offset in the text
    std::size_t length = 0;
    std::string phrase; // the words as written
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

// The compiled summary (SPEC §5): one model, rendered three ways — the rich-text message the
// channel sees, the Markdown export and the versioned JSON export (docs/export-schema.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conversations/model.hpp"

namespace pm::conv {

// "answered" (reached the end), "partial" (stopped or not at the end yet), "none".
std::string participant_status(const participant& x, std::size_t nquestions);

struct timeline_entry {
    std::string lane;     // display name of the person (or "Responder B")
    std::string user;     // platform id (empty in anonymous mode)
    std::int64_t seq = 0; // order given by that person
    std::optional<sys_seconds> at;
    std::optional<sys_seconds> end;
    bool approximate = false;
    bool is_private = false;
    std::string text;
    std::string original;
    bool out_of_order = false; // given after a later step of the same person
};

struct gap {
    sys_seconds from;
    sys_seconds to;
};

struct conflict {
    std::size_t a = 0, b = 0; // indexes into `timed`
    long minutes = 0;
};

struct summary_model {
    std::vector<timeline_entry> timed;   // sorted by UTC instant
    std::vector<timeline_entry> untimed; // in the order given
    std::vector<gap> gaps;
    std::vector<conflict> conflicts;
    std::map<std::string, std::string> labels; // user id -> lane name
};

summary_model compile_summary(const world& w, const postmortem& p, const settings& s, bool include_private);

rich::message render_summary(const world& w, const postmortem& p, const settings& s, bool include_private);
std::string render_markdown(const world& w, const postmortem& p, const settings& s, bool include_private);
std::string render_json(const world& w, const postmortem& p, const settings& s);

} // namespace pm::conv

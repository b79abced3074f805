// Reading the times people write in their timeline (SPEC §4 "Times"). Pure: the participant's
// zone, the incident window and "now" (the platform timestamp of the message) come in as data.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pm::conv::times {

using sys_seconds = std::chrono::sys_seconds;

struct context {
    std::string zone;         // IANA name of the writer's zone ("UTC", "Europe/Berlin")
    sys_seconds window_start; // incident window, both ends inclusive
    sys_seconds window_end;
    sys_seconds now; // when the line was typed
};

struct reading {
    enum class status {
        ok,             // `at` set (and `end` for a span)
        untimed,        // the line starts with `?`: kept in the order given
        unreadable,     // no time the reader understands at the start of the line
        future,         // the time lies after `now`
        outside_window, // more than 24 h outside the incident window
        nonexistent,    // a local time inside a DST gap
        bad_zone,       // a zone name that does not exist
    };
    status st = status::unreadable;
    std::optional<sys_seconds> at;
    std::optional<sys_seconds> end; // span end
    bool approximate = false;       // `~14:05`
    std::string rest;               // the text after the time expression, trimmed
    std::string problem;            // for anything but ok/untimed: one readable sentence
};

// One timeline line: a time expression, then free text ("14:05 restarted api-3", "? asked #db").
reading read_step(std::string_view line, const context& ctx);

// A whole string that must be a time expression alone (`start --at …`).
reading read_time(std::string_view expr, const context& ctx);

// True for a zone name date/tz knows ("UTC", "Europe/Berlin"); the case of the letters does not matter.
bool valid_zone(std::string_view name);

// The zone's own spelling ("europe/berlin" -> "Europe/Berlin"), so a stored name always resolves.
std::optional<std::string> canonical_zone(std::string_view name);

// Formats a UTC instant in a zone with a date::format string ("%Y-%m-%d %H:%M").
std::string format(sys_seconds t, std::string_view zone, const char* fmt);

} // namespace pm::conv::times

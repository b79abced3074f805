// Interim reader (HH:MM in UTC only); replaced by the full reader.
#include "conversations/times.hpp"

#include <date/tz.h>

namespace pm::conv::times {
reading read_step(std::string_view line, const context& ctx) {
    reading r;
    if (!line.empty() && line[0] == '?') {
        r.st = reading::status::untimed;
        r.rest = std::string(line.substr(1));
        while (!r.rest.empty() && r.rest[0] == ' ') r.rest.erase(0, 1);
        return r;
    }
    int h, m;
    char rest[2];
    if (line.size() >= 5 && std::sscanf(std::string(line.substr(0, 5)).c_str(), "%d:%d%1s", &h, &m, rest) == 2) {
        auto day = std::chrono::floor<date::days>(ctx.window_start);
        auto t = day + std::chrono::hours{h} + std::chrono::minutes{m};
        if (t < ctx.window_start) t += date::days{1};
        r.st = reading::status::ok;
        r.at = std::chrono::time_point_cast<std::chrono::seconds>(t);
        r.rest = line.size() > 6 ? std::string(line.substr(6)) : "";
        return r;
    }
    r.rest = std::string(line);
    r.problem = "there is no time at its start.";
    return r;
}
reading read_time(std::string_view expr, const context& ctx) { return read_step(expr, ctx); }
bool valid_zone(std::string_view name) {
    try {
        date::locate_zone(std::string(name));
        return true;
    } catch (...) {
        return false;
    }
}
std::string format(sys_seconds t, std::string_view zone, const char* fmt) {
    try {
        return date::format(fmt, date::make_zoned(std::string(zone), t));
    } catch (...) {
        return date::format(fmt, t);
    }
}
} // namespace pm::conv::times

#include "conversations/times.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

namespace pm::conv::times {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using local_seconds = date::local_seconds;
using local_days = date::local_days;

// ---------------------------------------------------------------------------------------------
// Text helpers. The input is UTF-8 from chat clients; only ASCII letters matter to the grammar,
// but the spaces and dashes clients insert (no-break spaces, en/em dashes) are recognised.

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
    return is_digit(c) || is_alpha(c);
}
char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

// Byte length of the whitespace character at s[i], or 0. No-break and narrow no-break spaces
// are included because some clients put them between a time and "PM".
std::size_t space_len(std::string_view s, std::size_t i) {
    if (i >= s.size()) return 0;
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return 1;
    const auto rest = s.substr(i);
    if (rest.starts_with("\xC2\xA0")) return 2;
    if (rest.starts_with("\xE2\x80\xAF") || rest.starts_with("\xE2\x80\x89")) return 3;
    return 0;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
    while (const auto n = space_len(s, i))
        i += n;
    return i;
}

std::string_view trim(std::string_view s) {
    s.remove_prefix(std::min(skip_spaces(s, 0), s.size()));
    for (;;) {
        if (s.ends_with(' ') || s.ends_with('\t') || s.ends_with('\r') || s.ends_with('\n'))
            s.remove_suffix(1);
        else if (s.ends_with("\xC2\xA0"))
            s.remove_suffix(2);
        else if (s.ends_with("\xE2\x80\xAF") || s.ends_with("\xE2\x80\x89"))
            s.remove_suffix(3);
        else
            return s;
    }
}

// Byte length of a dash at s[i] ("-", en dash, em dash), or 0.
std::size_t dash_len(std::string_view s, std::size_t i) {
    if (i >= s.size()) return 0;
    if (s[i] == '-') return 1;
    const auto rest = s.substr(i);
    if (rest.starts_with("\xE2\x80\x93") || rest.starts_with("\xE2\x80\x94")) return 3;
    return 0;
}

bool word_at(std::string_view s, std::size_t i, std::string_view word) {
    if (s.size() - std::min(i, s.size()) < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
        if (lower(s[i + k]) != word[k]) return false;
    const std::size_t after = i + word.size();
    return after == s.size() || !is_alnum(s[after]);
}

int digits_at(std::string_view s, std::size_t i) {
    int n = 0;
    while (i + n < s.size() && is_digit(s[i + n]))
        ++n;
    return n;
}

int number(std::string_view s, std::size_t i, int n) {
    int v = 0;
    for (int k = 0; k < n; ++k)
        v = v * 10 + (s[i + k] - '0');
    return v;
}

std::string quoted(std::string_view s) {
    return "\xE2\x80\x9C" + std::string(s) + "\xE2\x80\x9D";
}

// ---------------------------------------------------------------------------------------------
// Zones.

// Case-insensitive lookup: people type "europe/berlin" as often as "Europe/Berlin".
const date::time_zone* find_zone(std::string_view name) {
    if (name.empty()) return nullptr;
    try {
        const auto& db = date::get_tzdb();
        try {
            return date::locate_zone(name); // the packaged library exports only the free function
        } catch (const std::runtime_error&) {
        }
        const auto want = lowered(name);
        for (const auto& z : db.zones)
            if (lowered(z.name()) == want) return &z;
    } catch (const std::exception&) {
        // No usable tz database: every zone is unknown, and callers fall back to UTC.
    }
    return nullptr;
}

// First path segments of the zone names ("america", "europe", "etc", ...). A word after a time
// is only taken for a zone when it starts with one of them, so "14:05 api/v2 returned 500s"
// keeps its text instead of failing as an unknown zone.
bool looks_like_zone(std::string_view token) {
    static const std::set<std::string> areas = [] {
        std::set<std::string> out;
        try {
            const auto& db = date::get_tzdb();
            auto add = [&](const std::string& n) {
                if (const auto slash = n.find('/'); slash != std::string::npos)
                    out.insert(lowered(n.substr(0, slash)));
            };
            // The system database lists links (US/Pacific) as zones of their own.
            for (const auto& z : db.zones)
                add(z.name());
        } catch (const std::exception&) {
        }
        return out;
    }();
    const auto slash = token.find('/');
    return slash != std::string_view::npos && slash + 1 < token.size() &&
           areas.contains(lowered(token.substr(0, slash)));
}

// Zone abbreviations people write after a time, in capitals: the fixed offsets they stand for
// ("CET" is +01:00 whatever the date), or a zone for the generic US names ("ET" follows
// daylight saving). CST is read as North American Central; IST (India, Ireland, Israel) is
// left out. A word that is not here stays part of the text.
struct abbreviation {
    std::string_view name;
    int minutes;
    std::string_view zone;
};
constexpr abbreviation abbreviations[] = {
    {"CET", 60, ""},
    {"CEST", 120, ""},
    {"EET", 120, ""},
    {"EEST", 180, ""},
    {"WET", 0, ""},
    {"WEST", 60, ""},
    {"BST", 60, ""},
    {"MSK", 180, ""},
    {"EST", -300, ""},
    {"EDT", -240, ""},
    {"CST", -360, ""},
    {"CDT", -300, ""},
    {"MST", -420, ""},
    {"MDT", -360, ""},
    {"PST", -480, ""},
    {"PDT", -420, ""},
    {"AKST", -540, ""},
    {"AKDT", -480, ""},
    {"HST", -600, ""},
    {"JST", 540, ""},
    {"KST", 540, ""},
    {"SGT", 480, ""},
    {"HKT", 480, ""},
    {"AEST", 600, ""},
    {"AEDT", 660, ""},
    {"NZST", 720, ""},
    {"NZDT", 780, ""},
    {"ET", 0, "America/New_York"},
    {"CT", 0, "America/Chicago"},
    {"MT", 0, "America/Denver"},
    {"PT", 0, "America/Los_Angeles"},
};

// Where a local time is read: a tz zone, or a fixed offset from UTC ("Z", "+02:00").
struct zone_ref {
    const date::time_zone* tz = nullptr;
    seconds offset{0};
};

zone_ref writer_zone(const context& ctx) {
    return zone_ref{find_zone(ctx.zone), seconds{0}};
}

local_seconds to_local(const zone_ref& z, sys_seconds t) {
    if (z.tz) return z.tz->to_local(t);
    return local_seconds{(t + z.offset).time_since_epoch()};
}

local_days local_day(const zone_ref& z, sys_seconds t) {
    return date::floor<date::days>(to_local(z, t));
}

std::string offset_text(seconds off) {
    if (off == seconds{0}) return "UTC";
    const auto a = off < seconds{0} ? -off : off;
    return date::format(off < seconds{0} ? "-%H:%M" : "+%H:%M", date::sys_seconds{a});
}

// "2026-11-20 14:05 CET", seconds only when written, so the person recognises their time.
std::string describe(sys_seconds t, const zone_ref& z, bool with_seconds) {
    if (z.tz)
        return date::format(with_seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z",
                            date::make_zoned(z.tz, t));
    return date::format(with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", to_local(z, t)) + " " +
           offset_text(z.offset);
}

// ---------------------------------------------------------------------------------------------
// The grammar: [~] point [dash point], where point = [date|today|yesterday|tomorrow] clock [zone].

struct zone_spec {
    bool named = false;
    const date::time_zone* tz = nullptr;
    seconds offset{0};
};

struct point {
    std::optional<date::year_month_day> date;
    std::optional<int> day_shift; // today 0, yesterday -1, tomorrow +1
    int hour = 0, minute = 0, second = 0;
    bool with_seconds = false;
    bool may_be_12h = false; // a bare h:mm that could also mean the afternoon
    bool iso_t = false;      // "2026-11-20T14:05": ISO rules for what follows
    std::optional<zone_spec> zone;
};

enum class outcome { no_match, match, error };

class parser {
public:
    explicit parser(std::string_view s) : s_(s) {}

    std::size_t pos_ = 0;
    reading::status error_status_ = reading::status::unreadable;
    std::string error_;

    outcome point_at(point& p) {
        const std::size_t begin = pos_;
        outcome o = date_prefix(p);
        if (o == outcome::error) return o;
        const bool dated = o == outcome::match;
        o = clock(p);
        if (o == outcome::error) return o;
        if (o == outcome::no_match) {
            if (dated)
                return fail("After " + quoted(trim(s_.substr(begin, pos_ - begin))) +
                            " I expected a time of day.");
            pos_ = begin;
            return outcome::no_match;
        }
        return zone(p);
    }

    std::string_view text(std::size_t from, std::size_t to) const { return trim(s_.substr(from, to - from)); }

private:
    std::string_view s_;

    outcome fail(std::string why, reading::status st = reading::status::unreadable) {
        error_ = std::move(why);
        error_status_ = st;
        return outcome::error;
    }

    outcome date_prefix(point& p) {
        const std::size_t i = pos_;
        if (digits_at(s_, i) == 4 && i + 10 <= s_.size() && s_[i + 4] == '-' && digits_at(s_, i + 5) == 2 &&
            s_[i + 7] == '-' && digits_at(s_, i + 8) == 2 && digits_at(s_, i + 10) == 0) {
            const date::year_month_day ymd{date::year{number(s_, i, 4)},
                                           date::month{static_cast<unsigned>(number(s_, i + 5, 2))},
                                           date::day{static_cast<unsigned>(number(s_, i + 8, 2))}};
            if (!ymd.ok()) return fail(quoted(s_.substr(i, 10)) + " is not a date in the calendar.");
            // Keeps the arithmetic and the zone rules in the range the tz database describes.
            if (ymd.year() < date::year{1970})
                return fail(quoted(s_.substr(i, 10)) + " is too early: dates start in 1970.");
            p.date = ymd;
            pos_ = i + 10;
            if (pos_ < s_.size() && lower(s_[pos_]) == 't' && pos_ + 1 < s_.size() &&
                is_digit(s_[pos_ + 1])) {
                p.iso_t = true;
                ++pos_;
            } else {
                pos_ = skip_spaces(s_, pos_);
            }
            return outcome::match;
        }
        static constexpr std::pair<std::string_view, int> words[] = {
            {"today", 0}, {"yesterday", -1}, {"tomorrow", 1}};
        for (const auto& [w, shift] : words) {
            if (word_at(s_, i, w)) {
                p.day_shift = shift;
                pos_ = skip_spaces(s_, i + w.size());
                // "yesterday at 23:50"
                if (word_at(s_, pos_, "at")) pos_ = skip_spaces(s_, pos_ + 2);
                return outcome::match;
            }
        }
        return outcome::no_match;
    }

    // "am", "pm", "a.m.", "p.m." after optional spaces; returns 'a', 'p' or 0.
    char meridiem() {
        const std::size_t i = skip_spaces(s_, pos_);
        for (const char m : {'a', 'p'}) {
            const std::string plain{m, 'm'};
            const std::string dotted{m, '.', 'm', '.'};
            if (word_at(s_, i, plain)) {
                pos_ = i + 2;
                return m;
            }
            if (s_.size() - std::min(i, s_.size()) >= 4 && lowered(s_.substr(i, 4)) == dotted) {
                pos_ = i + 4;
                return m;
            }
        }
        return 0;
    }

    outcome clock(point& p) {
        const std::size_t begin = pos_;
        if (word_at(s_, pos_, "noon") || word_at(s_, pos_, "midnight")) {
            p.hour = lower(s_[pos_]) == 'n' ? 12 : 0;
            pos_ += p.hour == 12 ? 4 : 8;
            return outcome::match;
        }
        const int hd = digits_at(s_, pos_);
        if (hd < 1 || hd > 2) return outcome::no_match;
        const int h = number(s_, pos_, hd);
        pos_ += hd;
        bool has_minutes = false;
        int m = 0, sec = 0;
        if (pos_ < s_.size() && (s_[pos_] == ':' || s_[pos_] == '.' || lower(s_[pos_]) == 'h') &&
            digits_at(s_, pos_ + 1) == 2) {
            has_minutes = true;
            const char sep = s_[pos_];
            m = number(s_, pos_ + 1, 2);
            pos_ += 3;
            if (sep == ':' && pos_ < s_.size() && s_[pos_] == ':' && digits_at(s_, pos_ + 1) == 2) {
                sec = number(s_, pos_ + 1, 2);
                p.with_seconds = true;
                pos_ += 3;
                // Fractions of a second are accepted and dropped: times are kept to the second.
                if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == ',') && digits_at(s_, pos_ + 1) > 0)
                    pos_ += 1 + digits_at(s_, pos_ + 1);
            }
        }
        const char mer = p.iso_t ? 0 : meridiem();
        if (!has_minutes && !mer) {
            pos_ = begin;
            return outcome::no_match;
        }
        const auto written = quoted(text(begin, pos_));
        if (mer) {
            if (h < 1 || h > 12)
                return fail(written + " is not a time: with am or pm the hour goes from 1 to 12.");
        } else if (h > 23) {
            return fail(written + " is not a time of day: hours go from 0 to 23.");
        }
        if (m > 59) return fail(written + " is not a time of day: minutes go from 00 to 59.");
        if (sec > 59) return fail(written + " is not a time of day: seconds go from 00 to 59.");
        p.hour = mer ? h % 12 + (mer == 'p' ? 12 : 0) : h;
        p.minute = m;
        p.second = sec;
        // "02:05" with its leading zero and ISO times are plainly 24-hour; "2:05" and "11:45"
        // might not be.
        p.may_be_12h = !mer && !p.iso_t && h >= 1 && h <= 11 && (hd == 1 || h >= 10);
        return outcome::match;
    }

    // "+02:00", "+0200", "+02", "-5" at pos_ (the sign included). Real offsets run from -12:00 to
    // +14:00. Where a dash glued to the time may also start a span ("14:05Z-14:20"), an offset out
    // of that range is taken for the span: `may_be_span` gives no_match instead of an error.
    outcome offset(zone_spec& z, bool may_be_span = false) {
        const std::size_t begin = pos_;
        const bool negative = s_[pos_] == '-';
        std::size_t i = pos_ + 1;
        int hd = digits_at(s_, i);
        int h = 0, m = 0;
        if (hd == 4) {
            h = number(s_, i, 2);
            m = number(s_, i + 2, 2);
            i += 4;
        } else if (hd == 1 || hd == 2) {
            h = number(s_, i, hd);
            i += hd;
            if (i < s_.size() && s_[i] == ':' && digits_at(s_, i + 1) == 2) {
                m = number(s_, i + 1, 2);
                i += 3;
            }
        } else {
            return outcome::no_match;
        }
        if (m > 59 || h * 60 + m > (negative ? 12 : 14) * 60) {
            if (may_be_span && negative) return outcome::no_match;
            pos_ = i;
            return fail(quoted(text(begin, pos_)) +
                        " is not an offset from UTC: offsets go from -12:00 to +14:00.");
        }
        pos_ = i;
        z.offset = (negative ? -1 : 1) * (hours{h} + std::chrono::minutes{m});
        return outcome::match;
    }

    outcome zone(point& p) {
        zone_spec z;
        const std::size_t after_clock = pos_;
        // Directly attached: "14:05Z", "14:05+02:00"; "-05:00" only in ISO form, because
        // "14:05-14:20" is a span.
        if (pos_ < s_.size() && lower(s_[pos_]) == 'z' &&
            (pos_ + 1 == s_.size() || !is_alnum(s_[pos_ + 1]))) {
            ++pos_;
            p.zone = z;
            return outcome::match;
        }
        if (pos_ < s_.size() && (s_[pos_] == '+' || (s_[pos_] == '-' && p.iso_t))) {
            const outcome o = offset(z, true);
            if (o == outcome::match) p.zone = z;
            return o == outcome::no_match ? outcome::match : o;
        }
        pos_ = skip_spaces(s_, pos_);
        if (pos_ == after_clock) return outcome::match;
        if (const auto w = lowered(s_.substr(pos_, 3));
            (w == "utc" || w == "gmt") && (pos_ + 3 == s_.size() || !is_alnum(s_[pos_ + 3]))) {
            pos_ += 3;
            // "UTC+2", "GMT-05:00"
            if (pos_ + 1 < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-') && is_digit(s_[pos_ + 1])) {
                const outcome o = offset(z, true);
                if (o == outcome::error) return o;
            }
            p.zone = z;
            return outcome::match;
        }
        if (pos_ + 1 < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-') && is_digit(s_[pos_ + 1])) {
            const outcome o = offset(z);
            if (o == outcome::match) p.zone = z;
            return o;
        }
        std::size_t end = pos_;
        while (end < s_.size() &&
               (is_alnum(s_[end]) || s_[end] == '/' || s_[end] == '_' || s_[end] == '-' || s_[end] == '+'))
            ++end;
        const auto token = s_.substr(pos_, end - pos_);
        for (const auto& a : abbreviations) {
            if (token != a.name) continue;
            if (a.zone.empty()) {
                z.offset = std::chrono::minutes{a.minutes};
            } else {
                z.tz = find_zone(a.zone);
                if (!z.tz) break; // no tz database: keep the word as text
                z.named = true;
            }
            pos_ = end;
            p.zone = z;
            return outcome::match;
        }
        if (looks_like_zone(token)) {
            z.tz = find_zone(token);
            if (!z.tz) return fail(quoted(token) + " is not a time zone I know.", reading::status::bad_zone);
            z.named = true;
            pos_ = end;
            p.zone = z;
            return outcome::match;
        }
        pos_ = after_clock;
        return outcome::match;
    }
};

// The parsed expression at the start of a line.
struct expression {
    bool approximate = false;
    point start;
    std::optional<point> end;
    std::size_t begin = 0, finish = 0; // byte range in the line, for quoting
};

outcome parse_expression(parser& ps, std::string_view s, expression& e) {
    ps.pos_ = skip_spaces(s, ps.pos_);
    e.begin = ps.pos_;
    if (ps.pos_ < s.size() && s[ps.pos_] == '~') {
        e.approximate = true;
        ps.pos_ = skip_spaces(s, ps.pos_ + 1);
    }
    // "at 14:05 restarted api-3"
    if (word_at(s, ps.pos_, "at")) {
        const std::size_t i = skip_spaces(s, ps.pos_ + 2);
        if (i > ps.pos_ + 2 && i < s.size() && is_digit(s[i])) ps.pos_ = i;
    }
    outcome o = ps.point_at(e.start);
    if (o != outcome::match) return o;
    e.finish = ps.pos_;
    // A dash right after the time starts the span's end; a dash with spaces around it does so
    // only when a time follows, otherwise it separates the time from the text.
    const std::size_t after = ps.pos_;
    if (const auto d = dash_len(s, after)) {
        ps.pos_ = after + d;
        point end;
        o = ps.point_at(end);
        if (o == outcome::error) return o;
        if (o == outcome::match) {
            e.end = end;
            e.finish = ps.pos_;
        } else {
            ps.pos_ = after;
        }
    } else {
        const std::size_t i = skip_spaces(s, after);
        if (const auto d = dash_len(s, i); d && i > after && space_len(s, i + d)) {
            parser probe = ps;
            probe.pos_ = skip_spaces(s, i + d);
            point end;
            if (probe.point_at(end) == outcome::match) {
                ps = probe;
                e.end = end;
                e.finish = ps.pos_;
            }
        }
    }
    return outcome::match;
}

// ---------------------------------------------------------------------------------------------
// Resolution: from a written local time to instants.

struct candidate {
    sys_seconds t;
    local_days day;
    bool gap = false;            // the local time falls in a spring-forward gap
    seconds before{0}, after{0}; // the offsets around that gap
};

void instants(const zone_ref& z, local_days d, seconds tod, std::vector<candidate>& out) {
    const local_seconds lt = local_seconds{d} + tod;
    if (!z.tz) {
        out.push_back({sys_seconds{(lt - z.offset).time_since_epoch()}, d});
        return;
    }
    const auto info = z.tz->get_info(lt);
    switch (info.result) {
    case date::local_info::unique:
        out.push_back({sys_seconds{(lt - info.first.offset).time_since_epoch()}, d});
        break;
    case date::local_info::ambiguous:
        out.push_back({sys_seconds{(lt - info.first.offset).time_since_epoch()}, d});
        out.push_back({sys_seconds{(lt - info.second.offset).time_since_epoch()}, d});
        break;
    case date::local_info::nonexistent:
        // Ranked at the moment of the jump, so a gap inside the window is reported, not skipped.
        out.push_back({info.first.end, d, true, info.first.offset, info.second.offset});
        break;
    }
}

seconds distance(sys_seconds t, const context& ctx) {
    if (t < ctx.window_start) return ctx.window_start - t;
    if (t > ctx.window_end) return t - ctx.window_end;
    return seconds{0};
}

bool inside(sys_seconds t, const context& ctx) {
    return t >= ctx.window_start && t <= ctx.window_end;
}

// The earliest candidate inside the window, else the one nearest to it (the earlier on a tie).
std::optional<candidate> pick(std::vector<candidate> cs, const context& ctx) {
    std::sort(cs.begin(), cs.end(), [](const candidate& a, const candidate& b) { return a.t < b.t; });
    std::optional<candidate> best;
    for (const auto& c : cs)
        if (!best || distance(c.t, ctx) < distance(best->t, ctx)) best = c;
    return best;
}

bool any_inside(const std::vector<candidate>& cs, const context& ctx) {
    return std::any_of(cs.begin(), cs.end(), [&](const candidate& c) { return inside(c.t, ctx); });
}

seconds time_of_day(const point& p) {
    return hours{p.hour} + std::chrono::minutes{p.minute} + seconds{p.second};
}

zone_ref zone_of(const point& p, const zone_ref& fallback) {
    if (!p.zone) return fallback;
    if (p.zone->named) return zone_ref{p.zone->tz, seconds{0}};
    return zone_ref{nullptr, p.zone->offset};
}

// Local dates a point may fall on: the one written, or every date near the window.
std::vector<local_days> dates_for(const point& p, const zone_ref& z, const context& ctx) {
    if (p.date) return {local_days{*p.date}};
    if (p.day_shift) return {local_day(writer_zone(ctx), ctx.now) + date::days{*p.day_shift}};
    const auto first = local_day(z, ctx.window_start) - date::days{2};
    const auto last = local_day(z, std::max(ctx.window_start, ctx.window_end)) + date::days{2};
    std::vector<local_days> out;
    for (auto d = first; d <= last; d += date::days{1})
        out.push_back(d);
    return out;
}

std::vector<candidate> candidates(const std::vector<local_days>& days, const zone_ref& z, seconds tod) {
    std::vector<candidate> out;
    for (const auto d : days)
        instants(z, d, tod, out);
    return out;
}

candidate resolve_start(const point& p, const zone_ref& z, const context& ctx) {
    const auto days = dates_for(p, z, ctx);
    const auto c24 = candidates(days, z, time_of_day(p));
    if (p.may_be_12h && !any_inside(c24, ctx)) {
        const auto c12 = candidates(days, z, time_of_day(p) + hours{12});
        if (any_inside(c12, ctx)) return *pick(c12, ctx);
    }
    return *pick(c24, ctx);
}

// The first instant at or after `from` that reads as written.
std::optional<candidate> first_from(const std::vector<candidate>& cs, sys_seconds from) {
    std::optional<candidate> best;
    for (const auto& c : cs)
        if (c.t >= from && (!best || c.t < best->t)) best = c;
    return best;
}

std::optional<candidate> resolve_end(const point& p, const zone_ref& z, sys_seconds from,
                                     const context& ctx) {
    std::vector<local_days> days;
    if (p.date || p.day_shift) {
        days = dates_for(p, z, ctx);
    } else {
        const auto d = local_day(z, from);
        days = {d - date::days{1}, d, d + date::days{1}, d + date::days{2}};
    }
    const auto e24 = first_from(candidates(days, z, time_of_day(p)), from);
    if (p.may_be_12h && (!e24 || !inside(e24->t, ctx))) {
        const auto e12 = first_from(candidates(days, z, time_of_day(p) + hours{12}), from);
        if (e12 && inside(e12->t, ctx)) return e12;
    }
    return e24;
}

std::string gap_problem(std::string_view written, const candidate& c, const zone_ref& z) {
    const auto jump = c.t;
    const auto from = date::format("%H:%M", local_seconds{(jump + c.before).time_since_epoch()});
    const auto to = date::format("%H:%M", local_seconds{(jump + c.after).time_since_epoch()});
    return quoted(written) + " does not exist in " + (z.tz ? z.tz->name() : std::string("that zone")) +
           ": on " + date::format("%Y-%m-%d", c.day) + " the clocks jumped from " + from + " to " + to + ".";
}

reading resolve(const expression& e, std::string_view written, const context& ctx) {
    reading r;
    r.approximate = e.approximate;
    const zone_ref writer = writer_zone(ctx);
    const zone_ref zs = zone_of(e.start, writer);
    const candidate start = resolve_start(e.start, zs, ctx);
    if (start.gap) {
        r.st = reading::status::nonexistent;
        r.problem = gap_problem(written, start, zs);
        return r;
    }
    r.at = start.t;
    r.st = reading::status::ok;
    zone_ref ze = zs;
    if (e.end) {
        ze = zone_of(*e.end, zs);
        const auto end = resolve_end(*e.end, ze, start.t, ctx);
        if (!end) {
            r.st = reading::status::unreadable;
            r.problem = quoted(written) + " ends before it starts.";
            return r;
        }
        if (end->gap) {
            r.st = reading::status::nonexistent;
            r.problem = gap_problem(written, *end, ze);
            return r;
        }
        r.end = end->t;
    }

    const auto check = [&](sys_seconds t, const zone_ref& z, bool secs, const char* verb) {
        const auto when = quoted(written) + " " + verb + " " + describe(t, z, secs);
        if (t > ctx.now) {
            r.st = reading::status::future;
            r.problem = when + ", which is after the moment you typed it.";
        } else if (t < ctx.window_start - hours{24}) {
            r.st = reading::status::outside_window;
            r.problem = when + ", more than 24 hours before the incident window, which starts " +
                        describe(ctx.window_start, z, false) + ".";
        } else if (t > ctx.window_end + hours{24}) {
            r.st = reading::status::outside_window;
            r.problem = when + ", more than 24 hours after the incident window, which ends " +
                        describe(ctx.window_end, z, false) + ".";
        }
        return r.st == reading::status::ok;
    };
    if (check(*r.at, zs, e.start.with_seconds, "reads as") && r.end)
        check(*r.end, ze, e.end->with_seconds, "ends at");
    return r;
}

// Shared by read_step and read_time: reads the expression at the start of `s`; `tail` is the
// position after it (before any separator), or npos when nothing could be read.
reading read_start(std::string_view s, const context& ctx, std::size_t& tail) {
    tail = std::string_view::npos;
    reading r;
    r.rest = std::string(trim(s)); // nothing is lost when the time cannot be read
    const auto t = trim(s);
    if (t.empty()) {
        r.problem = "The line is empty: it needs a time at the start.";
        return r;
    }
    if (t.front() == '?') {
        r.st = reading::status::untimed;
        r.rest = std::string(trim(t.substr(1)));
        tail = 0;
        return r;
    }
    parser ps(s);
    expression e;
    const outcome o = parse_expression(ps, s, e);
    if (o == outcome::error) {
        r.st = ps.error_status_;
        r.problem = ps.error_;
        return r;
    }
    if (o == outcome::no_match) {
        r.problem = "There is no time I can read at the start of this line.";
        return r;
    }
    r = resolve(e, ps.text(e.begin, e.finish), ctx);
    tail = e.finish;
    return r;
}

} // namespace

reading read_step(std::string_view line, const context& ctx) {
    std::size_t tail = 0;
    reading r = read_start(line, ctx, tail);
    if (r.st == reading::status::untimed) return r;
    if (tail == std::string_view::npos) return r;
    // After the time: nothing, spaces, or a separator ("-", "–", "—", ":", ",", ";", ".") and a
    // space.
    std::size_t i = skip_spaces(line, tail);
    const bool spaced = i > tail;
    std::size_t sep = dash_len(line, i);
    if (!sep && i < line.size() && (line[i] == ':' || line[i] == ',' || line[i] == ';' || line[i] == '.'))
        sep = 1;
    if (sep && (i + sep == line.size() || space_len(line, i + sep))) {
        i += sep;
    } else if (!spaced && i < line.size()) {
        // Letters glued to the time ("14:05x", "2pmish"): not a time the reader can trust.
        std::size_t word_end = i;
        while (word_end < line.size() && !space_len(line, word_end))
            ++word_end;
        const auto begin = skip_spaces(line, 0);
        r = reading{};
        r.problem = quoted(line.substr(begin, word_end - begin)) + " is not a time I can read.";
        r.rest = std::string(trim(line));
        return r;
    }
    r.rest = std::string(trim(line.substr(i)));
    return r;
}

reading read_time(std::string_view expr, const context& ctx) {
    std::size_t tail = 0;
    reading r = read_start(expr, ctx, tail);
    if (tail == std::string_view::npos || r.st == reading::status::untimed) return r;
    const auto extra = trim(expr.substr(tail));
    if (!extra.empty()) {
        r = reading{};
        r.problem = quoted(extra) + " is not part of a time.";
        r.rest = std::string(trim(expr));
    }
    return r;
}

std::optional<std::string> canonical_zone(std::string_view name) {
    if (const auto* z = find_zone(name)) return z->name();
    return std::nullopt;
}

bool valid_zone(std::string_view name) {
    return find_zone(name) != nullptr;
}

std::string format(sys_seconds t, std::string_view zone, const char* fmt) {
    if (!fmt) return {};
    if (const auto* z = find_zone(zone)) return date::format(fmt, date::make_zoned(z, t));
    return date::format(fmt, t);
}

} // namespace pm::conv::times

// Reading timeline times (SPEC §4 "Times"): every accepted form, the date rules, DST, rejections.
#include <date/date.h>
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conversations/times.hpp"

namespace t = pm::conv::times;
using st = t::reading::status;

namespace {

t::sys_seconds utc(const char* iso) {
    std::istringstream in{iso};
    t::sys_seconds out;
    in >> date::parse("%Y-%m-%dT%H:%M:%SZ", out);
    REQUIRE_MESSAGE(!in.fail(), "bad test instant ", iso);
    return out;
}

std::string iso(const std::optional<t::sys_seconds>& s) {
    return s ? date::format("%Y-%m-%dT%H:%M:%SZ", *s) : std::string{};
}

t::context ctx(const char* zone, const char* start, const char* end, const char* now) {
    return t::context{zone, utc(start), utc(end), utc(now)};
}

// One line and what it must read as; "" for an instant that must stay unset.
struct row {
    const char* line;
    st status;
    const char* at;
    const char* end = "";
    const char* rest = "x";
    bool approximate = false;
};

void check_rows(const t::context& c, const std::vector<row>& rows) {
    for (const auto& r : rows) {
        const std::string line = r.line;
        CAPTURE(line);
        const auto got = t::read_step(r.line, c);
        CHECK(got.st == r.status);
        CHECK(iso(got.at) == r.at);
        CHECK(iso(got.end) == r.end);
        CHECK(got.rest == r.rest);
        CHECK(got.approximate == r.approximate);
        // A person is told what went wrong exactly when the line is not taken as it is.
        CHECK(got.problem.empty() == (r.status == st::ok || r.status == st::untimed));
    }
}

// Incident 13:00–16:00 UTC on 2026-11-20, lines typed at 17:00 UTC.
const char* const day_start = "2026-11-20T13:00:00Z";
const char* const day_end = "2026-11-20T16:00:00Z";
const char* const day_now = "2026-11-20T17:00:00Z";

} // namespace

TEST_CASE("times: every accepted form, read in UTC") {
    check_rows(ctx("UTC", day_start, day_end, day_now),
               {
                   {"14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05:30 x", st::ok, "2026-11-20T14:05:30Z"},
                   {"2:05pm x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2:05 PM x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2:05 p.m. x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2pm x", st::ok, "2026-11-20T14:00:00Z"},
                   {"2 Pm x", st::ok, "2026-11-20T14:00:00Z"},
                   {"noon x", st::ok, "2026-11-20T12:00:00Z"},
                   {"NOON x", st::ok, "2026-11-20T12:00:00Z"},
                   {"14h05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14.05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05Z x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05 UTC x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05 gmt x", st::ok, "2026-11-20T14:05:00Z"},
                   {"16:05 UTC+2 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05 +01:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05 +0100 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05 +01 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05+01:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"09:05 -05:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"19:35 +05:30 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05 Europe/Berlin x", st::ok, "2026-11-20T14:05:00Z"},
                   {"15:05 europe/berlin x", st::ok, "2026-11-20T14:05:00Z"},
                   {"06:05 America/Los_Angeles x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2026-11-20 14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2026-11-20T14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2026-11-20T14:05:30Z x", st::ok, "2026-11-20T14:05:30Z"},
                   {"2026-11-20T14:05:30.750Z x", st::ok, "2026-11-20T14:05:30Z"},
                   {"2026-11-20T16:05:00+02:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2026-11-20T09:05:00-05:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"today 14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"Yesterday 13:00 x", st::ok, "2026-11-19T13:00:00Z"},
                   {"~14:05 x", st::ok, "2026-11-20T14:05:00Z", "", "x", true},
                   {"~ 2pm x", st::ok, "2026-11-20T14:00:00Z", "", "x", true},
                   {"14:05-14:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"14:05 - 14:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"14:05\xE2\x80\x93"
                    "14:20 x",
                    st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"2pm-3pm x", st::ok, "2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z"},
                   {"14:05:10-14:05:50 x", st::ok, "2026-11-20T14:05:10Z", "2026-11-20T14:05:50Z"},
                   {"~14:05-14:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z", "x", true},
                   // A glued dash is a span where no real offset could be meant (offsets stop at -12:00).
                   {"14:05 UTC-14:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"2026-11-20T14:05-14:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"09:05 UTC-05:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   // The end inherits the start's offset unless it has its own.
                   {"15:05+01:00-15:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   {"15:05 +01:00-14:20Z x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
               });
}

TEST_CASE("times: zone abbreviations in capitals, and a leading or day-word \"at\"") {
    check_rows(ctx("UTC", day_start, day_end, day_now),
               {
                   {"15:05 CET x", st::ok, "2026-11-20T14:05:00Z"},
                   {"16:05 CEST x", st::ok, "2026-11-20T14:05:00Z"},
                   {"09:05 EST x", st::ok, "2026-11-20T14:05:00Z"},
                   {"06:05 PST x", st::ok, "2026-11-20T14:05:00Z"},
                   {"23:05 JST x", st::ok, "2026-11-20T14:05:00Z"},
                   // The generic names follow daylight saving: New York is on EST in November.
                   {"09:05 ET x", st::ok, "2026-11-20T14:05:00Z"},
                   {"6:05am PT x", st::ok, "2026-11-20T14:05:00Z"},
                   // Lower case, or a word that is no abbreviation, stays text.
                   {"14:05 cet x", st::ok, "2026-11-20T14:05:00Z", "", "cet x"},
                   {"14:05 IST x", st::ok, "2026-11-20T14:05:00Z", "", "IST x"},
                   {"at 14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"today at 14:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"yesterday at 11pm x", st::ok, "2026-11-19T23:00:00Z"},
                   {"at the gate x", st::unreadable, "", "", "at the gate x"},
               });
}

TEST_CASE("times: 12 pm is noon and 12 am is midnight") {
    check_rows(ctx("UTC", "2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z", "2026-11-21T02:00:00Z"),
               {
                   {"12am x", st::ok, "2026-11-21T00:00:00Z"},
                   {"12:30 am x", st::ok, "2026-11-21T00:30:00Z"},
                   {"midnight x", st::ok, "2026-11-21T00:00:00Z"},
                   {"12pm x", st::ok, "2026-11-20T12:00:00Z"},
                   {"12:30pm x", st::ok, "2026-11-20T12:30:00Z"},
                   {"noon x", st::ok, "2026-11-20T12:00:00Z"},
               });
}

TEST_CASE("times: rest is the exact text after the time and its separator") {
    check_rows(ctx("UTC", day_start, day_end, day_now),
               {
                   {"14:05 restarted api-3", st::ok, "2026-11-20T14:05:00Z", "", "restarted api-3"},
                   {"  14:05   restarted  api  ", st::ok, "2026-11-20T14:05:00Z", "", "restarted  api"},
                   {"14:05 - restarted", st::ok, "2026-11-20T14:05:00Z", "", "restarted"},
                   {"14:05: restarted", st::ok, "2026-11-20T14:05:00Z", "", "restarted"},
                   {"14:05, restarted", st::ok, "2026-11-20T14:05:00Z", "", "restarted"},
                   {"14:05. Restarted", st::ok, "2026-11-20T14:05:00Z", "", "Restarted"},
                   {"14:05; restarted", st::ok, "2026-11-20T14:05:00Z", "", "restarted"},
                   {"14:05 \xE2\x80\x94 restarted", st::ok, "2026-11-20T14:05:00Z", "", "restarted"},
                   {"14:05 \xE2\x80\x93 saw: error rate fell", st::ok, "2026-11-20T14:05:00Z", "",
                    "saw: error rate fell"},
                   {"14:05", st::ok, "2026-11-20T14:05:00Z", "", ""},
                   {"14:05 -", st::ok, "2026-11-20T14:05:00Z", "", ""},
                   {"2:05\xE2\x80\xAFPM paged db", st::ok, "2026-11-20T14:05:00Z", "", "paged db"},
                   {"14:05 - 2 pods restarted", st::ok, "2026-11-20T14:05:00Z", "", "2 pods restarted"},
                   // A path is text, not a zone.
                   {"14:05 api/v2 returned 500s", st::ok, "2026-11-20T14:05:00Z", "", "api/v2 returned 500s"},
                   {"? asked #db for help", st::untimed, "", "", "asked #db for help"},
                   {"?", st::untimed, "", "", ""},
               });
}

TEST_CASE("times: a local time is read in the writer's zone, an explicit zone overrides it") {
    // 14:00–17:00 CET.
    check_rows(ctx("Europe/Berlin", day_start, day_end, day_now),
               {
                   {"15:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"3:05pm x", st::ok, "2026-11-20T14:05:00Z"},
                   {"3:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05Z x", st::ok, "2026-11-20T14:05:00Z"},
                   {"14:05 UTC x", st::ok, "2026-11-20T14:05:00Z"},
                   {"16:05 +02:00 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"19:35 Asia/Kolkata x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2026-11-20 15:05 x", st::ok, "2026-11-20T14:05:00Z"},
               });
    check_rows(
        ctx("America/Los_Angeles", "2024-01-15T20:00:00Z", "2024-01-15T23:00:00Z", "2024-01-16T00:00:00Z"),
        {{"14:05 x", st::ok, "2024-01-15T22:05:00Z"}});
    check_rows(
        ctx("Asia/Kolkata", day_start, day_end, day_now),
        {{"19:35:30 x", st::ok, "2026-11-20T14:05:30Z"}, {"7:35pm x", st::ok, "2026-11-20T14:05:00Z"}});
    // Lord Howe keeps half-hour summer time: +11:00 in November.
    check_rows(ctx("Australia/Lord_Howe", day_start, day_end, day_now),
               {{"01:05 x", st::ok, "2026-11-20T14:05:00Z"}});
}

TEST_CASE("times: a window across midnight") {
    check_rows(
        ctx("UTC", "2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z", "2026-11-21T02:00:00Z"),
        {
            {"23:50 x", st::ok, "2026-11-20T23:50:00Z"},
            {"00:10 x", st::ok, "2026-11-21T00:10:00Z"},
            {"23:50-00:10 x", st::ok, "2026-11-20T23:50:00Z", "2026-11-21T00:10:00Z"},
            {"23:00-midnight x", st::ok, "2026-11-20T23:00:00Z", "2026-11-21T00:00:00Z"},
            {"2026-11-20 23:50 - 2026-11-21 00:10 x", st::ok, "2026-11-20T23:50:00Z", "2026-11-21T00:10:00Z"},
        });
    // The same night in Berlin: 00:00–02:00 CET on the 21st.
    check_rows(ctx("Europe/Berlin", "2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z", "2026-11-21T02:00:00Z"),
               {
                   {"00:50 x", st::ok, "2026-11-20T23:50:00Z"},
                   {"23:55-01:10 x", st::ok, "2026-11-20T22:55:00Z", "2026-11-21T00:10:00Z"},
               });
}

TEST_CASE("times: a dateless time takes the day inside the window nearest the window start") {
    // A 24-hour window holds 13:00 twice, at both (inclusive) ends: the first one counts.
    check_rows(ctx("UTC", "2026-11-20T13:00:00Z", "2026-11-21T13:00:00Z", "2026-11-21T14:00:00Z"),
               {
                   {"13:00 x", st::ok, "2026-11-20T13:00:00Z"},
                   {"12:59 x", st::ok, "2026-11-21T12:59:00Z"},
               });
    // Outside the window: the nearest instant, before or after.
    check_rows(ctx("UTC", day_start, day_end, "2026-11-21T12:00:00Z"),
               {
                   {"18:00 x", st::ok, "2026-11-20T18:00:00Z"},
                   {"08:00 x", st::ok, "2026-11-20T08:00:00Z"},
               });
}

TEST_CASE("times: a bare h:mm is 12-hour only when that reading alone fits the window") {
    check_rows(ctx("UTC", day_start, day_end, day_now),
               {
                   {"2:05 x", st::ok, "2026-11-20T14:05:00Z"},
                   {"2:05-2:20 x", st::ok, "2026-11-20T14:05:00Z", "2026-11-20T14:20:00Z"},
                   // Neither reading fits: the 24-hour one, nearest the window.
                   {"9:00 x", st::ok, "2026-11-20T09:00:00Z"},
               });
    check_rows(ctx("UTC", "2026-11-20T01:00:00Z", "2026-11-20T03:00:00Z", "2026-11-20T04:00:00Z"),
               {{"2:05 x", st::ok, "2026-11-20T02:05:00Z"}});
    // A leading zero is plainly 24-hour: the nearest 02:05, not 14:05.
    check_rows(ctx("UTC", day_start, "2026-11-20T15:00:00Z", day_now),
               {{"2:05 x", st::ok, "2026-11-20T14:05:00Z"}, {"02:05 x", st::ok, "2026-11-20T02:05:00Z"}});
}

TEST_CASE("times: DST spring-forward gap is nonexistent") {
    // 2024-03-10 in Los Angeles: 02:00 PST jumps to 03:00 PDT (10:00Z). Window 01:00 PST – 04:00 PDT.
    const auto c =
        ctx("America/Los_Angeles", "2024-03-10T09:00:00Z", "2024-03-10T11:00:00Z", "2024-03-10T12:00:00Z");
    check_rows(c, {
                      {"02:30 x", st::nonexistent, ""},
                      {"2:30 x", st::nonexistent, ""},
                      {"2024-03-10 02:30 x", st::nonexistent, ""},
                      {"01:30 x", st::ok, "2024-03-10T09:30:00Z"},
                      {"03:30 x", st::ok, "2024-03-10T10:30:00Z"},
                      // An explicit zone is not in the gap.
                      {"10:30 UTC x", st::ok, "2024-03-10T10:30:00Z"},
                  });
    CHECK(t::read_step("02:30 x", c).problem ==
          "\xE2\x80\x9C"
          "02:30\xE2\x80\x9D does not exist in America/Los_Angeles: on 2024-03-10 the clocks jumped "
          "from 02:00 to 03:00.");
}

TEST_CASE("times: DST fall-back takes the earliest occurrence inside the window") {
    // 2024-11-03 in Los Angeles: 01:30 happens at 08:30Z (PDT) and again at 09:30Z (PST).
    const char* la = "America/Los_Angeles";
    const char* now = "2024-11-03T12:00:00Z";
    check_rows(ctx(la, "2024-11-03T08:00:00Z", "2024-11-03T10:00:00Z", now),
               {{"01:30 x", st::ok, "2024-11-03T08:30:00Z"},
                {"2024-11-03 01:30 x", st::ok, "2024-11-03T08:30:00Z"}});
    check_rows(ctx(la, "2024-11-03T09:00:00Z", "2024-11-03T10:00:00Z", now),
               {{"01:30 x", st::ok, "2024-11-03T09:30:00Z"},
                {"2024-11-03 01:30 x", st::ok, "2024-11-03T09:30:00Z"}});
    // Neither occurrence inside: the nearest.
    check_rows(ctx(la, "2024-11-03T10:00:00Z", "2024-11-03T11:00:00Z", now),
               {{"01:30 x", st::ok, "2024-11-03T09:30:00Z"}});
    // A span across the repeated hour ends at the first matching instant after its start.
    check_rows(ctx(la, "2024-11-03T08:00:00Z", "2024-11-03T10:00:00Z", now),
               {{"01:50-01:10 x", st::ok, "2024-11-03T08:50:00Z", "2024-11-03T09:10:00Z"}});
}

TEST_CASE("times: today and yesterday follow the writer's local date") {
    // 20:00Z is already 01:30 on the 21st in Kolkata.
    check_rows(ctx("Asia/Kolkata", "2026-11-20T17:00:00Z", "2026-11-20T20:00:00Z", "2026-11-20T20:00:00Z"),
               {
                   {"yesterday 23:50 x", st::ok, "2026-11-20T18:20:00Z"},
                   {"today 00:30 x", st::ok, "2026-11-20T19:00:00Z"},
                   {"23:50 x", st::ok, "2026-11-20T18:20:00Z"},
               });
    // 03:00Z on the 21st is still the 20th in Los Angeles.
    check_rows(
        ctx("America/Los_Angeles", "2026-11-20T21:00:00Z", "2026-11-21T01:00:00Z", "2026-11-21T03:00:00Z"),
        {
            {"today 14:05 x", st::ok, "2026-11-20T22:05:00Z"},
            {"TODAY 2:05pm x", st::ok, "2026-11-20T22:05:00Z"},
            {"yesterday 14:05 x", st::ok, "2026-11-19T22:05:00Z"},
        });
}

TEST_CASE("times: future and outside-window times are rejected, keeping the reading and the text") {
    const auto c = ctx("UTC", day_start, day_end, day_now);
    check_rows(c, {
                      {"17:30 x", st::future, "2026-11-20T17:30:00Z"},
                      {"tomorrow 14:05 x", st::future, "2026-11-21T14:05:00Z"},
                      {"14:05-17:20 x", st::future, "2026-11-20T14:05:00Z", "2026-11-20T17:20:00Z"},
                      {"2026-11-18 14:05 x", st::outside_window, "2026-11-18T14:05:00Z"},
                      {"yesterday 12:59:59 x", st::outside_window, "2026-11-19T12:59:59Z"},
                      // Exactly 24 hours outside is still fine.
                      {"yesterday 13:00 x", st::ok, "2026-11-19T13:00:00Z"},
                      {"17:00 x", st::ok, "2026-11-20T17:00:00Z"},
                  });
    CHECK(t::read_step("17:30 x", c).problem ==
          "\xE2\x80\x9C"
          "17:30\xE2\x80\x9D reads as 2026-11-20 17:30 UTC, which is after the moment you typed it.");
    CHECK(t::read_step("2026-11-18 14:05 x", c).problem ==
          "\xE2\x80\x9C"
          "2026-11-18 14:05\xE2\x80\x9D reads as 2026-11-18 14:05 UTC, more than 24 hours before the "
          "incident window, which starts 2026-11-20 13:00 UTC.");
    // After the window, but typed much later.
    const auto late = ctx("UTC", day_start, day_end, "2026-11-23T00:00:00Z");
    check_rows(late, {{"2026-11-22 16:00:01 x", st::outside_window, "2026-11-22T16:00:01Z"},
                      {"2026-11-21 16:00 x", st::ok, "2026-11-21T16:00:00Z"}});
}

TEST_CASE("times: unreadable lines and bad zones keep the whole line") {
    const auto c = ctx("UTC", day_start, day_end, day_now);
    const std::vector<const char*> unreadable = {"restarted api",
                                                 "25:00 x",
                                                 "",
                                                 "   ",
                                                 "pm",
                                                 "pm x",
                                                 "13pm x",
                                                 "0am x",
                                                 "14:75 x",
                                                 "14:05:61 x",
                                                 "2026-02-30 14:05 x",
                                                 "2026-11-20 x",
                                                 "today x",
                                                 "14:05x",
                                                 "2pmish",
                                                 "14:5 x",
                                                 "15:05 +15:00 x",
                                                 "14:05-25:00 x",
                                                 "24:00 x",
                                                 "1405 x"};
    for (const std::string line : unreadable) {
        CAPTURE(line);
        const auto got = t::read_step(line, c);
        CHECK(got.st == st::unreadable);
        CHECK(!got.at);
        const auto first = line.find_first_not_of(' ');
        CHECK(got.rest == (first == std::string::npos ? "" : line.substr(first)));
        CHECK(!got.problem.empty());
    }
    CHECK(t::read_step("25:00 x", c).problem ==
          "\xE2\x80\x9C"
          "25:00\xE2\x80\x9D is not a time of day: hours go from 0 to 23.");
    CHECK(t::read_step("13pm x", c).problem ==
          "\xE2\x80\x9C"
          "13pm\xE2\x80\x9D is not a time: with am or pm the hour goes from 1 to 12.");
    CHECK(t::read_step("restarted api", c).problem ==
          "There is no time I can read at the start of this line.");

    const auto bad = t::read_step("14:05 Europe/Berlln restarted", c);
    CHECK(bad.st == st::bad_zone);
    CHECK(bad.rest == "14:05 Europe/Berlln restarted");
    CHECK(bad.problem == "\xE2\x80\x9C"
                         "Europe/Berlln\xE2\x80\x9D is not a time zone I know.");
}

TEST_CASE("times: read_time takes a whole expression, window = the last 24 hours") {
    const auto c = ctx("UTC", "2026-11-19T17:00:00Z", day_now, day_now);
    CHECK(iso(t::read_time("14:05", c).at) == "2026-11-20T14:05:00Z");
    CHECK(iso(t::read_time("18:00", c).at) == "2026-11-19T18:00:00Z");
    CHECK(iso(t::read_time(" 2026-11-20T14:05:00+02:00 ", c).at) == "2026-11-20T12:05:00Z");
    CHECK(t::read_time("14:05", c).st == st::ok);
    CHECK(t::read_time("14:05 restarted", c).st == st::unreadable);
    CHECK(t::read_time("soon", c).st == st::unreadable);
    CHECK(t::read_time("tomorrow 9am", c).st == st::future);
}

TEST_CASE("times: zone names and formatting") {
    CHECK(t::valid_zone("UTC"));
    CHECK(t::valid_zone("Europe/Berlin"));
    CHECK(t::valid_zone("america/los_angeles"));
    CHECK_FALSE(t::valid_zone("Europe/Berlln"));
    CHECK_FALSE(t::valid_zone(""));
    CHECK(t::canonical_zone("europe/berlin") == std::optional<std::string>{"Europe/Berlin"});
    CHECK_FALSE(t::canonical_zone("Mars/Olympus"));

    const auto at = utc("2026-11-20T14:05:30Z");
    CHECK(t::format(at, "Europe/Berlin", "%Y-%m-%d %H:%M") == "2026-11-20 15:05");
    CHECK(t::format(at, "Asia/Kolkata", "%H:%M:%S %Z") == "19:35:30 IST");
    CHECK(t::format(at, "Nowhere/Else", "%H:%M %Z") == "14:05 UTC");
}

// The labelled corpus in tests/data/time_corpus.tsv: lines as participants type them, in many
// zones, windows and DST edges, each with the reading SPEC §4 "Times" gives. Columns: zone, now,
// window start, window end, line, status, at, end, approximate, rest ("-" for none). Every row
// must read exactly so (instants only for lines read as ok: a refused line is asked again).
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (;;) {
        auto tab = line.find('\t', from);
        out.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
        if (tab == std::string::npos) return out;
        from = tab + 1;
    }
}

const char* name(st s) {
    switch (s) {
    case st::ok:
        return "ok";
    case st::untimed:
        return "untimed";
    case st::unreadable:
        return "unreadable";
    case st::future:
        return "future";
    case st::outside_window:
        return "outside_window";
    case st::nonexistent:
        return "nonexistent";
    case st::bad_zone:
        return "bad_zone";
    }
    return "?";
}

} // namespace

TEST_CASE("times: corpus") {
    std::ifstream f(PM_TEST_DATA "/time_corpus.tsv");
    REQUIRE(f);
    std::string line;
    int n = 0, rows = 0;
    while (std::getline(f, line)) {
        ++n;
        if (line.empty() || line.front() == '#') continue;
        auto c = split_tabs(line);
        REQUIRE_MESSAGE(c.size() == 10, "corpus line ", n, " has ", c.size(), " columns");
        ++rows;
        t::context ctx{c[0], utc(c[2].c_str()), utc(c[3].c_str()), utc(c[1].c_str())};
        auto r = t::read_step(c[4], ctx);
        INFO("corpus line ", n, ": [", c[4], "] in ", c[0], ", typed ", c[1], ", window ", c[2], " .. ",
             c[3]);
        CHECK(std::string(name(r.st)) == c[5]);
        // The instants of a refused line are not part of the reading (the line is asked again).
        if (r.st == st::ok) {
            CHECK(iso(r.at) == (c[6] == "-" ? "" : c[6]));
            CHECK(iso(r.end) == (c[7] == "-" ? "" : c[7]));
            CHECK(r.approximate == (c[8] == "1"));
        }
        if (c[9] != "-") CHECK(r.rest == c[9]);
    }
    MESSAGE("time corpus: ", rows, " lines checked");
    CHECK(rows > 0);
}

// Time reading against a labelled corpus (tests/data/time_corpus.tsv): lines as participants type
// them, in many zones, windows and DST edges, each with the reading SPEC §4 "Times" gives.
// Columns: zone, now, window start, window end, line, status, at, end, approximate, rest ("-" for
// none). Every row must read exactly so (instants only for lines read as ok); the test prints the
// count it checked.
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

t::sys_seconds instant(const std::string& iso) {
    std::istringstream in{iso};
    t::sys_seconds out;
    in >> date::parse("%Y-%m-%dT%H:%M:%SZ", out);
    REQUIRE_MESSAGE(!in.fail(), "bad instant in the corpus: ", iso);
    return out;
}

std::string show(const std::optional<t::sys_seconds>& s) {
    return s ? date::format("%Y-%m-%dT%H:%M:%SZ", *s) : std::string("-");
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
        t::context ctx{c[0], instant(c[2]), instant(c[3]), instant(c[1])};
        auto r = t::read_step(c[4], ctx);
        INFO("corpus line ", n, ": [", c[4], "] in ", c[0], ", typed ", c[1], ", window ", c[2], " .. ",
             c[3]);
        CHECK(std::string(name(r.st)) == c[5]);
        // The instants of a refused line are not part of the reading (the line is asked again).
        if (r.st == st::ok) {
            CHECK(show(r.at) == c[6]);
            CHECK(show(r.end) == c[7]);
            CHECK(r.approximate == (c[8] == "1"));
        }
        if (c[9] != "-") CHECK(r.rest == c[9]);
    }
    MESSAGE("time corpus: ", rows, " lines checked");
    CHECK(rows > 0);
}

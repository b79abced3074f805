#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "conversations/summary.hpp"
#include "conversations/text.hpp"
#include "harness.hpp"

using namespace pm;
using test::harness;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Compares with tests/data/golden/<name>; PM_UPDATE_GOLDEN=1 rewrites the file instead.
void golden(const std::string& name, const std::string& actual) {
    const std::string path = std::string(PM_TEST_DATA) + "/golden/" + name;
    if (std::getenv("PM_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        return;
    }
    CHECK(slurp(path) == actual);
}

// Two people in different zones, interleaved; a gap, a conflict, an out-of-order line, an
// untimed step, a private answer and hostile text.
harness scripted(bool anonymous) {
    harness h;
    h.say("alice",
          std::string("/postmortem start DB failover @bob --at 13:00") + (anonymous ? " --anonymous" : ""));
    h.say("bob", "/postmortem tz Europe/Berlin");
    h.say("alice", "A page from the pager");
    h.say("bob", "A message in #ops");
    h.say("alice", "13:58 saw errors spike on the api dashboard\n14:05 restarted api-3");
    h.say("bob", "15:02 replication lag on db-2\n? asked #db for help");
    h.say("alice", "14:50 rolled back the deploy\n14:40 paused the queue consumers");
    h.say("bob", "15:58 rolled back the deploy <!channel> @here [x](http://evil)");
    h.say("alice", "done");
    h.say("bob", "done");
    h.say("alice", "The dashboard");
    h.say("bob", "private: I was also on call for payments");
    return h;
}

} // namespace

TEST_CASE("summary: merged timeline, gaps, conflicts and flags (golden)") {
    harness h = scripted(false);
    const auto& p = h.w.postmortems.at("PM-1");
    auto m = conv::compile_summary(h.w, p, h.eng.config(), false);
    REQUIRE(m.timed.size() == 6);
    CHECK(m.timed[0].lane == "alice");
    CHECK(m.timed[0].text == "saw errors spike on the api dashboard");
    CHECK(m.timed[1].lane == "bob"); // 15:02 Berlin = 14:02 UTC
    CHECK(*m.timed[1].at == test::at("2026-11-20 14:02:00"));
    CHECK(m.timed[3].text == "paused the queue consumers");
    CHECK(m.timed[3].out_of_order);
    REQUIRE(m.untimed.size() == 1);
    CHECK(m.untimed[0].text == "asked #db for help");
    REQUIRE(m.gaps.size() == 1);
    CHECK(m.gaps[0].from == test::at("2026-11-20 14:05:00"));
    CHECK(m.gaps[0].to == test::at("2026-11-20 14:40:00"));
    REQUIRE(m.conflicts.size() == 1);
    CHECK(m.conflicts[0].minutes == 8);
    golden("summary.md", conv::render_markdown(h.w, p, h.eng.config(), false));
    golden("summary-full.md", conv::render_markdown(h.w, p, h.eng.config(), true));
    golden("summary.json", conv::render_json(h.w, p, h.eng.config()));
}

TEST_CASE("summary: anonymous mode (golden)") {
    harness h = scripted(true);
    const auto md = conv::render_markdown(h.w, h.w.postmortems.at("PM-1"), h.eng.config(), false);
    CHECK(md.find("alice") == std::string::npos);
    CHECK(md.find("bob") == std::string::npos);
    golden("summary-anonymous.md", md);
}

TEST_CASE("summary: markdown escaping keeps hostile text literal") {
    using conv::text::markdown_escape;
    CHECK(markdown_escape("[x](http://evil)") == "\\[x\\](http://evil)");
    CHECK(markdown_escape("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>");
    CHECK(markdown_escape("# not a heading") == "\\# not a heading");
    CHECK(markdown_escape("1. not a list") == "1\\. not a list");
    CHECK(markdown_escape("a *b* _c_ `d`") == "a \\*b\\* \\_c\\_ \\`d\\`");
    CHECK(markdown_escape("x & y") == "x &amp; y");
    CHECK(markdown_escape("line\n- item") == "line  \n\\- item");
    CHECK(markdown_escape("14:05 #db") == "14:05 #db");
}

TEST_CASE("summary: slugs") {
    using conv::text::slug;
    CHECK(slug("DB failover") == "db-failover");
    CHECK(slug("  Ünïcode — and   spaces!! ") == "n-code-and-spaces");
    CHECK(slug("a very long title that goes on and on and on forever") ==
          "a-very-long-title-that-goes-on-and-on-an");
    CHECK(slug("!!!") == "postmortem");
}

TEST_CASE("summary: a span covers the entries inside it, the gap starts where the latest one ends") {
    harness h;
    h.say("alice", "/postmortem start Long failover --at 09:00");
    h.say("alice", "A page");
    h.say("alice",
          "10:00-12:00 failover running\n10:30 checked replication\n11:45 saw lag fall\n13:00 all clear");
    const auto& p = h.w.postmortems.at("PM-1");
    auto m = conv::compile_summary(h.w, p, h.eng.config(), false);
    REQUIRE(m.timed.size() == 4);
    REQUIRE(m.gaps.size() == 1);
    CHECK(m.gaps[0].from == test::at("2026-11-20 12:00:00"));
    CHECK(m.gaps[0].to == test::at("2026-11-20 13:00:00"));
}

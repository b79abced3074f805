#include <doctest/doctest.h>
#include <toml++/toml.h>

#include "bot/rules_config.hpp"
#include "conversations/nudges.hpp"

namespace nd = pm::conv::nudges;

namespace {

const nd::ruleset& rules() {
    static const auto r = pm::bot::load_default_rules();
    return r;
}

bool blamed(std::string_view text) {
    return nd::first(text, rules()).has_value();
}

// A minimal rule set, so that matching is tested apart from the default heuristics.
nd::ruleset tiny() {
    nd::ruleset r;
    r.nudges.push_back(
        {"counterfactual", {"should have", "fault", "didn't check"}, "What did you know?", {}});
    r.nudges.push_back({"fault_ex", {"blame"}, "Which conditions?", {"git blame"}});
    return r;
}

} // namespace

TEST_CASE("nudges: whole words, case-insensitive") {
    const auto r = tiny();
    CHECK(nd::first("We SHOULD HAVE known", r));
    CHECK(nd::first("fault", r));
    CHECK_FALSE(nd::first("a segfault in the decoder", r));
    CHECK_FALSE(nd::first("the faulty disk", r));
    CHECK_FALSE(nd::first("it defaulted to us-east-1", r));
    CHECK_FALSE(nd::first("shouldhave", r));
    CHECK_FALSE(nd::first("should haveno", r));
}

TEST_CASE("nudges: multi-word phrases across whitespace, not across punctuation") {
    const auto r = tiny();
    const auto f = nd::first("we should\n   have\tknown", r);
    REQUIRE(f);
    CHECK(f->phrase == "should\n   have");
    CHECK(f->line == 1);
    CHECK(f->column == 4);
    CHECK_FALSE(nd::first("should, have", r));
    CHECK_FALSE(nd::first("should. Have", r));
}

TEST_CASE("nudges: apostrophes, straight and typographic") {
    const auto r = tiny();
    CHECK(nd::first("I didn't check", r));
    const auto f = nd::first("I didn\xE2\x80\x99t check", r);
    REQUIRE(f);
    CHECK(f->phrase == "didn\xE2\x80\x99t check");
    CHECK(f->length == std::string("didn\xE2\x80\x99t check").size());
}

TEST_CASE("nudges: quotes, code and quoted lines are evidence") {
    const auto r = tiny();
    CHECK_FALSE(nd::first("the log said \"should have been 3 replicas\"", r));
    CHECK_FALSE(nd::first("the log said \xE2\x80\x9Cshould have been 3\xE2\x80\x9D", r));
    CHECK_FALSE(nd::first("the error read 'should have a value' here", r));
    CHECK_FALSE(nd::first("the test `should have 3 rows` failed", r));
    CHECK_FALSE(nd::first("the test ``uses ` and should have`` failed", r));
    CHECK_FALSE(nd::first("> should have paged\nok", r));
    CHECK_FALSE(nd::first("  > should have paged", r));
    CHECK_FALSE(nd::first("log:\n```\nERROR should have fault\n```\ndone", r));
    CHECK_FALSE(nd::first("```\nunclosed block should have", r));
    // Apostrophes inside words do not open a quotation that would hide the rest.
    CHECK(nd::first("I didn't know, we should have asked", r));
    CHECK(nd::first("the users' sessions: we should have asked", r));
    // An unclosed quote or backtick is a plain mark.
    CHECK(nd::first("the \" mark, we should have asked", r));
    CHECK(nd::first("a ` mark, we should have asked", r));
    // A quote ends at the paragraph: a stray mark cannot hide the next paragraph.
    CHECK(nd::first("he said \"wait\n\nwe should have asked\"", r));
    // Text after a quote is the author's own again.
    const auto f = nd::first("\"fine\" but we should have asked", r);
    REQUIRE(f);
    CHECK(f->column == 15);
}

TEST_CASE("nudges: line, column and offset are exact across lines") {
    const auto r = tiny();
    const std::string text =
        "14:05 restarted api-3\n14:07 saw errors\n  we should have drained it; our fault";
    const auto all = nd::scan(text, r);
    REQUIRE(all.size() == 2);
    CHECK(all[0].line == 3);
    CHECK(all[0].column == 6);
    CHECK(all[0].offset == text.find("should"));
    CHECK(all[0].length == 11);
    CHECK(all[0].rule_id == "counterfactual");
    CHECK(all[0].reframe == "What did you know?");
    CHECK(all[1].phrase == "fault");
    CHECK(all[1].line == 3);
    CHECK(all[1].column == 34);
    CHECK(nd::first(text, r)->offset == all[0].offset);
}

TEST_CASE("nudges: exceptions, one finding per occurrence") {
    const auto r = tiny();
    CHECK_FALSE(nd::first("I ran git blame on it", r));
    CHECK(nd::first("don't blame the on-call", r));
    CHECK(nd::scan("fault, fault and fault", r).size() == 3);
    CHECK(nd::scan("", r).empty());
    CHECK_FALSE(nd::first("   \n ", r));
}

TEST_CASE("nudges: word classes and wildcards in phrases") {
    nd::ruleset r;
    r.words["person"] = {"he", "she"};
    r.words["participle"] = {"*ed", "known"};
    r.nudges.push_back({"cf", {"should have {participle}", "typical {@person}", "let * expire"}, "?", {}});
    CHECK(nd::first("he should have checked", r));
    CHECK(nd::first("she should have known", r));
    CHECK_FALSE(nd::first("we should have an alert", r));
    CHECK(nd::first("typical Greg", r));
    CHECK(nd::first("typical he", r));
    CHECK_FALSE(nd::first("typical deploy", r));
    CHECK(nd::first("he let certs expire", r));
}

TEST_CASE("nudges: the default rules, listed words") {
    CHECK(blamed("We should have caught this"));
    CHECK(blamed("In hindsight the plan was flawed"));
    CHECK(blamed("Why didn't you roll back?"));
    CHECK(blamed("Root cause: human error"));
    CHECK(blamed("I was careless"));
    CHECK(blamed("Obviously the TTL was too low"));
    CHECK(blamed("it was Bob's fault"));
    CHECK(blamed("that was a bad call"));
    CHECK(blamed("He forgot to drain the node"));
    CHECK(blamed("The alert was ignored"));
    CHECK(blamed("The page was missed by the secondary on-call"));
}

TEST_CASE("nudges: the default rules, a system as the subject is clean") {
    CHECK_FALSE(blamed("the health check failed to fire"));
    CHECK_FALSE(blamed("the job missed its window"));
    CHECK_FALSE(blamed("the disk was full because the cleanup job failed to run"));
    CHECK_FALSE(blamed("The replica missed three consecutive heartbeats"));
    CHECK_FALSE(blamed("after three missed heartbeats the node was fenced"));
    CHECK_FALSE(blamed("The SIGTERM was ignored by the process"));
    CHECK_FALSE(blamed("The fault was in the load balancer config"));
    CHECK_FALSE(blamed("Why didn't the circuit breaker open?"));
    CHECK_FALSE(blamed("a stupid race condition in the scheduler"));
    CHECK(blamed("Bob restarted the pod and forgot to drain it"));
    CHECK(blamed("Bob ran the cleanup without checking the bucket"));
    CHECK_FALSE(blamed("The cleanup script deletes files without checking the bucket"));
}

TEST_CASE("nudges: the default rules, proposals and technical terms are clean") {
    CHECK_FALSE(blamed("we should add an alert"));
    CHECK_FALSE(blamed("we should have an alert for this"));
    CHECK(blamed("we should have added an alert"));
    CHECK_FALSE(blamed("Next time, alert when the backup job fails to run"));
    for (const char* t : {"segfault", "error budget", "the fault injector", "fault tolerance", "a page fault",
                          "the default", "a faulty disk", "user error rate"})
        CHECK_MESSAGE(!blamed(t), t);
    CHECK_FALSE(blamed("It's nobody's fault"));
    // A proposal covers its own line only: the blame on the line before is still flagged.
    CHECK(blamed("Bob forgot to drain the node\nwe should add an alert"));
    CHECK_FALSE(blamed("we should add an alert\nthe backup job failed to run"));
}

TEST_CASE("nudges: the default rules, blame without the listed words") {
    for (const char* t :
         {"his fat finger took prod down", "classic PEBKAC", "nobody bothered to read the runbook", "RTFM",
          "layer 8 problem", "ID10T error", "The DBA dropped the wrong table", "That was my screwup",
          "Typical Greg, pushing on a Friday", "They cut corners on the migration"})
        CHECK_MESSAGE(blamed(t), t);
}

TEST_CASE("nudges: follow-ups") {
    const auto& r = rules();
    CHECK(nd::followup("the graph looked weird around 14:00", r) == "What exactly did you see?");
    CHECK(nd::followup("I NOTICED the spike", r) == "What exactly did you see?");
    CHECK(nd::followup("checkout was down", r) == "How could you tell?");
    CHECK(nd::followup("we went with the rollback", r) ==
          "What else was on the table? Had you done this before?");
    CHECK(nd::followup("I knew the replica was behind", r) == "Where did that knowledge come from?");
    CHECK(nd::followup("I was overwhelmed", r) == "What else was going on at that moment?");
    CHECK(nd::followup("normally it drains in a minute", r) == "What normally happens?");
    CHECK(nd::followup("I escalated to the IC", r) == "What made that the moment to do it?");
    CHECK(nd::followup("obviously it was DNS", r) == "What made it obvious, and to whom?");
    // The first rule in the table wins; quotes and code are skipped; whole words only.
    CHECK(nd::followup("I noticed it and escalated", r) == "What exactly did you see?");
    CHECK_FALSE(nd::followup("the log said \"noticed drift\"", r));
    CHECK_FALSE(nd::followup("ran `asked` twice", r));
    CHECK_FALSE(nd::followup("unnoticed for an hour", r));
    CHECK_FALSE(nd::followup("14:05 restarted api-3", r));
    CHECK(nd::first("obviously it was DNS", r)); // the caller gives the nudge precedence
}

TEST_CASE("nudges: rules config, errors name the key and the line") {
    std::vector<std::string> errors;
    const auto t = toml::parse(R"([[nudge]]
id = "x"
phrases = ["a {nope}"]

[[nudge]]
phrases = "oops"
reframe = 3
subject = "sideways"
colour = "blue"

[[followup]]
id = "x"
phrases = []
prompt = "?"
)");
    CHECK_FALSE(pm::bot::parse_rules(t, errors));
    const auto has = [&](std::string_view s) {
        for (const auto& e : errors)
            if (e.find(s) != std::string::npos) return true;
        return false;
    };
    CHECK(has("line 3: nudge[1].phrases: unknown word class {nope}"));
    CHECK(has("nudge[1].reframe: missing"));
    CHECK(has("line 6: nudge[2].phrases: expected an array of strings"));
    CHECK(has("line 7: nudge[2].reframe: expected a string"));
    CHECK(has("line 8: nudge[2].subject: expected \"none\""));
    CHECK(has("line 9: nudge[2].colour: unknown key"));
    CHECK(has("nudge[2].id: missing"));
    CHECK(has("line 12: followup[1].id: duplicate id \"x\""));
    CHECK(has("line 13: followup[1].phrases: must list at least one phrase"));
}

TEST_CASE("nudges: rules config, the embedded default matches config/nudges.toml") {
    const auto t = toml::parse_file(PM_SOURCE_DIR "/config/nudges.toml");
    std::vector<std::string> errors;
    const auto parsed = pm::bot::parse_rules(t, errors);
    REQUIRE_MESSAGE(parsed, (errors.empty() ? "" : errors.front()));
    const auto& def = rules();
    CHECK(parsed->nudges.size() == def.nudges.size());
    CHECK(parsed->followups.size() == def.followups.size());
    CHECK(parsed->words == def.words);
    CHECK(def.followups.size() == 8);
    for (const auto& r : def.nudges) {
        CHECK(!r.reframe.empty());
        CHECK(r.reframe.back() == '?');
    }
}

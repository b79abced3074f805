#include <doctest/doctest.h>

#include "conversations/codec.hpp"
#include "conversations/summary.hpp"
#include "harness.hpp"

using namespace pm;
using test::harness;
using test::joined;
using test::printed;

namespace {

// Answers every remaining question of `user` with short text; the timeline gets one step.
void answer_all(harness& h, const std::string& user) {
    for (int guard = 0; guard < 40; ++guard) {
        const auto& p = h.w.postmortems.begin()->second;
        const auto* who = p.find(user);
        if (!who || who->st != conv::participant::stage::active) return;
        const auto& q = h.eng.config().questions.questions[who->pos];
        if (who->in_followup)
            h.say(user, "answer to the follow-up");
        else if (q.timeline)
            h.say(user, "14:10 looked at graphs\ndone");
        else
            h.say(user, "answer " + q.id);
    }
}

// State changes only: learning a user's name is not one.
std::size_t changes(const conv::outcome& o) {
    std::size_t n = 0;
    for (auto& e : o.events)
        n += e.at("type").as_string() != "user_seen";
    return n;
}

conv::settings simple_rules() {
    auto s = test::default_settings();
    s.rules.nudges = {{"counterfactual", {"should have"}, "What did you know at that moment?"}};
    s.rules.followups = {{"noticed", {"noticed"}, "What exactly did you see?"}};
    return s;
}

} // namespace

TEST_CASE("engine: start opens a thread per participant and asks the first question") {
    harness h;
    auto out = h.say("alice", "/postmortem start DB failover @bob");
    REQUIRE(h.w.postmortems.size() == 1);
    const auto& p = h.w.postmortems.at("PM-1");
    CHECK(p.title == "DB failover");
    CHECK(p.lead == "alice");
    REQUIRE(p.participants.size() == 2);
    CHECK(p.participants[0].user == "alice");
    CHECK(p.participants[1].user == "bob");
    CHECK(p.window_end == test::at("2026-11-20 15:00:00"));
    CHECK(p.window_start == test::at("2026-11-19 15:00:00"));
    auto lines = printed(out);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].starts_with("[#incident] PM-1 DB failover — a blameless postmortem, led by alice."));
    CHECK(lines[1].starts_with("[#incident] @alice — your account of DB failover (PM-1)"));
    CHECK(lines[2] == "[thread alice] Question 1 of 9 — How did this first reach you (a page, a message, "
                      "something you noticed yourself), and about when?");
    CHECK(lines[3].starts_with("[#incident] @bob — your account of DB failover (PM-1)"));
    // Thread roots open the participant's thread and notify them.
    CHECK(out.sends[1].to.thread_key == "PM-1/alice");
    CHECK(out.sends[1].notify == std::vector<std::string>{"alice"});
    REQUIRE(out.schedules.size() == 2);
    CHECK(out.schedules[0].at == test::at("2026-11-21 15:00:00"));
    CHECK(out.schedules[0].timer.what == conv::timer_in::kind::remind);
    CHECK(out.schedules[1].at == test::at("2026-11-23 15:00:00"));
    CHECK(out.schedules[1].timer.what == conv::timer_in::kind::deadline);
}

TEST_CASE("engine: start options --no-self, --dm, --anonymous and --at") {
    harness h;
    h.say("alice", "/postmortem start Cache storm @bob @carol --no-self --dm --anonymous --at 09:30");
    const auto& p = h.w.postmortems.at("PM-1");
    CHECK(p.title == "Cache storm");
    CHECK(p.dm);
    CHECK(p.anonymous);
    CHECK(p.window_start == test::at("2026-11-20 09:30:00"));
    REQUIRE(p.participants.size() == 2);
    CHECK(p.participants[0].user == "bob");
}

TEST_CASE("engine: bad commands get one clear private message and change nothing") {
    harness h;
    auto out = h.say("alice", "/postmortem launch rockets");
    CHECK(changes(out) == 0);
    CHECK(joined(out) == "[dm alice] I don't know the command `launch`.\n  `Usage: /postmortem <command> "
                         "(/postmortem help lists them)`\n");
    out = h.say("alice", "/postmortem start");
    CHECK(changes(out) == 0);
    CHECK(joined(out) ==
          "[dm alice] A postmortem needs a title.\n  `Usage: /postmortem start <title> [@user …] "
          "[--dm] [--anonymous] [--no-self] [--at <time>]`\n");
    out = h.say("alice", "/postmortem start Outage --at 25:99");
    CHECK(changes(out) == 0);
    CHECK(h.w.postmortems.empty());
    out = h.say("alice", "/postmortem finish");
    CHECK(joined(out).starts_with("[dm alice] There is no open postmortem in this channel."));
    out = h.say("alice", "/postmortem start Outage --bogus");
    CHECK(h.w.postmortems.empty());
    CHECK(joined(out).starts_with("[dm alice] `--bogus` is not an option of start."));
}

TEST_CASE("engine: lead-only commands from someone else are refused politely") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob");
    for (const char* c : {"finish", "cancel", "preview", "remind", "add @carol", "remove @alice"}) {
        CAPTURE(std::string(c));
        auto out = h.say("bob", std::string("/postmortem ") + c);
        CHECK(changes(out) == 0);
        REQUIRE(out.sends.size() == 1);
        CHECK(printed(out)[0].starts_with("[dm bob] Only the lead of PM-1, alice, can "));
        CHECK(printed(out)[0].ends_with(". Nothing was changed."));
    }
    CHECK(h.w.postmortems.at("PM-1").st == conv::postmortem::state::open);
    CHECK(h.w.postmortems.at("PM-1").participants.size() == 2);
}

TEST_CASE("engine: skip, back, private and stop in an interview") {
    harness h(simple_rules());
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    auto out = h.say("bob", "skip");
    CHECK(joined(out).starts_with("[thread bob] Question 2 of 9"));
    out = h.say("bob", "back");
    CHECK(joined(out).starts_with("[thread bob] Question 1 of 9"));
    out = h.say("bob", "private: a page at 14:00");
    CHECK(joined(out).starts_with("[thread bob] Question 2 of 9"));
    const auto& bob = *h.w.postmortems.at("PM-1").find("bob");
    CHECK(bob.answers.at("way_in").text == "a page at 14:00");
    CHECK(bob.answers.at("way_in").is_private);
    out = h.say("bob", "done");
    CHECK(joined(out).starts_with("[thread bob] Question 3 of 9")); // an empty timeline is fine
    out = h.say("bob", "done");
    CHECK(joined(out) ==
          "[dm bob] `done` ends the timeline question. To leave this question, reply `skip`; to "
          "leave the interview, `stop`.\n");
    out = h.say("bob", "stop");
    CHECK(joined(out).starts_with("[thread bob] Stopped. Everything you wrote is kept."));
    // A stopped participant is done for auto-finish: the summary is posted once.
    REQUIRE(h.w.postmortems.at("PM-1").st == conv::postmortem::state::finished);
    CHECK(out.exports.size() == 1);
    out = h.say("bob", "/postmortem join");
    CHECK(joined(out).find("Question 3 of 9") != std::string::npos);
}

TEST_CASE("engine: timeline lines are read in the writer's zone, bad lines are asked again") {
    harness h;
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    h.say("bob", "/postmortem tz Europe/Berlin");
    h.say("bob", "a page");
    auto out =
        h.say("bob", "15:02 noticed lag on db-2\nrestarted something\n? asked #db\n~15:10-15:20 failover");
    const auto& bob = *h.w.postmortems.at("PM-1").find("bob");
    REQUIRE(bob.steps.size() == 3);
    CHECK(bob.steps[0].at == test::at("2026-11-20 14:02:00"));
    CHECK(bob.steps[0].text == "noticed lag on db-2");
    CHECK(!bob.steps[1].at);
    CHECK(bob.steps[1].text == "asked #db");
    CHECK(bob.steps[2].approximate);
    CHECK(bob.steps[2].end == test::at("2026-11-20 14:20:00"));
    auto lines = printed(out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("[thread bob] I couldn't place this line in time; please send it again:\n  - "
                               "“restarted something” — "));
    CHECK(lines[0].find("`14:05 restarted api-3`") != std::string::npos);
    CHECK(bob.pos == 1); // still on the timeline until `done`
}

TEST_CASE("engine: a nudge wins over a follow-up and is private, a follow-up can be skipped") {
    harness h(simple_rules());
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    auto out = h.say("bob", "I noticed it late, I should have looked sooner");
    auto lines = printed(out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] ==
          "[dm bob] Just for you, and your answer is kept exactly as written: “should have” can read "
          "as a judgement made after the fact. What did you know at that moment?");
    CHECK(lines[1].starts_with("[thread bob] Question 2 of 9"));
    CHECK(h.w.postmortems.at("PM-1").find("bob")->answers.at("way_in").text ==
          "I noticed it late, I should have looked sooner");
    h.say("bob", "done");
    out = h.say("bob", "I noticed the replication graph");
    CHECK(joined(out) ==
          "[thread bob] A follow-up, if you like (`skip` passes it): What exactly did you see?\n");
    out = h.say("bob", "skip");
    CHECK(joined(out).starts_with("[thread bob] Question 4 of 9"));
    const auto& bob = *h.w.postmortems.at("PM-1").find("bob");
    CHECK(bob.answers.at("cues").text == "I noticed the replication graph");
    CHECK(bob.followups.at("cues").skipped);
}

TEST_CASE("engine: an edit replaces the answer it edited") {
    harness h;
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    h.say("bob", "a page");
    const std::string ref = "m" + std::to_string(h.seq);
    conv::message_in m;
    m.user = "bob";
    m.text = "a page from PagerDuty at 13:55";
    m.edit_of = ref;
    m.place = conv::message_in::where::thread;
    m.thread_key = "PM-1/bob";
    auto out = h.feed(m);
    CHECK(out.sends.empty());
    const auto& bob = *h.w.postmortems.at("PM-1").find("bob");
    CHECK(bob.answers.at("way_in").text == "a page from PagerDuty at 13:55");
    CHECK(bob.pos == 1); // the interview did not move
}

TEST_CASE("engine: an oversized answer is refused whole and nothing is stored") {
    harness h;
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    auto out = h.say("bob", std::string(100 * 1024, 'x'));
    CHECK(changes(out) == 0);
    CHECK(joined(out) ==
          "[dm bob] That message is 100 KB; an answer can hold 16 KB. Nothing was recorded — please "
          "send it in shorter parts.\n");
    CHECK(h.w.postmortems.at("PM-1").find("bob")->answers.empty());
}

TEST_CASE("engine: invalid UTF-8 is kept as readable text") {
    harness h;
    h.say("alice", "/postmortem start DB failover --no-self @bob");
    h.say("bob", "bad \xC3\x28 bytes\x01");
    CHECK(h.w.postmortems.at("PM-1").find("bob")->answers.at("way_in").text == "bad \xEF\xBF\xBD( bytes");
}

TEST_CASE("engine: status, preview and private answers") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob");
    h.say("bob", "private: I was also on call for payments");
    auto out = h.say("carol", "/postmortem status");
    CHECK(joined(out) == "[dm carol] PM-1 DB failover — open, lead alice\n"
                         "  - alice: none; now at question 1 of 9\n"
                         "  - bob: partial — way_in; now at question 2 of 9\n");
    out = h.say("alice", "/postmortem preview");
    CHECK(joined(out).find("I was also on call for payments (private)") != std::string::npos);
    const auto& p = h.w.postmortems.at("PM-1");
    auto posted = conv::render_summary(h.w, p, h.eng.config(), false);
    CHECK(rich::plain(posted).find("payments") == std::string::npos);
}

TEST_CASE("engine: everyone answering finishes automatically, once") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob");
    answer_all(h, "alice");
    CHECK(h.w.postmortems.at("PM-1").st == conv::postmortem::state::open);
    answer_all(h, "bob");
    const auto& p = h.w.postmortems.at("PM-1");
    CHECK(p.st == conv::postmortem::state::finished);
    CHECK(p.summaries_posted == 1);
    for (auto& x : p.participants)
        CHECK(x.st == conv::participant::stage::completed);
    // A later `finish` re-posts; a message after the end changes nothing.
    auto out = h.say("bob", "one more thing");
    CHECK(changes(out) == 0);
    out = h.say("alice", "/postmortem finish");
    CHECK(h.w.postmortems.at("PM-1").summaries_posted == 2);
    CHECK(printed(out)[0].starts_with("[#incident] Postmortem PM-1: DB failover"));
}

TEST_CASE("engine: anonymous summaries name nobody") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob --anonymous");
    answer_all(h, "alice");
    answer_all(h, "bob");
    auto m = conv::render_markdown(h.w, h.w.postmortems.at("PM-1"), h.eng.config(), true);
    CHECK(m.find("alice") == std::string::npos);
    CHECK(m.find("bob") == std::string::npos);
    CHECK(m.find("Responder A") != std::string::npos);
    CHECK(m.find("Responder B") != std::string::npos);
    auto j = conv::render_json(h.w, h.w.postmortems.at("PM-1"), h.eng.config());
    CHECK(j.find("alice") == std::string::npos);
}

TEST_CASE("engine: reminders and the deadline") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob");
    answer_all(h, "alice");
    auto out = h.timer("PM-1", conv::timer_in::kind::remind);
    REQUIRE(out.sends.size() == 1);
    CAPTURE(printed(out)[0]);
    CHECK(printed(out)[0].starts_with(
        "[thread bob] @bob — a gentle reminder: your account of DB failover still "
        "helps, however short. We were at question 1: "));
    CHECK(h.timer("PM-1", conv::timer_in::kind::remind).sends.empty()); // once
    out = h.timer("PM-1", conv::timer_in::kind::deadline);
    CHECK(h.w.postmortems.at("PM-1").st == conv::postmortem::state::finished);
    CHECK(printed(out)[0].starts_with("[#incident] The deadline has passed, so here is the summary"));
    CHECK(h.timer("PM-1", conv::timer_in::kind::deadline).sends.empty());
}

TEST_CASE("engine: DM mode interviews in direct messages") {
    harness h;
    auto out = h.say("alice", "/postmortem start DB failover --dm @bob");
    auto lines = printed(out);
    CHECK(lines[1].starts_with("[dm alice] @alice — your account of DB failover"));
    CHECK(lines[2].starts_with("[dm alice] Question 1 of 9"));
    conv::message_in m;
    m.user = "bob";
    m.text = "a page";
    m.place = conv::message_in::where::dm;
    out = h.feed(m);
    CHECK(joined(out).starts_with("[dm bob] Question 2 of 9"));
}

TEST_CASE("engine: join, add, remove, list, cancel and tz") {
    harness h;
    h.say("alice", "/postmortem start DB failover");
    auto out = h.say("bob", "/postmortem join");
    CHECK(printed(out).back() == "[#incident] bob joined PM-1.");
    out = h.say("bob", "/postmortem join");
    CHECK(joined(out) == "[dm bob] You are already taking part in PM-1.\n");
    out = h.say("alice", "/postmortem add @carol @bob");
    CHECK(printed(out).back() == "[#incident] Added carol to PM-1.");
    out = h.say("alice", "/postmortem remove @carol");
    CHECK(joined(out) == "[#incident] Removed carol from PM-1.\n");
    out = h.say("dave", "/postmortem list");
    CHECK(joined(out) ==
          "[dm dave] Open postmortems here:\n  - PM-1 DB failover — lead alice, 2 participants\n");
    out = h.say("dave", "/postmortem tz Mars/Olympus");
    CHECK(joined(out).starts_with("[dm dave] `Mars/Olympus` is not a time zone I know."));
    out = h.say("dave", "/postmortem tz America/New_York");
    CHECK(h.w.zone_of("shell", "dave", h.eng.config()) == "America/New_York");
    h.say("alice", "/postmortem start Second one");
    out = h.say("alice", "/postmortem status");
    CHECK(joined(out).starts_with("[dm alice] Several postmortems are open here (PM-1, PM-2); name one"));
    out = h.say("alice", "/postmortem cancel PM-2");
    CHECK(joined(out) ==
          "[#incident] PM-2 (Second one) was cancelled by alice; no summary will be posted.\n");
    CHECK(h.w.postmortems.at("PM-2").st == conv::postmortem::state::cancelled);
}

TEST_CASE("engine: replaying the events rebuilds the same state") {
    harness h;
    h.say("alice", "/postmortem start DB failover @bob");
    h.say("bob", "/postmortem tz Europe/Berlin");
    answer_all(h, "alice");
    h.say("bob", "a page");
    h.say("bob", "15:02 lag\n? asked");
    conv::world fresh;
    for (auto& e : h.log)
        CHECK(conv::fold(fresh, e));
    const auto& a = h.w.postmortems.at("PM-1");
    const auto& b = fresh.postmortems.at("PM-1");
    CHECK(conv::render_json(h.w, a, h.eng.config()) == conv::render_json(fresh, b, h.eng.config()));
    CHECK(fresh.next_number == 2);
    CHECK(fresh.zone_of("shell", "bob", h.eng.config()) == "Europe/Berlin");
}

TEST_CASE("engine: prompts offer buttons, and the codec keeps them") {
    harness h;
    auto out = h.say("alice", "/postmortem start DB failover --no-self @bob");
    const auto& first = out.sends.back().body;
    REQUIRE(first.actions.size() == 1);
    CHECK(first.actions[0].id == "skip");
    out = h.say("bob", "a page");
    const auto& timeline = out.sends.back().body;
    REQUIRE(timeline.actions.size() == 3);
    CHECK(timeline.actions[0].id == "done");
    CHECK(timeline.actions[2].label == "Back");
    auto round = conv::send_from_json(conv::to_json(out.sends.back()));
    REQUIRE(round);
    REQUIRE(round->body.actions.size() == 3);
    CHECK(round->body.actions[1].id == "skip");
    CHECK(rich::plain(round->body) == rich::plain(timeline));
}

// Envelope parser on wire fixtures (tests/data/slack): exact chat_event fields.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "adapters/slack/envelope.hpp"

using namespace pm::adapters;
using namespace pm::adapters::slack;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(PM_TEST_DATA) + "/slack/" + name);
    REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

parse_context ctx() {
    parse_context c;
    c.self_user_id = "U0PMBOT";
    c.self_bot_id = "B0PMBOT";
    return c;
}

frame parse(const std::string& name) {
    return parse_frame(fixture(name), ctx());
}

} // namespace

TEST_CASE("slack: channel message, entities decoded, tokens normalized") {
    auto f = parse("message_channel.json");
    REQUIRE(f.k == frame::kind::envelope);
    CHECK(f.envelope_id == "e-1");
    CHECK(f.type == "events_api");
    REQUIRE(f.event);
    const auto& e = *f.event;
    CHECK(e.platform == "slack");
    CHECK(e.event_id == "Ev0MSG1");
    CHECK(e.user.id == "U0ALICE");
    CHECK(e.where.k == place::kind::channel);
    CHECK(e.where.channel == "C0INCIDENT");
    CHECK(e.where.thread_root == "");
    CHECK(e.message_ref == "1767351180.000400");
    CHECK(e.time.time_since_epoch().count() == 1767351180000);
    CHECK_FALSE(e.is_command);
    CHECK_FALSE(e.edit_of);
    CHECK(e.text ==
          "14:05 rolled back <deploy 42> & paged <@U0BOB> see the doc (https://x.example/pm) @here");
    REQUIRE(e.mentions.size() == 1);
    CHECK(e.mentions[0].id == "U0BOB");
    CHECK(e.mentions[0].name == "bob");
}

TEST_CASE("slack: thread reply and DM places") {
    auto t = parse("message_thread_reply.json");
    REQUIRE(t.event);
    CHECK(t.event->where.k == place::kind::thread);
    CHECK(t.event->where.channel == "C0INCIDENT");
    CHECK(t.event->where.thread_root == "1767350900.000100");
    CHECK(t.event->text == "answer in thread");

    auto d = parse("message_dm.json");
    REQUIRE(d.event);
    CHECK(d.event->where.k == place::kind::dm);
    CHECK(d.event->where.channel == "D0ALICEDM");
    CHECK(d.event->event_id == "Ev0MSG3");
}

TEST_CASE("slack: message_changed becomes an edit of the original ts") {
    auto f = parse("message_changed.json");
    REQUIRE(f.event);
    const auto& e = *f.event;
    CHECK(e.event_id == "Ev0EDIT");
    REQUIRE(e.edit_of);
    CHECK(*e.edit_of == "1767351180.000400");
    CHECK(e.message_ref == "1767351180.000400");
    CHECK(e.text == "14:06 rolled back");
    CHECK(e.user.id == "U0ALICE");
    CHECK(e.where.k == place::kind::thread);
    CHECK(e.where.thread_root == "1767350900.000100");
}

TEST_CASE("slack: deletions, bots, our own messages and app_mention are acked but not handed over") {
    for (const char* name :
         {"message_deleted.json", "message_bot.json", "message_own.json", "app_mention.json"}) {
        CAPTURE(name);
        auto f = parse(name);
        CHECK(f.k == frame::kind::envelope);
        CHECK_FALSE(f.envelope_id.empty());
        CHECK_FALSE(f.event);
        CHECK_FALSE(f.note.empty());
    }
    auto c = ctx();
    c.commands_from_app_mention = true;
    auto f = parse_frame(fixture("app_mention.json"), c);
    REQUIRE(f.event);
    CHECK(f.event->is_command);
    CHECK(f.event->text == "start INC-2291");
}

TEST_CASE("slack: @bot postmortem in a message is a command with its arguments") {
    auto f = parse("message_mention_command.json");
    REQUIRE(f.event);
    CHECK(f.event->is_command);
    CHECK(f.event->text == "start INC-2291 <@U0ALICE> <@U0BOB>");
    REQUIRE(f.event->mentions.size() == 2);
    CHECK(f.event->mentions[0].id == "U0ALICE");
    CHECK(f.event->mentions[0].name == "alice");
    CHECK(f.event->mentions[1].id == "U0BOB");
    CHECK(f.event->mentions[1].name == "");
}

TEST_CASE("slack: slash command") {
    auto f = parse("slash_command.json");
    REQUIRE(f.k == frame::kind::envelope);
    CHECK(f.accepts_response_payload);
    REQUIRE(f.event);
    const auto& e = *f.event;
    CHECK(e.event_id == "e-10");
    CHECK(e.is_command);
    CHECK(e.text == "start DB failover & more <@U0ALICE> <@U0BOB>");
    CHECK(e.user.id == "U0CAROL");
    CHECK(e.where.k == place::kind::channel);
    CHECK(e.where.channel == "C0INCIDENT");
    CHECK(e.response_url == "https://hooks.slack.com/commands/T0PMTEAM/8412/Zq");
    REQUIRE(e.mentions.size() == 2);
    CHECK(e.mentions[0].name == "alice");
}

TEST_CASE("slack: block_actions button press answers in the button's thread") {
    auto f = parse("block_actions.json");
    REQUIRE(f.event);
    const auto& e = *f.event;
    CHECK(e.event_id == "e-11");
    CHECK(e.text == "skip");
    CHECK_FALSE(e.is_command);
    CHECK(e.user.id == "U0ALICE");
    CHECK(e.where.k == place::kind::thread);
    CHECK(e.where.channel == "C0INCIDENT");
    CHECK(e.where.thread_root == "1767350900.000100");
    CHECK(e.message_ref == "1767351455.102934");
}

TEST_CASE("slack: hello and disconnect frames") {
    auto h = parse("hello.json");
    CHECK(h.k == frame::kind::hello);
    CHECK(h.num_connections == 2);
    REQUIRE(h.approximate_connection_time);
    CHECK(h.approximate_connection_time->count() == 18060);
    CHECK(parse("disconnect_refresh.json").reason == "refresh_requested");
    CHECK(parse("disconnect_warning.json").reason == "warning");
    auto t = parse("disconnect_too_many.json");
    CHECK(t.k == frame::kind::disconnect);
    CHECK(t.reason == "too_many_websockets");
    // Numbers no integer holds are ignored (a fuzz_slack_frame regression input).
    auto big = parse_frame(
        R"({"type":"hello","num_connections":1e300,"debug_info":{"approximate_connection_time":-1e30}})",
        ctx());
    CHECK(big.k == frame::kind::hello);
    CHECK(big.num_connections == 0);
    CHECK_FALSE(big.approximate_connection_time);
}

TEST_CASE("slack: malformed, truncated and unknown frames are values, not crashes") {
    auto m = parse("malformed.json");
    CHECK(m.k == frame::kind::malformed);
    CHECK_FALSE(m.note.empty());
    CHECK(parse("not_object.json").k == frame::kind::malformed);
    auto u = parse("unknown_type.json");
    CHECK(u.k == frame::kind::unknown);
    CHECK(u.envelope_id == "e-12");
    CHECK(parse_frame("", ctx()).k == frame::kind::malformed);
    CHECK(parse_frame("{\"type\":\"events_api\"}", ctx()).k == frame::kind::malformed);
    CHECK(parse_frame("{\"type\":\"events_api\",\"envelope_id\":\"x\",\"payload\":7}", ctx()).k ==
          frame::kind::malformed);
    // Every prefix of a valid frame parses to some value.
    std::string full = fixture("message_channel.json");
    for (std::size_t i = 0; i < full.size(); i += 7)
        (void)parse_frame(full.substr(0, i), ctx());
}

TEST_CASE("slack: text normalization edge cases") {
    std::vector<pm::adapters::user_ref> m;
    CHECK(normalize_text(
              "a < b &lt;@U1&gt; <#C0X|general> <!subteam^S0SRE|@sre> <!channel> <mailto:a@b.c|a@b.c>", &m) ==
          "a < b <@U1> #general @sre @channel a@b.c");
    CHECK(m.empty());
    CHECK(normalize_text("<@U0ALICE> and <@U0ALICE|alice>", &m) == "<@U0ALICE> and <@U0ALICE>");
    REQUIRE(m.size() == 1);
    CHECK(m[0].name == "alice");
    CHECK(ts_to_time("garbage").time_since_epoch().count() == 0);
    CHECK(ts_to_time("1767351180.5").time_since_epoch().count() == 1767351180500);
}

// The Matrix wire parsing on fixtures: /sync batches and single room events → exact chat_event
// fields, or clean errors for malformed input.
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "adapters/matrix/sync.hpp"

using namespace pm::adapters;
using namespace pm::adapters::matrix;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(PM_TEST_DATA) + "/matrix/" + name, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const room_event& find_event(const joined_room& r, const std::string& id) {
    for (const auto& e : r.timeline)
        if (e.event_id == id) return e;
    FAIL("no event " << id);
    throw 0;
}

convert_options opts() {
    convert_options o;
    o.own_user_id = "@pmbot:example.org";
    return o;
}

room_context room42() {
    room_context c;
    c.room_id = "!inc42:example.org";
    c.names = {{"@alice:example.org", "Alice A"}, {"@frank:example.org", "Frank"}};
    return c;
}

} // namespace

TEST_CASE("matrix: sync batch structure from a fixture") {
    auto p = parse_sync(fixture("sync_messages.json"));
    REQUIRE(p.value);
    auto& b = *p.value;
    CHECK(b.next_batch == "s2_10");
    REQUIRE(b.direct);
    CHECK(b.direct->at("@dave:example.org") == std::vector<std::string>{"!dm1:example.org"});
    CHECK(b.direct->count("@bad:example.org") == 0);
    REQUIRE(b.joined.size() == 1);
    auto& r = b.joined[0];
    CHECK(r.room_id == "!inc42:example.org");
    CHECK_FALSE(r.limited);
    CHECK(r.prev_batch == "t1");
    CHECK(r.timeline.size() == 12);
    REQUIRE(r.state.size() == 1);
    CHECK(r.state[0].state_key == std::optional<std::string>("@alice:example.org"));
    CHECK(r.joined_member_count == std::optional<std::int64_t>(5));
    CHECK(b.warnings.empty());
}

TEST_CASE("matrix: a command with a pill") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$cmd1"), room42(), opts());
    REQUIRE(c.event);
    auto& e = *c.event;
    CHECK(e.platform == "matrix");
    CHECK(e.event_id == "$cmd1");
    CHECK(e.message_ref == "$cmd1");
    CHECK(e.user.id == "@alice:example.org");
    CHECK(e.user.name == "Alice A");
    CHECK(e.where.k == place::kind::channel);
    CHECK(e.where.channel == "!inc42:example.org");
    CHECK(e.is_command);
    CHECK(e.text == "start DB failover <@@bob:example.org>");
    REQUIRE(e.mentions.size() == 1);
    CHECK(e.mentions[0].id == "@bob:example.org");
    CHECK(e.mentions[0].name == "Bob");
    CHECK_FALSE(e.edit_of);
    CHECK(e.time.time_since_epoch().count() == 1767225600000);
}

TEST_CASE("matrix: plain text keeps its characters") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$plain"), room42(), opts());
    REQUIRE(c.event);
    CHECK_FALSE(c.event->is_command);
    CHECK(c.event->text == "14:05 restarted db-2 & checked <logs>");
    CHECK(c.event->mentions.empty());
    CHECK(c.event->user.name.empty()); // unknown to the room: the adapter looks it up
}

TEST_CASE("matrix: notices and own echoes are not input") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto n = to_chat_event(find_event(b.joined[0], "$notice"), room42(), opts());
    CHECK_FALSE(n.event);
    CHECK(n.why == skip::notice);
    auto o = to_chat_event(find_event(b.joined[0], "$echo"), room42(), opts());
    CHECK_FALSE(o.event);
    CHECK(o.why == skip::own_echo);
    auto m = to_chat_event(find_event(b.joined[0], "$member"), room42(), opts());
    CHECK(m.why == skip::not_message);
}

TEST_CASE("matrix: a thread reply names its root") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$thr1"), room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->where.k == place::kind::thread);
    CHECK(c.event->where.thread_root == "$root1");
    CHECK(c.event->where.channel == "!inc42:example.org");
    CHECK(c.event->text == "14:07 saw: error rate fell");
}

TEST_CASE("matrix: an edit carries edit_of and the new content, and never a command") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$edit1"), room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->edit_of == std::optional<std::string>("$plain"));
    CHECK(c.event->text == "14:10 restarted db-3");
    CHECK(c.event->event_id == "$edit1");
    auto cmd = to_chat_event(find_event(b.joined[0], "$editcmd"), room42(), opts());
    REQUIRE(cmd.event);
    CHECK_FALSE(cmd.event->is_command);
    CHECK(cmd.event->text == "!postmortem cancel");
}

TEST_CASE("matrix: /postmortem as text, percent-encoded pill and a bare MXID") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$slash"), room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->is_command);
    CHECK(c.event->text == "add <@@dave:example.org> <@@erin:example.org>");
    REQUIRE(c.event->mentions.size() == 2);
    CHECK(c.event->mentions[0].id == "@dave:example.org");
    CHECK(c.event->mentions[0].name == "Dave D"); // the pill wins
    CHECK(c.event->mentions[1].id == "@erin:example.org");
    CHECK(c.event->mentions[1].name.empty());
}

TEST_CASE("matrix: m.mentions without a pill turns the display name into a mention") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$namemention"), room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->is_command);
    CHECK(c.event->text == "add <@@frank:example.org> please");
    REQUIRE(c.event->mentions.size() == 1);
    CHECK(c.event->mentions[0].name == "Frank");
}

TEST_CASE("matrix: a pill wins over a different display name in body") {
    room_event e;
    e.event_id = "$p";
    e.type = "m.room.message";
    e.sender = "@alice:example.org";
    e.content = boost::json::parse(R"({"msgtype":"m.text","body":"!postmortem add Robert",
        "format":"org.matrix.custom.html",
        "formatted_body":"!postmortem add <a href='https://matrix.to/#/@bob:example.org'>@Bobby</a>",
        "m.mentions":{"user_ids":["@bob:example.org"]}})")
                    .as_object();
    auto c = to_chat_event(e, room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->text == "add <@@bob:example.org>");
    CHECK(c.event->mentions.at(0).name == "Bobby");
}

TEST_CASE("matrix: legacy reply fallbacks are stripped") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto c = to_chat_event(find_event(b.joined[0], "$reply"), room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->text == "the disk filled up");
    std::map<std::string, std::string> pills;
    CHECK(html_to_text("<mx-reply><blockquote>old <a href=\"https://matrix.to/#/@x:y.org\">X</a></blockquote>"
                       "</mx-reply>new &amp; <b>bold</b>",
                       pills) == "new & bold");
    CHECK(pills.empty());
}

TEST_CASE("matrix: a DM room gives a dm place") {
    auto b = *parse_sync(fixture("sync_messages.json")).value;
    auto ctx = room42();
    ctx.is_dm = true;
    auto c = to_chat_event(find_event(b.joined[0], "$plain"), ctx, opts());
    REQUIRE(c.event);
    CHECK(c.event->where.k == place::kind::dm);
}

TEST_CASE("matrix: invites and leaves") {
    auto p = parse_sync(fixture("sync_invite.json"));
    REQUIRE(p.value);
    REQUIRE(p.value->invites.size() == 1);
    auto& in = p.value->invites[0];
    CHECK(in.room_id == "!new:example.org");
    CHECK(in.inviter == "@bob:example.org");
    CHECK(in.room_name == "INC-77 db outage");
    CHECK(in.is_direct);
    CHECK(p.value->left == std::vector<std::string>{"!old:example.org"});
}

TEST_CASE("matrix: encrypted events are recognised") {
    auto p = parse_sync(fixture("sync_encrypted.json"));
    REQUIRE(p.value);
    auto& r = p.value->joined.at(0);
    CHECK(r.state.at(0).type == "m.room.encryption");
    room_context ctx;
    ctx.room_id = r.room_id;
    auto c = to_chat_event(r.timeline.at(0), ctx, opts());
    CHECK_FALSE(c.event);
    CHECK(c.why == skip::encrypted);
}

TEST_CASE("matrix: limited timeline and /messages page") {
    auto p = parse_sync(fixture("sync_limited.json"));
    REQUIRE(p.value);
    CHECK(p.value->joined.at(0).limited);
    CHECK(p.value->joined.at(0).prev_batch == "t55");
    auto m = parse_messages(fixture("messages_page.json"));
    REQUIRE(m.value);
    CHECK(m.value->end == "t2");
    REQUIRE(m.value->chunk.size() == 2);
    CHECK(m.value->chunk[0].event_id == "$gap1");
    CHECK(parse_messages("{\"end\":\"x\"}").error == "messages response has no chunk array");
}

TEST_CASE("matrix: malformed sync responses are clean errors") {
    auto t = parse_sync(fixture("sync_truncated.txt"));
    CHECK_FALSE(t.value);
    CHECK(t.error.find("sync response is not JSON") == 0);
    auto n = parse_sync(fixture("sync_no_batch.json"));
    CHECK_FALSE(n.value);
    CHECK(n.error == "sync response has no string next_batch");
    CHECK(parse_sync("[1,2]").error == "sync response is not a JSON object");
    CHECK(parse_sync("").error.find("not JSON") != std::string::npos);
    auto r = parse_sync(R"({"next_batch":"x","rooms":[]})");
    REQUIRE(r.value);
    CHECK(r.value->warnings == std::vector<std::string>{"rooms is not an object"});
}

TEST_CASE("matrix: wrong field types drop only their event") {
    auto p = parse_sync(fixture("sync_wrong_types.json"));
    REQUIRE(p.value);
    auto& b = *p.value;
    CHECK(b.warnings == std::vector<std::string>{
                            "room !a:example.org timeline: event_id missing or not a string",
                            "room !a:example.org timeline: event $nocontent: content is not an object",
                            "room !a:example.org timeline: event $badts: origin_server_ts is not a number",
                            "room !b:example.org is not an object",
                            "room !c:example.org timeline: events is not an array",
                        });
    REQUIRE(b.joined.size() == 2);
    auto& a = b.joined[0];
    REQUIRE(a.timeline.size() == 4);
    room_context ctx;
    ctx.room_id = a.room_id;
    auto bad = to_chat_event(a.timeline[0], ctx, opts());
    CHECK(bad.why == skip::bad_event);
    CHECK(bad.detail == "msgtype or body missing or not a string");
    auto rel = to_chat_event(a.timeline[1], ctx, opts());
    CHECK(rel.why == skip::bad_event);
    CHECK(rel.detail == "m.relates_to is not an object");
    auto edit = to_chat_event(a.timeline[2], ctx, opts());
    CHECK(edit.why == skip::edit_invalid);
    auto ok = to_chat_event(a.timeline[3], ctx, opts());
    REQUIRE(ok.event);
    CHECK(ok.event->text == "fine");
}

TEST_CASE("matrix: matrix.to links") {
    CHECK(user_from_matrix_to("https://matrix.to/#/@a:b.org") == "@a:b.org");
    CHECK(user_from_matrix_to("https://matrix.to/#/%40a%3Ab.org?via=b.org") == "@a:b.org");
    CHECK(user_from_matrix_to("https://matrix.to/#/!room:b.org/$ev") == "");
    CHECK(user_from_matrix_to("https://evil.example/#/@a:b.org") == "");
    CHECK(user_from_matrix_to("https://matrix.to/#/@a") == "");
}

TEST_CASE("matrix: a bare command word, and the bot's own pill is no participant") {
    room_event e;
    e.event_id = "$c";
    e.type = "m.room.message";
    e.sender = "@alice:example.org";
    e.content = boost::json::parse(R"({"msgtype":"m.text","body":"!postmortem"})").as_object();
    auto c = to_chat_event(e, room42(), opts());
    REQUIRE(c.event);
    CHECK(c.event->is_command);
    CHECK(c.event->text == "");
    e.content = boost::json::parse(R"({"msgtype":"m.text","body":"!postmortemx start"})").as_object();
    auto d = to_chat_event(e, room42(), opts());
    REQUIRE(d.event);
    CHECK_FALSE(d.event->is_command);
    e.content =
        boost::json::parse(R"({"msgtype":"m.text","body":"hi @pmbot:example.org and @bob:example.org"})")
            .as_object();
    auto m = to_chat_event(e, room42(), opts());
    REQUIRE(m.event);
    REQUIRE(m.event->mentions.size() == 1);
    CHECK(m.event->mentions[0].id == "@bob:example.org");
}

TEST_CASE("matrix: mutated sync responses never crash the parser") {
    // A bounded, deterministic mutation run over the fixtures: flipped bytes, cut bodies,
    // spliced fragments. Each result is either a clean error or a batch whose events convert.
    std::vector<std::string> seeds = {fixture("sync_messages.json"), fixture("sync_invite.json"),
                                      fixture("sync_encrypted.json"), fixture("sync_wrong_types.json")};
    std::uint32_t x = 12345;
    auto rnd = [&] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    };
    const char* tokens[] = {"{", "}", "[", "]", "\"", ":", ",", "null", "1e999", "-1", "\"\\u0000\"", "true"};
    int parsed_ok = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string s = seeds[rnd() % seeds.size()];
        int edits = 1 + rnd() % 4;
        for (int k = 0; k < edits && !s.empty(); ++k) {
            auto pos = rnd() % s.size();
            switch (rnd() % 3) {
            case 0:
                s[pos] = static_cast<char>(rnd());
                break;
            case 1:
                s.resize(pos);
                break;
            default:
                s.insert(pos, tokens[rnd() % 12]);
            }
        }
        auto p = parse_sync(s);
        if (!p.value) {
            CHECK_FALSE(p.error.empty());
            continue;
        }
        ++parsed_ok;
        for (const auto& r : p.value->joined)
            for (const auto& e : r.timeline) {
                room_context ctx;
                ctx.room_id = r.room_id;
                auto c = to_chat_event(e, ctx, opts());
                CHECK((c.event.has_value() == (c.why == skip::none)));
            }
    }
    CHECK(parsed_ok > 0);
}

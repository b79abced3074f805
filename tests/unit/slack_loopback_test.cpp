// The Slack adapter against the fake Slack on 127.0.0.1: sockets, acks, refreshes, drops,
// rate limits, lost responses, errors.
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "adapters/slack/slack_adapter.hpp"
#include "fake_slack.hpp"
#include "loopback_support.hpp"

using namespace pm;
using namespace pm::adapters;
using namespace pm::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct harness {
    asio::io_context ioc;
    fake_slack fake{ioc.get_executor()};
    std::vector<chat_event> events;
    std::function<asio::awaitable<void>(const chat_event&)> on_event; // optional extra behaviour
    std::unique_ptr<slack::adapter> bot;
    bool run_done = false;
    std::string run_error;

    harness() {
        json::object alice;
        alice["id"] = "U0ALICE";
        alice["name"] = "alice";
        alice["real_name"] = "Alice Ng";
        alice["tz"] = "Europe/Berlin";
        alice["profile"] = json::object{{"display_name", "alice.ng"}, {"real_name", "Alice Ng"}};
        fake.users["U0ALICE"] = alice;
    }

    slack::config cfg() {
        slack::config c;
        c.api_url = fake.api_url();
        c.bot_token = "xoxb-test-token";
        c.app_token = "xapp-test-token";
        c.backoff_initial = 20ms;
        c.backoff_max = 200ms;
        c.hello_timeout = 5s;
        c.max_frame_bytes = 4096;
        return c;
    }

    void start(slack::config c) {
        bot = std::make_unique<slack::adapter>(ioc.get_executor(), c);
        event_sink sink = [this](chat_event ev) -> asio::awaitable<void> {
            events.push_back(ev);
            if (on_event) co_await on_event(events.back());
        };
        asio::co_spawn(ioc, bot->run(sink), [this](std::exception_ptr e) {
            run_done = true;
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    run_error = x.what();
                }
            }
        });
    }
    void start() { start(cfg()); }

    asio::awaitable<void> connected(int sockets = 1) {
        REQUIRE(co_await eventually([&] { return bot->ready() && fake.open_sockets() == sockets; }));
    }

    asio::awaitable<void> shutdown() {
        bot->stop();
        CHECK(co_await eventually([&] { return run_done; }));
    }
};

outbound post_to(const std::string& channel, std::int64_t row, const std::string& text) {
    outbound o;
    o.outbox_id = row;
    o.txn_id = "txn-" + std::to_string(row);
    o.to = outbound::target::channel;
    o.channel = channel;
    o.body.fallback = text;
    o.body.blocks.push_back(rich::para({rich::txt(text)}));
    return o;
}

std::string text_of(const fake_slack::message& m) {
    return std::string(m.args.at("text").get_string());
}

} // namespace

TEST_CASE("slack: hello, an event handed over with user details, acked only after the sink returns") {
    harness h;
    bool in_sink = false;
    h.on_event = [&](const chat_event&) -> asio::awaitable<void> {
        in_sink = true;
        co_await sleep_for(100ms); // the adapter must not ack meanwhile
        CHECK(h.fake.acks.empty());
        in_sink = false;
    };
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        CHECK(h.bot->bot_user_id() == "U0PMBOT");
        h.fake.send_envelope(make_message_envelope("env-1", "Ev1", "C0INC", "U0ALICE",
                                                   "hi &lt;all&gt; <@U0BOB|bob>", "1767351180.000400"));
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 1; }));
        CHECK_FALSE(in_sink);
        CHECK(h.fake.acks[0] == "env-1");
        REQUIRE(h.events.size() == 1);
        const auto& e = h.events[0];
        CHECK(e.event_id == "Ev1");
        CHECK(e.text == "hi <all> <@U0BOB>");
        CHECK(e.user.name == "alice.ng");
        REQUIRE(e.user.tz);
        CHECK(*e.user.tz == "Europe/Berlin");
        REQUIRE(e.mentions.size() == 1);
        CHECK(e.mentions[0].name == "bob"); // users.info has no U0BOB: Slack's label stays
        co_await h.shutdown();
    });
    CHECK(h.run_error.empty());
}

TEST_CASE("slack: a new user's events in many channels at once cost one users.info call") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        for (int i = 0; i < 6; ++i)
            h.fake.send_envelope(make_message_envelope("env-" + std::to_string(i), "Ev" + std::to_string(i),
                                                       "C0CH" + std::to_string(i), "U0ALICE", "hello",
                                                       "1767351180.00040" + std::to_string(i)));
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 6; }));
        auto lookups = std::count_if(h.fake.calls.begin(), h.fake.calls.end(),
                                     [](const auto& c) { return c.method == "users.info"; });
        CHECK(lookups == 1);
        REQUIRE(h.events.size() == 6);
        for (const auto& e : h.events)
            CHECK(e.user.name == "alice.ng");
        co_await h.shutdown();
    });
    CHECK(h.run_error.empty());
}

TEST_CASE("slack: at most 1024 events wait for their commit at once, the rest wait their turn, none lost") {
    harness h;
    // The bot takes events in and never commits them until released.
    asio::steady_timer gate(h.ioc, asio::steady_timer::time_point::max());
    bool released = false;
    int in_sink = 0, most = 0;
    h.on_event = [&](const chat_event&) -> asio::awaitable<void> {
        most = std::max(most, ++in_sink);
        if (!released) co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
        --in_sink;
    };
    constexpr int n = 1100;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        for (int i = 0; i < n; ++i)
            h.fake.send_envelope(make_message_envelope("env-" + std::to_string(i), "Ev" + std::to_string(i),
                                                       "C0CH" + std::to_string(i % 40), "U0ALICE", "hi",
                                                       "1767351180." + std::to_string(100000 + i)));
        REQUIRE(co_await eventually([&] { return in_sink == 1024; }));
        co_await sleep_for(300ms); // the other 76 stay queued in the adapter, nothing is acked
        CHECK(in_sink == 1024);
        CHECK(h.events.size() == 1024);
        CHECK(h.fake.acks.empty());
        released = true;
        gate.cancel();
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == n; }));
        CHECK(most == 1024);
        CHECK(h.events.size() == n);
        std::set<std::string> acked(h.fake.acks.begin(), h.fake.acks.end());
        CHECK(acked.size() == n);
        co_await h.shutdown();
    });
    CHECK(h.run_error.empty());
}

TEST_CASE("slack: slash command and button press through the socket") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        json::object p{{"command", "/postmortem"},
                       {"channel_id", "C0INC"},
                       {"user_id", "U0ALICE"},
                       {"text", "start DB failover <@U0BOB|bob>"},
                       {"response_url", "https://hooks.example/x"}};
        json::object env{
            {"envelope_id", "env-slash"}, {"type", "slash_commands"}, {"accepts_response_payload", true}};
        env["payload"] = p;
        h.fake.send_envelope(env);
        json::object action{
            {"type", "button"}, {"action_id", "pm_done"}, {"value", "done"}, {"action_ts", "7.5"}};
        json::object ba{{"type", "block_actions"}, {"user", json::object{{"id", "U0ALICE"}}}};
        ba["container"] = json::object{{"type", "message"}, {"channel_id", "D0ALICE"}, {"message_ts", "7.1"}};
        ba["actions"] = json::array{action};
        json::object env2{{"envelope_id", "env-button"}, {"type", "interactive"}};
        env2["payload"] = ba;
        h.fake.send_envelope(env2);
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 2; }));
        REQUIRE(h.events.size() == 2);
        const auto& cmd = h.events[0].where.channel == "C0INC" ? h.events[0] : h.events[1];
        const auto& btn = h.events[0].where.channel == "C0INC" ? h.events[1] : h.events[0];
        CHECK(cmd.is_command);
        CHECK(cmd.event_id == "env-slash");
        CHECK(cmd.text == "start DB failover <@U0BOB>");
        CHECK(cmd.user.name == "alice.ng");
        CHECK(cmd.time != sys_millis{}); // no timestamp on the wire: the time of arrival
        CHECK(btn.text == "done");
        CHECK(btn.where.k == place::kind::dm);
        CHECK(btn.event_id == "env-button");
        co_await h.shutdown();
    });
}

TEST_CASE("slack: a redelivered envelope still in progress is dropped, later redelivery is passed on") {
    harness h;
    h.on_event = [&](const chat_event&) -> asio::awaitable<void> { co_await sleep_for(150ms); };
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        auto env =
            make_message_envelope("env-dup", "EvDup", "C0INC", "U0ALICE", "answer", "1767351180.000500");
        h.fake.send_envelope(env);
        REQUIRE(co_await eventually([&] { return h.events.size() == 1; }));
        env["retry_attempt"] = 1;
        env["retry_reason"] = "timeout";
        h.fake.send_envelope(env);
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 1; }));
        CHECK(h.bot->stats().duplicates_dropped == 1);
        CHECK(h.events.size() == 1);
        // After the ack, a redelivery reaches the bot again (its store de-duplicates by event_id).
        h.fake.send_envelope(env);
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 2; }));
        REQUIRE(h.events.size() == 2);
        CHECK(h.events[1].event_id == h.events[0].event_id);
        co_await h.shutdown();
    });
}

TEST_CASE("slack: refresh_requested opens the new socket before closing the old, nothing lost") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        h.fake.disconnect("refresh_requested");
        // Slack may still deliver on the old socket until it closes.
        h.fake.send_envelope(make_message_envelope("env-old", "EvOld", "C0INC", "U0ALICE", "on old", "1.1"),
                             1);
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 2 && h.fake.open_sockets() == 1; }));
        const auto& log = h.fake.socket_log();
        REQUIRE(log.size() >= 3);
        CHECK(log[0] == "open 1");
        CHECK(log[1] == "open 2");
        CHECK(log[2] == "close 1");
        h.fake.send_envelope(make_message_envelope("env-new", "EvNew", "C0INC", "U0ALICE", "on new", "1.2"));
        REQUIRE(co_await eventually([&] { return h.events.size() == 2 && h.fake.acks.size() == 2; }));
        CHECK(h.events[0].event_id == "EvOld");
        CHECK(h.events[1].event_id == "EvNew");
        CHECK(h.bot->ready());
        co_await h.shutdown();
    });
}

TEST_CASE("slack: warning opens a replacement and keeps serving the old socket") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        h.fake.disconnect("warning");
        REQUIRE(co_await eventually([&] { return h.fake.open_sockets() == 2; }));
        h.fake.send_envelope(make_message_envelope("env-a", "EvA", "C0INC", "U0ALICE", "old", "2.1"), 1);
        h.fake.send_envelope(make_message_envelope("env-b", "EvB", "C0INC2", "U0ALICE", "new", "2.2"), 2);
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 2; }));
        h.fake.drop_sockets(); // both go: the adapter reconnects
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 3 && h.fake.open_sockets() == 1; }));
        co_await h.shutdown();
    });
}

TEST_CASE("slack: abrupt drop → reconnect with a fresh URL, other disconnect reasons") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        h.fake.drop_sockets();
        REQUIRE(co_await eventually([&] { return h.fake.sockets_accepted() == 2 && h.bot->ready(); }));
        h.fake.send_envelope(make_message_envelope("env-2", "Ev2", "C0INC", "U0ALICE", "after drop", "3.1"));
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 1; }));
        h.fake.disconnect("something_new");
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 3 && h.fake.open_sockets() == 1; }));
        int opens = 0;
        for (const auto& c : h.fake.calls)
            opens += c.method == "apps.connections.open";
        CHECK(opens == 3);
        co_await h.shutdown();
    });
}

TEST_CASE("slack: a replacement socket is opened before the refresh Slack announced in hello") {
    harness h;
    h.fake.approximate_connection_time = 2; // seconds
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        REQUIRE(co_await eventually([&] { return h.fake.sockets_accepted() >= 2; }));
        CHECK(h.fake.socket_log()[1] == "open 2"); // the first one was not closed first
        co_await h.shutdown();
    });
}

TEST_CASE("slack: a silent (half-open) socket is found dead by the ping timeout and replaced") {
    harness h;
    auto c = h.cfg();
    c.ping_interval = 100ms;
    c.pong_timeout = 300ms; // the frozen peer answers no ping: dead after 300-400 ms
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start(c);
        co_await h.connected();
        h.fake.freeze_sockets();
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 2 && h.fake.open_sockets() == 1; }));
        h.fake.send_envelope(
            make_message_envelope("env-z", "EvZ", "C0INC", "U0ALICE", "after freeze", "6.1"));
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 1; }));
        co_await h.shutdown();
    });
}

TEST_CASE("slack: too_many_websockets and link_disabled close the socket and wait before reconnecting") {
    harness h;
    auto c = h.cfg();
    c.link_disabled_retry = 300ms;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start(c);
        co_await h.connected();
        h.fake.disconnect("too_many_websockets");
        // This socket closes before any new one is opened.
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 2 && h.fake.open_sockets() == 1; }));
        CHECK(h.fake.socket_log()[1] == "close 1");
        CHECK(h.fake.socket_log()[2] == "open 2");
        h.fake.disconnect("link_disabled");
        REQUIRE(co_await eventually(
            [&] { return h.fake.sockets_accepted() == 3 && h.fake.open_sockets() == 1; }));
        CHECK(h.fake.socket_log()[3] == "close 2");
        CHECK(h.fake.socket_log()[4] == "open 3");
        co_await h.shutdown();
    });
}

TEST_CASE("slack: malformed, truncated, binary, oversized and unknown frames are skipped, socket stays up") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        h.fake.send_frame("this is not json");
        h.fake.send_frame(R"({"envelope_id":"env-t","type":"events_api","payload":{"type":"event_ca)");
        h.fake.send_frame(std::string("\x00\x01\x02", 3), true);
        h.fake.send_frame(std::string(10000, 'x'));
        h.fake.send_frame(R"({"envelope_id":"env-u","type":"brand_new","payload":{}})");
        h.fake.send_frame(R"({"envelope_id":"env-bad","type":"events_api","payload":[]})");
        h.fake.send_envelope(
            make_message_envelope("env-ok", "EvOk", "C0INC", "U0ALICE", "still here", "4.1"));
        REQUIRE(co_await eventually([&] { return h.events.size() == 1; }));
        REQUIRE(co_await eventually([&] { return h.fake.acks.size() == 3; }));
        CHECK(h.fake.sockets_accepted() == 1);
        CHECK(h.bot->stats().bad_frames == 6);
        // Unknown and malformed envelopes with an id are acked so Slack stops redelivering them.
        CHECK(std::count(h.fake.acks.begin(), h.fake.acks.end(), "env-u") == 1);
        CHECK(std::count(h.fake.acks.begin(), h.fake.acks.end(), "env-bad") == 1);
        co_await h.shutdown();
    });
}

TEST_CASE("slack: 429 storm on chat.postMessage: all delivered in order, Retry-After obeyed") {
    harness h;
    h.fake.ratelimit_next_posts = 3;
    h.fake.retry_after_seconds = 1;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        h.start();
        co_await h.connected();
        int retries = 0;
        for (int i = 1; i <= 5; ++i) {
            auto o = post_to("C0INC", i, "message " + std::to_string(i));
            for (int attempt = 0; attempt < 20; ++attempt) { // the outbox drainer's loop
                auto r = co_await h.bot->send(o);
                if (r.st == send_result::status::sent) {
                    CHECK_FALSE(r.ref.empty());
                    break;
                }
                REQUIRE(r.st == send_result::status::retry);
                CHECK(r.retry_after >= 1s);
                ++retries;
                co_await sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(r.retry_after));
            }
        }
        CHECK(retries == 3);
        REQUIRE(h.fake.messages.size() == 5);
        for (int i = 0; i < 5; ++i)
            CHECK(text_of(h.fake.messages[i]) == "message " + std::to_string(i + 1));
        CHECK(h.fake.rate_limit_violations == 0);
        CHECK(h.bot->stats().rate_limited == 3);
        co_await h.shutdown();
    });
}

TEST_CASE("slack: a post whose response is lost is unknown, then found by its metadata") {
    harness h;
    h.fake.drop_next_post_responses = 1;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        auto o = post_to("C0INC", 42, "the summary");
        o.to = outbound::target::thread;
        o.thread_root = "1767350900.000100";
        auto r = co_await [&]() -> asio::awaitable<send_result> {
            slack::adapter a(h.ioc.get_executor(), h.cfg());
            auto first = co_await a.send(o);
            CHECK(first.st == send_result::status::unknown);
            CHECK_FALSE(first.error.empty());
            // Same process: the next send looks first and does not post again.
            co_return co_await a.send(o);
        }();
        CHECK(r.st == send_result::status::sent);
        REQUIRE(h.fake.messages.size() == 1);
        CHECK(r.ref == h.fake.messages[0].ts);
        const auto& md = h.fake.messages[0].args.at("metadata").as_object();
        CHECK(md.at("event_type").as_string() == "postmortem_outbox");
        CHECK(md.at("event_payload").as_object().at("row").as_string() == "42");
        CHECK(md.at("event_payload").as_object().at("txn").as_string() == "txn-42");

        // After a restart: a new adapter finds it by metadata (conversations.replies).
        slack::adapter fresh(h.ioc.get_executor(), h.cfg());
        auto found = co_await fresh.find_sent(o);
        REQUIRE(found);
        CHECK(found->st == send_result::status::sent);
        CHECK(found->ref == h.fake.messages[0].ts);
        CHECK(h.fake.calls.back().method == "conversations.replies");
        auto other = post_to("C0INC", 43, "never sent");
        CHECK_FALSE(co_await fresh.find_sent(other));
        CHECK(h.fake.calls.back().method == "conversations.history");
        CHECK(h.fake.messages.size() == 1);
    });
}

TEST_CASE("slack: a response lost on a kept-alive connection is unknown, a failed lookup never reposts") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        slack::adapter a(h.ioc.get_executor(), h.cfg());
        CHECK((co_await a.send(post_to("C0INC", 1, "first"))).st == send_result::status::sent);
        // The connection of the first post is reused; the server stores the post, then closes.
        h.fake.drop_next_post_responses = 1;
        auto o = post_to("C0INC", 2, "second");
        CHECK((co_await a.send(o)).st == send_result::status::unknown);
        CHECK(h.fake.messages.size() == 2);

        // After a restart, while Slack cannot answer the lookup: not found, and not posted again.
        bool history_fails = true;
        h.fake.hook = [&](const fake_slack::call& c) -> std::optional<fake_slack::injected> {
            if (!history_fails || c.method != "conversations.history") return std::nullopt;
            fake_slack::injected i;
            i.body = R"({"ok":false,"error":"internal_error"})";
            return i;
        };
        slack::adapter fresh(h.ioc.get_executor(), h.cfg());
        CHECK_FALSE(co_await fresh.find_sent(o));
        CHECK((co_await fresh.send(o)).st == send_result::status::unknown);
        CHECK(h.fake.messages.size() == 2);
        history_fails = false;
        auto r = co_await fresh.send(o);
        CHECK(r.st == send_result::status::sent);
        CHECK(r.ref == h.fake.messages[1].ts);
        CHECK(h.fake.messages.size() == 2);
    });
}

TEST_CASE("slack: targets: DM via conversations.open, ephemeral, thread root with notify, split messages") {
    harness h;
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        slack::adapter a(h.ioc.get_executor(), h.cfg());
        auto dm = post_to("", 1, "hello in DM");
        dm.to = outbound::target::dm;
        dm.user = "U0ALICE";
        auto r = co_await a.send(dm);
        CHECK(r.st == send_result::status::sent);
        CHECK(r.dm_channel == "D0ALICE");
        REQUIRE(h.fake.messages.size() == 1);
        CHECK(h.fake.messages[0].channel == "D0ALICE");

        auto eph = post_to("C0INC", 2, "only you");
        eph.to = outbound::target::private_to;
        eph.user = "U0ALICE";
        r = co_await a.send(eph);
        CHECK(r.st == send_result::status::sent);
        REQUIRE(h.fake.messages.size() == 2);
        CHECK(h.fake.messages[1].ephemeral);
        CHECK(h.fake.messages[1].user == "U0ALICE");

        auto root = post_to("C0INC", 3, "Your thread for INC-2291");
        root.notify = {"U0ALICE"};
        root.body.actions = {{"skip", "Skip"}};
        r = co_await a.send(root);
        CHECK(r.st == send_result::status::sent);
        CHECK(text_of(h.fake.messages[2]).find("<@U0ALICE>") != std::string::npos);

        auto big = post_to("C0INC", 4, "x");
        big.body.blocks.clear();
        for (int i = 0; i < 120; ++i)
            big.body.blocks.push_back(rich::para({rich::txt("line " + std::to_string(i))}));
        r = co_await a.send(big);
        CHECK(r.st == send_result::status::sent);
        REQUIRE(h.fake.messages.size() == 6); // 120 blocks → 3 messages of ≤ 45
        CHECK(r.ref == h.fake.messages[3].ts);
        for (int i = 0; i < 3; ++i) {
            const auto& md = h.fake.messages[3 + i].args.at("metadata").as_object();
            CHECK(md.at("event_payload").as_object().at("part").as_int64() == i);
        }
        // find_sent sees all the parts.
        auto f = co_await a.find_sent(big);
        REQUIRE(f);
        CHECK(f->ref == h.fake.messages[3].ts);

        auto file = post_to("C0INC", 5, "export");
        file.body = {};
        file.file_name = "PM-12.md";
        file.file_content = "# PM-12\n";
        r = co_await a.send(file);
        CHECK(r.st == send_result::status::sent);
        REQUIRE(h.fake.files.size() == 1);
        CHECK(h.fake.files.begin()->second == "# PM-12\n");
    });
}

TEST_CASE("slack: not_in_channel fails with a readable error, invalid_auth stops run() with a clear error") {
    harness h;
    h.fake.channel_errors["C0NOPE"] = "not_in_channel";
    run_test(h.ioc, [&]() -> asio::awaitable<void> {
        slack::adapter a(h.ioc.get_executor(), h.cfg());
        auto r = co_await a.send(post_to("C0NOPE", 1, "hello"));
        CHECK(r.st == send_result::status::failed);
        CHECK(r.error.find("not a member of channel C0NOPE") != std::string::npos);

        h.fake.auth_error = "invalid_auth";
        h.start();
        REQUIRE(co_await eventually([&] { return h.run_done; }));
        CHECK(h.run_error.find("invalid_auth") != std::string::npos);
        CHECK(h.run_error.find("xoxb-test") == std::string::npos);
        CHECK_FALSE(h.bot->ready());
    });
}

TEST_CASE("slack: config validation") {
    slack::config c;
    CHECK(slack::validate(c).find("missing") != std::string::npos);
    c.bot_token = "xoxp-user-token";
    c.app_token = "xapp-1";
    CHECK(slack::validate(c).find("xoxb-") != std::string::npos);
    c.bot_token = "xoxb-1";
    c.app_token = "xoxb-2";
    CHECK(slack::validate(c).find("xapp-") != std::string::npos);
    c.app_token = "xapp-1";
    CHECK(slack::validate(c).empty());
    c.api_url = "http://slack.example/api/";
    CHECK(slack::validate(c).find("loopback") != std::string::npos);
    asio::io_context ioc;
    CHECK_THROWS_AS(slack::adapter(ioc.get_executor(), c), std::invalid_argument);
}

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "bot/store.hpp"
#include "conversations/events.hpp"

using namespace pm;

namespace {
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char tmpl[] = "/tmp/pm-store-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

conv::send message_to(const std::string& platform, const std::string& text, const std::string& opens = "") {
    conv::send s;
    s.to = conv::destination{conv::destination::kind::channel, platform, "#incident", opens, ""};
    s.body = rich::message{{rich::para({rich::txt(text)})}, text};
    return s;
}
} // namespace

TEST_CASE("store: one commit holds events, outbox rows, timers and the inbox mark, reopening keeps them") {
    temp_dir d;
    {
        auto st = bot::store::open(d.path);
        conv::outcome out;
        auto e = conv::ev::make("tz_set", "");
        e["platform"] = "shell";
        e["user"] = "bob";
        e["tz"] = "Europe/Berlin";
        out.events.push_back(e);
        out.sends.push_back(message_to("shell", "hello", "PM-1/bob"));
        out.sends.push_back(message_to("slack", "other platform"));
        out.schedules.push_back(
            {conv::sys_seconds{std::chrono::seconds{1000}}, {"PM-1", conv::timer_in::kind::remind}});
        CHECK_FALSE(st->seen("shell", "ev-1"));
        st->commit({&out, "shell", "ev-1", std::nullopt, 1});
        CHECK(st->seen("shell", "ev-1"));
        CHECK_FALSE(st->seen("slack", "ev-1"));
        auto rows = st->pending("shell", 10);
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].msg.body.fallback == "hello");
        CHECK(rows[0].txn_id() == "pm-out-" + std::to_string(rows[0].id));
        bot::commit_request mark;
        mark.now_ms = 2;
        mark.outbox_sending.push_back(rows[0].id);
        st->commit(mark);
        CHECK(st->outbox_depth() == 2);
    }
    auto st = bot::store::open(d.path); // a restart
    conv::world w;
    st->replay([&](const boost::json::object& e) { conv::fold(w, e); });
    CHECK(w.users.at("shell/bob").tz == "Europe/Berlin");
    auto rows = st->pending("shell", 10);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].st == bot::outbox_row::state::sending); // outcome unknown: looked up before resending
    CHECK(rows[0].attempts == 1);
    st->mark_sent(rows[0], "1234.5678");
    CHECK(st->pending("shell", 10).empty());
    CHECK(st->thread_ref("shell", "PM-1/bob") == "1234.5678");
    CHECK(st->thread_key_for("shell", "1234.5678") == "PM-1/bob");
    auto timers = st->timers();
    REQUIRE(timers.size() == 1);
    CHECK(timers[0].timer.pm == "PM-1");
    st->commit({nullptr, "", "", timers[0].id, 2});
    CHECK(st->timers().empty());
    auto slack = st->pending("slack", 10);
    REQUIRE(slack.size() == 1);
    st->mark_retry(slack[0].id, 99);
    CHECK(st->pending("slack", 10)[0].not_before_ms == 99);
    st->mark_failed(slack[0].id, "not_in_channel");
    CHECK(st->outbox_depth() == 0);
    st->put("matrix.next_batch", "s72");
    CHECK(st->get("matrix.next_batch") == "s72");
    CHECK(st->writable());
}

TEST_CASE("store: a data dir that cannot be created or a corrupt file is a clear error") {
    temp_dir d;
    std::ofstream(d.path / "file") << "x";
    CHECK_THROWS_WITH_AS(bot::store::open(d.path / "file" / "sub"),
                         doctest::Contains("cannot create the data directory"), std::runtime_error);
    std::filesystem::create_directories(d.path / "bad");
    std::ofstream(d.path / "bad" / "postmortem.db") << std::string(4096, 'z');
    CHECK_THROWS_WITH_AS(bot::store::open(d.path / "bad"), doctest::Contains("cannot use"),
                         std::runtime_error);
}

TEST_CASE("store: a second instance on the same data dir is refused while the first runs") {
    temp_dir d;
    {
        auto first = bot::store::open(d.path);
        first->put("k", "v");
        CHECK_THROWS_WITH_AS(bot::store::open(d.path), doctest::Contains("in use by another process"),
                             std::runtime_error);
        CHECK(first->get("k") == "v");
        first->put("k", "w"); // the first keeps working
    }
    auto again = bot::store::open(d.path); // and once it is gone, the next one starts
    CHECK(again->get("k") == "w");
}

TEST_CASE("store: outbox rows name the input that caused them") {
    temp_dir d;
    auto st = bot::store::open(d.path);
    conv::outcome out;
    out.sends.push_back(message_to("slack", "hi"));
    st->commit({&out, "slack", "Ev123", std::nullopt, 1});
    bot::commit_request timer{&out, "", "", std::nullopt, 2, "timer-7"};
    st->commit(timer);
    auto rows = st->pending("slack", 10);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].correlation == "Ev123");
    CHECK(rows[1].correlation == "timer-7");
}

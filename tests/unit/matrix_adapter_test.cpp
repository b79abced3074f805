// The Matrix adapter on loopback against the fake homeserver: joins, ordered delivery, the
// sync cursor advanced only after the sink returned, redelivery, gap filling, 429s with the same
// txnId, lost responses, encrypted rooms, DMs, files and an expired token. Every wait is bounded
// by a guard and checks a condition, never a duration.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "adapters/matrix/matrix_adapter.hpp"
#include "fake_matrix.hpp"

using namespace pm;
using namespace pm::adapters;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using pm::test::fake_matrix;
using pm::test::text_event;

namespace {

struct mem_cursors final : cursor_store {
    std::map<std::string, std::string> kv;
    std::optional<std::string> get(const std::string& k) override {
        auto it = kv.find(k);
        if (it == kv.end()) return std::nullopt;
        return it->second;
    }
    void put(const std::string& k, const std::string& v) override { kv[k] = v; }
};

struct harness {
    asio::io_context ioc;
    fake_matrix hs{ioc.get_executor()};
    mem_cursors cur;
    std::vector<chat_event> got;
    std::vector<std::string> cursor_at_sink;         // matrix.next_batch when each event reached the sink
    std::function<void(const chat_event&)> on_event; // may throw: a failed commit
    std::unique_ptr<matrix::adapter> a;
    bool done = false;
    std::string error;

    matrix::config cfg() {
        matrix::config c;
        c.homeserver = hs.base_url();
        c.user_id = hs.user_id;
        c.access_token = hs.token;
        c.backoff_initial = 5ms;
        c.backoff_max = 20ms;
        return c;
    }

    void start(matrix::config c) {
        done = false;
        error.clear();
        a = matrix::make_matrix_adapter(ioc.get_executor(), std::move(c), cur);
        event_sink sink = [this](chat_event ev) -> asio::awaitable<void> {
            cursor_at_sink.push_back(cur.get("matrix.next_batch").value_or(""));
            // The commit takes a moment: the adapter must wait for it.
            asio::steady_timer t(ioc, 2ms);
            co_await t.async_wait(asio::use_awaitable);
            if (on_event) on_event(ev);
            got.push_back(std::move(ev));
        };
        asio::co_spawn(ioc, a->run(std::move(sink)), [this](std::exception_ptr e) {
            done = true;
            if (e) try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    error = x.what();
                }
        });
    }
    void start() { start(cfg()); }

    // Runs the loop until `pred` holds; the guard only keeps a broken test from hanging.
    bool run_until(const std::function<bool()>& pred) {
        auto guard = std::chrono::steady_clock::now() + 15s;
        while (!pred() && std::chrono::steady_clock::now() < guard) {
            if (ioc.stopped()) ioc.restart();
            ioc.run_for(2ms);
        }
        return pred();
    }

    void stop() {
        if (!a) return;
        a->stop();
        REQUIRE(run_until([&] { return done; }));
    }

    send_result send(const outbound& o) {
        std::optional<send_result> r;
        asio::co_spawn(ioc, a->send(o), [&](std::exception_ptr e, send_result s) {
            REQUIRE_FALSE(e);
            r = s;
        });
        REQUIRE(run_until([&] { return r.has_value(); }));
        return *r;
    }

    // Started, initial sync done (cursor "s0").
    void start_synced() {
        start();
        REQUIRE(run_until([&] { return cur.get("matrix.next_batch") == std::optional<std::string>("s0"); }));
    }
};

outbound channel_msg(const std::string& room, const std::string& txn, const std::string& text) {
    outbound o;
    o.txn_id = txn;
    o.channel = room;
    o.body.blocks.push_back(rich::para({rich::txt(text)}));
    return o;
}

const std::string room = "!inc42:example.org";

} // namespace

TEST_CASE("matrix: config validation") {
    matrix::config c;
    CHECK(matrix::validate(c) == "Matrix homeserver URL is missing (MATRIX_HOMESERVER)");
    c.homeserver = "http://matrix.example.org";
    CHECK(matrix::validate(c).find("loopback") != std::string::npos);
    c.homeserver = "https://matrix.example.org";
    CHECK(matrix::validate(c) == "Matrix user id is missing (MATRIX_USER_ID)");
    c.user_id = "pmbot";
    CHECK(matrix::validate(c).find("not of the form @name:server") != std::string::npos);
    c.user_id = "@pmbot:example.org";
    CHECK(matrix::validate(c) == "Matrix needs an access token (MATRIX_ACCESS_TOKEN) or a password");
    c.access_token = "syt_secret";
    CHECK(matrix::validate(c) == "");
    c.sync_deadline = c.sync_timeout;
    CHECK(matrix::validate(c) == "Matrix sync_deadline must be longer than sync_timeout");
    asio::io_context ioc;
    mem_cursors cur;
    CHECK_THROWS_AS(matrix::make_matrix_adapter(ioc.get_executor(), c, cur), std::invalid_argument);
}

TEST_CASE("matrix: first start skips history, invite → join, messages in order after the cursor") {
    harness h;
    // Old history in the initial sync is not input.
    h.hs.initial = json::object{
        {"rooms",
         json::object{
             {"join",
              json::object{
                  {room,
                   json::object{{"timeline", json::object{{"events", json::array{text_event(
                                                                         "$old", "@alice:example.org",
                                                                         "!postmortem start old")}}}}}}}}}}};
    h.hs.queue_invite("!new:example.org", "@bob:other.org");
    h.hs.queue_timeline(room, json::array{text_event("$a", "@alice:example.org", "!postmortem start DB"),
                                          text_event("$b", "@bob:example.org", "14:05 restarted db-2"),
                                          text_event("$b", "@bob:example.org", "14:05 restarted db-2"),
                                          text_event("$c", "@carol:example.org", "second line")});
    h.hs.display_names["@alice:example.org"] = "Alice";
    h.start();
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s2"); }));
    CHECK(h.hs.filters == 1);
    CHECK(h.cur.get("matrix.filter_id") == std::optional<std::string>("f1"));
    REQUIRE(h.hs.joins.size() == 1);
    CHECK(h.hs.joins[0] == std::pair<std::string, std::string>("!new:example.org", "other.org"));
    REQUIRE(h.got.size() == 3); // $old skipped, the repeated $b once
    CHECK(h.got[0].event_id == "$a");
    CHECK(h.got[0].is_command);
    CHECK(h.got[0].text == "start DB");
    CHECK(h.got[0].user.name == "Alice"); // from the profile
    CHECK(h.got[1].event_id == "$b");
    CHECK(h.got[2].event_id == "$c");
    // Every event reached the sink while the cursor still named the batch's start.
    CHECK(h.cursor_at_sink == std::vector<std::string>{"s1", "s1", "s1"});
    CHECK(h.a->stats().duplicates_dropped == 1);
    CHECK(h.a->ready());
    h.stop();
    CHECK(h.error.empty());
    // The sync requests: initial, then with since, never going back.
    REQUIRE(h.hs.sync_sinces.size() >= 3);
    CHECK(h.hs.sync_sinces[0] == "");
    CHECK(h.hs.sync_sinces[1] == "s0");
    CHECK(h.hs.sync_sinces[2] == "s1");
    // The long poll asks the server to hold 30 s and carries the uploaded filter.
    bool saw = false;
    for (auto& r : h.hs.requests)
        if (r.path.find("/sync") != std::string::npos && r.query.find("since=s1") != std::string::npos) {
            saw = true;
            CHECK(r.query.find("timeout=30000") != std::string::npos);
            CHECK(r.query.find("filter=f1") != std::string::npos);
        }
    CHECK(saw);
}

TEST_CASE("matrix: a batch whose commit fails is delivered again, the cursor not advanced") {
    harness h;
    h.hs.queue_timeline(room, json::array{text_event("$1", "@alice:example.org", "one"),
                                          text_event("$2", "@alice:example.org", "two")});
    int fail = 1;
    h.on_event = [&](const chat_event& e) {
        if (e.event_id == "$2" && fail-- > 0) throw std::runtime_error("store is down");
    };
    h.start();
    REQUIRE(h.run_until([&] { return h.done; }));
    CHECK(h.error == "store is down");
    CHECK(h.cur.get("matrix.next_batch") == std::optional<std::string>("s0"));
    REQUIRE(h.got.size() == 1);

    // A restart with the same cursors: the same batch again, then the cursor moves.
    h.start();
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s1"); }));
    h.stop();
    REQUIRE(h.got.size() == 3);
    CHECK(h.got[1].event_id == "$1"); // redelivered: the bot's store drops it by event_id
    CHECK(h.got[2].event_id == "$2");
    CHECK(h.hs.count("GET", "/sync") >= 3);
}

TEST_CASE("matrix: a limited timeline's gap is filled from /messages") {
    harness h;
    h.hs.queue_timeline(room, json::array{text_event("$t1", "@alice:example.org", "before")});
    h.hs.queue_timeline(room, json::array{text_event("$late", "@bob:example.org", "after the gap")}, true,
                        "t-gap");
    h.hs.set_messages(room, "s1",
                      json::array{text_event("$g1", "@bob:example.org", "gap one"),
                                  text_event("$g2", "@carol:example.org", "gap two")},
                      "t-mid");
    h.hs.set_messages(room, "t-mid", json::array{text_event("$g3", "@bob:example.org", "gap three")});
    h.start();
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s2"); }));
    h.stop();
    std::vector<std::string> ids;
    for (auto& e : h.got)
        ids.push_back(e.event_id);
    CHECK(ids == std::vector<std::string>{"$t1", "$g1", "$g2", "$g3", "$late"});
    CHECK(h.a->stats().gaps_filled == 1);
    bool saw = false;
    for (auto& r : h.hs.requests)
        if (r.path.find("/messages") != std::string::npos && r.query.find("from=s1") != std::string::npos) {
            saw = true;
            CHECK(r.query.find("to=t-gap") != std::string::npos);
            CHECK(r.query.find("dir=f") != std::string::npos);
        }
    CHECK(saw);
}

TEST_CASE("matrix: a 429 burst: retried with the same txnId, delivered once") {
    harness h;
    h.start_synced();
    fake_matrix::injected i;
    i.method = "PUT";
    i.path_contains = "/send/";
    i.count = 3;
    h.hs.inject(i);
    fake_matrix::injected hdr = i;
    hdr.count = 1;
    hdr.body = R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests"})";
    hdr.headers = {{"Retry-After", "2"}};
    h.hs.inject(hdr);

    auto o = channel_msg(room, "pm-7", "hello");
    std::vector<std::chrono::milliseconds> waits;
    send_result r;
    for (int attempt = 0; attempt < 10; ++attempt) {
        r = h.send(o);
        if (r.st != send_result::status::retry) break;
        waits.push_back(r.retry_after);
    }
    CHECK(r.st == send_result::status::sent);
    CHECK(waits == std::vector<std::chrono::milliseconds>{20ms, 20ms, 20ms, 2000ms});
    // Every attempt, refused or not, named the same transaction.
    std::vector<std::string> attempts;
    for (auto& q : h.hs.requests)
        if (q.method == "PUT" && q.path.find("/send/") != std::string::npos)
            attempts.push_back(q.path.substr(q.path.rfind('/') + 1));
    CHECK(attempts == std::vector<std::string>{"pm-7", "pm-7", "pm-7", "pm-7", "pm-7"});
    CHECK(h.hs.send_txns == std::vector<std::string>{"pm-7"});
    REQUIRE(h.hs.events.size() == 1);
    CHECK(r.ref == h.hs.events[0].event_id);
    CHECK(h.a->stats().rate_limited == 4);
    h.stop();
}

TEST_CASE("matrix: a lost response: the retry reuses the txnId and posts nothing twice") {
    harness h;
    h.start_synced();
    fake_matrix::injected i;
    i.method = "PUT";
    i.path_contains = "/send/";
    i.process_then_drop = true;
    h.hs.inject(i);
    auto o = channel_msg(room, "pm-8", "only once");
    auto r1 = h.send(o);
    CHECK(r1.st == send_result::status::retry);
    auto r2 = h.send(o);
    CHECK(r2.st == send_result::status::sent);
    REQUIRE(h.hs.events.size() == 1);
    CHECK(r2.ref == h.hs.events[0].event_id);
    CHECK(h.hs.send_txns == std::vector<std::string>{"pm-8", "pm-8"});
    h.stop();
}

TEST_CASE("matrix: sends: notice, thread relation, mentions, forbidden") {
    harness h;
    h.start_synced();
    outbound o = channel_msg(room, "pm-9", "@room <b>hi</b>");
    o.to = outbound::target::thread;
    o.thread_root = "$root";
    o.notify = {"@bob:example.org"};
    o.body.blocks.insert(o.body.blocks.begin(), rich::para({rich::mention("@bob:example.org", "Bob")}));
    auto r = h.send(o);
    REQUIRE(r.st == send_result::status::sent);
    REQUIRE(h.hs.events.size() == 1);
    auto& c = h.hs.events[0].content;
    CHECK(h.hs.events[0].room == room);
    CHECK(h.hs.events[0].type == "m.room.message");
    CHECK(c.at("msgtype") == "m.notice");
    CHECK(c.at("m.relates_to").at("rel_type") == "m.thread");
    CHECK(c.at("m.relates_to").at("event_id") == "$root");
    CHECK(c.at("m.mentions").at("user_ids").as_array().size() == 1);
    CHECK(std::string(c.at("formatted_body").as_string()).find("&lt;b&gt;hi&lt;/b&gt;") != std::string::npos);

    fake_matrix::injected f;
    f.method = "PUT";
    f.path_contains = "/send/";
    f.status = 403;
    f.body = R"({"errcode":"M_FORBIDDEN","error":"You are not allowed to send here"})";
    h.hs.inject(f);
    auto r2 = h.send(channel_msg("!locked:example.org", "pm-10", "x"));
    CHECK(r2.st == send_result::status::failed);
    CHECK(r2.error.find("M_FORBIDDEN") != std::string::npos);
    CHECK(r2.error.find("allowed to post") != std::string::npos);
    h.stop();
}

TEST_CASE("matrix: DMs and private messages go to one created DM room, files are uploaded") {
    harness h;
    h.start_synced();
    outbound o = channel_msg("", "pm-11", "your preview");
    o.to = outbound::target::private_to;
    o.channel = room;
    o.user = "@alice:example.org";
    auto r = h.send(o);
    REQUIRE(r.st == send_result::status::sent);
    REQUIRE(h.hs.created_rooms.size() == 1);
    CHECK(h.hs.created_rooms[0].at("is_direct") == true);
    CHECK(h.hs.created_rooms[0].at("invite").as_array()[0] == "@alice:example.org");
    CHECK(r.dm_channel == "!dm1:example.org");
    CHECK(h.hs.m_direct.at("@alice:example.org").as_array()[0] == "!dm1:example.org");
    CHECK(h.hs.events.at(0).room == "!dm1:example.org");

    outbound d = channel_msg("", "pm-12", "question 1");
    d.to = outbound::target::dm;
    d.user = "@alice:example.org";
    d.file_name = "PM-12-db-failover.md";
    d.file_content = "# PM-12\n";
    auto r2 = h.send(d);
    REQUIRE(r2.st == send_result::status::sent);
    CHECK(h.hs.created_rooms.size() == 1); // reused
    REQUIRE(h.hs.events.size() == 3);
    auto& file = h.hs.events[2];
    CHECK(file.room == "!dm1:example.org");
    CHECK(file.txn == "pm-12.file");
    CHECK(file.content.at("msgtype") == "m.file");
    CHECK(file.content.at("filename") == "PM-12-db-failover.md");
    auto mxc = std::string(file.content.at("url").as_string());
    CHECK(h.hs.uploads.at(mxc) == "# PM-12\n");
    CHECK(h.cur.get("matrix.direct").has_value());
    h.stop();
}

TEST_CASE("matrix: an encrypted room gets one plain notice, remembered") {
    harness h;
    json::object enc_state{
        {"event_id", "$es"},     {"type", "m.room.encryption"},
        {"state_key", ""},       {"sender", "@alice:example.org"},
        {"origin_server_ts", 1}, {"content", json::object{{"algorithm", "m.megolm.v1.aes-sha2"}}}};
    json::object encrypted{
        {"event_id", "$e1"},
        {"type", "m.room.encrypted"},
        {"sender", "@alice:example.org"},
        {"origin_server_ts", 2},
        {"content", json::object{{"algorithm", "m.megolm.v1.aes-sha2"}, {"ciphertext", "AwgA"}}}};
    h.hs.queue_timeline("!sec:example.org", json::array{enc_state, encrypted});
    auto e2 = encrypted;
    e2["event_id"] = "$e2";
    h.hs.queue_timeline("!sec:example.org", json::array{e2});
    h.start();
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s2"); }));
    h.stop();
    auto sent = h.hs.events_in("!sec:example.org");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].content.at("msgtype") == "m.notice");
    CHECK(std::string(sent[0].content.at("body").as_string()).find("encrypted") != std::string::npos);
    CHECK(h.got.empty());
    CHECK(h.cur.get("matrix.e2ee_notice.!sec:example.org").has_value());
}

TEST_CASE("matrix: an expired token stops the sync loop with a clear error") {
    harness h;
    h.start_synced();
    h.hs.expire_token();
    REQUIRE(h.run_until([&] { return h.done; }));
    CHECK(h.error.find("M_UNKNOWN_TOKEN") != std::string::npos);
    CHECK(h.error.find("MATRIX_ACCESS_TOKEN") != std::string::npos);
    CHECK(h.hs.syncs_after_expiry == 1); // no retry loop with a dead token
    CHECK_FALSE(h.a->ready());
    auto r = h.send(channel_msg(room, "pm-13", "x"));
    CHECK(r.st == send_result::status::failed);
    CHECK(r.error.find("M_UNKNOWN_TOKEN") != std::string::npos);
    CHECK(h.hs.send_txns.empty()); // not even tried
}

TEST_CASE("matrix: password login once, the token kept in the cursors") {
    harness h;
    auto c = h.cfg();
    c.access_token.clear();
    c.password = h.hs.password;
    h.start(c);
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch").has_value(); }));
    h.stop();
    CHECK(h.hs.logins == 1);
    CHECK(h.cur.get("matrix.access_token") == std::optional<std::string>(h.hs.token));
    const int syncs = h.hs.count("GET", "/sync");
    h.start(c);
    REQUIRE(h.run_until([&] { return h.hs.count("GET", "/sync") >= syncs + 2; }));
    h.stop();
    CHECK(h.hs.logins == 1); // the stored token was used
    CHECK(h.hs.requests.back().token == h.hs.token);
}

TEST_CASE("matrix: whoami naming another user stops at start") {
    harness h;
    h.hs.whoami_user = "@someoneelse:example.org";
    h.start();
    REQUIRE(h.run_until([&] { return h.done; }));
    CHECK(h.error.find("belongs to @someoneelse:example.org") != std::string::npos);
    CHECK(h.hs.count("GET", "/sync") == 0);
}

TEST_CASE("matrix: a DM invite: joined, its messages arrive as dm, replies go there") {
    harness h;
    h.hs.queue_invite("!dmin:example.org", "@dave:example.org", true);
    json::object join{{"event_id", "$j"},          {"type", "m.room.member"},
                      {"state_key", h.hs.user_id}, {"sender", h.hs.user_id},
                      {"origin_server_ts", 1},     {"content", json::object{{"membership", "join"}}}};
    h.hs.queue_timeline("!dmin:example.org",
                        json::array{text_event("$before", "@dave:example.org", "before the join"), join,
                                    text_event("$hi", "@dave:example.org", "!postmortem status PM-1")});
    h.start();
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s2"); }));
    REQUIRE(h.got.size() == 1); // history before the bot's own join is not input
    CHECK(h.got[0].event_id == "$hi");
    CHECK(h.got[0].where.k == place::kind::dm);
    CHECK(h.got[0].where.channel == "!dmin:example.org");
    CHECK(h.got[0].is_command);
    outbound o = channel_msg("", "pm-20", "status");
    o.to = outbound::target::dm;
    o.user = "@dave:example.org";
    auto r = h.send(o);
    CHECK(r.st == send_result::status::sent);
    CHECK(r.dm_channel == "!dmin:example.org");
    CHECK(h.hs.created_rooms.empty());
    h.stop();
}

TEST_CASE("matrix: an encryption notice refused by a rate limit is posted after a later sync") {
    harness h;
    fake_matrix::injected i;
    i.method = "PUT";
    i.path_contains = "/send/";
    h.hs.inject(i);
    json::object enc_state{
        {"event_id", "$es"},     {"type", "m.room.encryption"},
        {"state_key", ""},       {"sender", "@alice:example.org"},
        {"origin_server_ts", 1}, {"content", json::object{{"algorithm", "m.megolm.v1.aes-sha2"}}}};
    h.hs.queue_timeline("!sec2:example.org", json::array{enc_state});
    h.start();
    REQUIRE(h.run_until([&] { return h.hs.events_in("!sec2:example.org").size() == 1; }));
    REQUIRE(h.run_until([&] { return h.hs.count("GET", "/sync") >= 5; }));
    h.stop();
    CHECK(h.hs.events_in("!sec2:example.org").size() == 1);
    CHECK(h.hs.count("PUT", "/send/") == 2);
}

TEST_CASE("matrix: sync survives 429, 5xx, garbage and a forgotten filter") {
    harness h;
    h.start_synced();
    auto inject = [&](int status, std::string body) {
        fake_matrix::injected i;
        i.method = "GET";
        i.path_contains = "/sync";
        i.status = status;
        i.body = std::move(body);
        h.hs.inject(i);
    };
    inject(429, R"({"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":10})");
    inject(502, "<html>bad gateway</html>");
    inject(200, R"({"rooms":{}})"); // no next_batch
    inject(400, R"({"errcode":"M_INVALID_PARAM","error":"unknown filter"})");
    h.hs.queue_timeline(room, json::array{text_event("$x", "@alice:example.org", "after the trouble")});
    REQUIRE(h.run_until([&] { return h.got.size() == 1 && h.hs.filters == 2; }));
    REQUIRE(h.run_until([&] { return h.cur.get("matrix.next_batch") == std::optional<std::string>("s1"); }));
    h.stop();
    CHECK(h.error.empty());
    CHECK(h.a->stats().rate_limited == 1);
    CHECK(h.got[0].event_id == "$x");
    CHECK(h.hs.filters == 2); // uploaded again after the server forgot it
    CHECK(h.cur.get("matrix.filter_id") == std::optional<std::string>("f2"));
}

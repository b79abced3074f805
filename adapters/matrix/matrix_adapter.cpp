#include "adapters/matrix/matrix_adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "adapters/matrix/render.hpp"
#include "adapters/matrix/sync.hpp"
#include "adapters/net/backoff.hpp"
#include "adapters/net/http_client.hpp"
#include "adapters/net/redact.hpp"
#include "adapters/net/url.hpp"

namespace pm::adapters::matrix {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string validate(const config& c) {
    if (c.homeserver.empty()) return "Matrix homeserver URL is missing (MATRIX_HOMESERVER)";
    auto ep = net::parse_endpoint(c.homeserver);
    if (!ep) return "Matrix homeserver URL '" + net::redact(c.homeserver) + "': " + ep.error;
    if (ep.ep.websocket) return "Matrix homeserver URL must be http(s)://";
    if (c.homeserver.find('?') != std::string::npos || c.homeserver.find('#') != std::string::npos)
        return "Matrix homeserver URL must not carry a query or fragment";
    if (c.user_id.empty()) return "Matrix user id is missing (MATRIX_USER_ID)";
    auto colon = c.user_id.find(':');
    if (c.user_id[0] != '@' || colon == std::string::npos || colon < 2 || colon + 1 == c.user_id.size())
        return "Matrix user id '" + c.user_id + "' is not of the form @name:server (MATRIX_USER_ID)";
    if (c.access_token.empty() && c.password.empty())
        return "Matrix needs an access token (MATRIX_ACCESS_TOKEN) or a password";
    if (c.access_token.find_first_of(" \r\n\t") != std::string::npos)
        return "Matrix access token contains white space (MATRIX_ACCESS_TOKEN)";
    if (c.sync_timeout < 0ms || c.sync_timeout > 60s) return "Matrix sync_timeout must be 0..60 s";
    if (c.sync_deadline <= c.sync_timeout) return "Matrix sync_deadline must be longer than sync_timeout";
    if (c.timeline_limit < 1 || c.timeline_limit > 1000) return "Matrix timeline_limit must be 1..1000";
    if (c.gap_fill_max_pages < 0 || c.gap_fill_max_pages > 100)
        return "Matrix gap_fill_max_pages must be 0..100";
    if (c.command.empty() || c.command.find(' ') != std::string::npos)
        return "Matrix command must be one word";
    return {};
}

namespace {

// Path parameters and query values are percent-encoded (protocols/matrix.md: `!`, `#`, `$`, `:` …).
std::string pe(std::string_view s) {
    return net::form_encode(s);
}

std::string server_of(std::string_view mxid) {
    auto c = mxid.find(':');
    return c == std::string_view::npos ? std::string() : std::string(mxid.substr(c + 1));
}

// A txnId for the bot's own notices: stable per room, safe in a path.
std::string stable_txn(std::string_view prefix, std::string_view key) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : key)
        h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string(prefix) + buf;
}

struct api_reply {
    bool transport_error = false;
    bool sent = false;     // request written before a transport failure
    std::string transport; // readable transport failure
    int status = 0;
    json::value body; // parsed JSON (null when not JSON)
    std::string raw;  // the body as received
    std::string errcode;
    std::string error;
    std::chrono::milliseconds retry_after{0};

    bool ok() const { return !transport_error && status >= 200 && status < 300; }
    bool token_refused() const {
        return status == 401 || errcode == "M_UNKNOWN_TOKEN" || errcode == "M_MISSING_TOKEN";
    }
    bool rate_limited() const { return status == 429 || errcode == "M_LIMIT_EXCEEDED"; }
    bool transient() const { return transport_error || status >= 500 || rate_limited(); }
    std::string field(std::string_view k) const {
        if (!body.is_object()) return {};
        auto it = body.get_object().find(k);
        return it != body.get_object().end() && it->value().is_string()
                   ? std::string(it->value().get_string())
                   : std::string();
    }
    std::string describe() const {
        if (transport_error) return transport;
        std::string s = "HTTP " + std::to_string(status);
        if (!errcode.empty()) s += " " + errcode;
        if (!error.empty()) s += ": " + net::redact(error);
        return s;
    }
};

struct room_state {
    bool is_dm = false;
    bool encrypted = false;
    std::map<std::string, std::string> names; // members' display names
    std::optional<std::int64_t> joined_members;
};

const char* k_next_batch = "matrix.next_batch";
const char* k_filter = "matrix.filter_id";
const char* k_token = "matrix.access_token";
const char* k_direct = "matrix.direct";

class fatal_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A batch that must be fetched and handled again (its cursor is not advanced).
class batch_retry : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace

struct adapter::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    config cfg;
    cursor_store& cursors;
    net::http_client http;
    net::backoff bo;
    asio::steady_timer sleeper;
    std::mt19937_64 rng{std::random_device{}()};
    convert_options conv;

    std::string token;
    bool token_from_store = false;
    std::string filter_id;
    bool stopped = false;
    bool synced = false;
    std::string fatal; // set once the homeserver refused the token: nothing more is tried
    std::map<std::string, room_state> rooms;
    std::map<std::string, std::string> dm_by_user;    // user → DM room
    std::set<std::string> direct_rooms;               // rooms listed in m.direct
    std::map<std::string, std::string> profile_names; // user → display name (profile lookups)
    std::set<std::string> e2ee_settled;               // encrypted rooms told (or that cannot be)
    counters cnt;

    static net::http_client::options http_opts(const config& c) {
        net::http_client::options o;
        o.tls.ca_file = c.ca_file;
        o.connect_timeout = c.connect_timeout;
        o.request_timeout = c.http_timeout;
        return o;
    }

    impl(asio::any_io_executor e, config c, cursor_store& cur)
        : ex(e), cfg(std::move(c)), cursors(cur), http(e, http_opts(cfg)),
          bo(cfg.backoff_initial, cfg.backoff_max), sleeper(e) {
        while (!cfg.homeserver.empty() && cfg.homeserver.back() == '/')
            cfg.homeserver.pop_back();
        conv.own_user_id = cfg.user_id;
        conv.command = cfg.command;
        token = cfg.access_token;
        load_direct();
    }

    // ---- plumbing ----

    std::string client_url(const std::string& path) const {
        return cfg.homeserver + "/_matrix/client/v3" + path;
    }

    asio::awaitable<void> sleep(std::chrono::milliseconds d) {
        if (stopped) co_return;
        sleeper.expires_after(d);
        co_await sleeper.async_wait(use_tuple);
    }

    std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
        auto extra = std::uniform_int_distribution<long long>(0, base.count() / 4 + 1)(rng);
        return base + std::chrono::milliseconds(extra);
    }

    asio::awaitable<api_reply> call(std::string method, std::string url, std::optional<json::object> body,
                                    std::chrono::milliseconds timeout = 0ms, bool auth = true,
                                    std::string raw_body = {}, std::string content_type = {}) {
        net::http_request req;
        req.method = std::move(method);
        req.url = std::move(url);
        req.timeout = timeout;
        if (auth) req.headers.emplace_back("Authorization", "Bearer " + token);
        if (body) {
            req.content_type = "application/json";
            req.body = json::serialize(*body);
        } else if (!content_type.empty()) {
            req.content_type = content_type;
            req.body = std::move(raw_body);
        }
        auto r = co_await http.request(std::move(req));
        api_reply a;
        if (!r.ok()) {
            a.transport_error = true;
            a.sent = r.request_sent;
            a.transport = net::redact(r.error);
            co_return a;
        }
        a.status = r.response.status;
        boost::system::error_code ec;
        a.body = json::parse(r.response.body, ec);
        if (ec) a.body = nullptr;
        a.raw = std::move(r.response.body);
        a.errcode = a.field("errcode");
        a.error = a.field("error");
        // Retry-After header first, then retry_after_ms (protocols/matrix.md §5).
        if (auto ra = r.response.retry_after())
            a.retry_after = *ra;
        else if (a.body.is_object()) {
            auto it = a.body.get_object().find("retry_after_ms");
            if (it != a.body.get_object().end() && it->value().is_number()) {
                boost::system::error_code nec;
                auto ms = it->value().to_number<double>(nec);
                if (!nec && ms >= 0 && ms < 3600e3)
                    a.retry_after = std::chrono::milliseconds(static_cast<long long>(ms));
            }
        }
        if (a.rate_limited()) ++cnt.rate_limited;
        if (auth && a.token_refused() && fatal.empty()) {
            fatal = "the homeserver refused the Matrix access token (" +
                    (a.errcode.empty() ? std::string("HTTP 401") : a.errcode) +
                    "): the sync loop stops; set a new MATRIX_ACCESS_TOKEN and restart";
            spdlog::error("matrix: {}", fatal);
            sleeper.cancel();
        }
        co_return a;
    }

    // ---- cursors ----

    void load_direct() {
        auto v = cursors.get(k_direct);
        if (!v) return;
        boost::system::error_code ec;
        auto j = json::parse(*v, ec);
        if (ec || !j.is_object()) return;
        apply_direct(parse_direct(j.get_object()), false);
    }

    void apply_direct(const std::map<std::string, std::vector<std::string>>& d, bool persist) {
        json::object o;
        for (const auto& [user, list] : d) {
            if (!list.empty() && !dm_by_user.count(user)) dm_by_user[user] = list.back();
            json::array a;
            for (const auto& r : list) {
                direct_rooms.insert(r);
                a.emplace_back(r);
            }
            o[user] = std::move(a);
        }
        for (auto& [id, rs] : rooms)
            if (direct_rooms.count(id)) rs.is_dm = true;
        if (persist) cursors.put(k_direct, json::serialize(o));
    }

    void remember_dm(const std::string& user, const std::string& room) {
        dm_by_user[user] = room;
        direct_rooms.insert(room);
        rooms[room].is_dm = true;
        json::object o;
        for (const auto& [u, r] : dm_by_user)
            o[u] = json::array{json::value(r)};
        cursors.put(k_direct, json::serialize(o));
    }

    // ---- start-up ----

    asio::awaitable<void> login() {
        json::object body{{"type", "m.login.password"},
                          {"identifier", json::object{{"type", "m.id.user"}, {"user", cfg.user_id}}},
                          {"password", cfg.password},
                          {"device_id", cfg.device_id},
                          {"initial_device_display_name", "postmortem-bot"}};
        // Login is rate limited hard (protocols/matrix.md §1): a few attempts, never a loop.
        for (int attempt = 0; attempt < 4 && !stopped; ++attempt) {
            auto r = co_await call("POST", client_url("/login"), body, 0ms, false);
            if (r.ok()) {
                auto t = r.field("access_token");
                if (t.empty()) throw fatal_error("Matrix login answered without an access_token");
                token = t;
                cursors.put(k_token, t);
                spdlog::info("matrix: logged in as {} (device {})", cfg.user_id, cfg.device_id);
                co_return;
            }
            if (!r.transient())
                throw fatal_error("Matrix login as " + cfg.user_id + " failed: " + r.describe() +
                                  " (check the password)");
            auto d = r.retry_after.count() > 0 ? r.retry_after : bo.next();
            spdlog::warn("matrix: login failed ({}), retrying in {} ms", r.describe(), d.count());
            co_await sleep(d);
        }
        throw fatal_error("Matrix login as " + cfg.user_id + " kept failing");
    }

    asio::awaitable<void> authenticate() {
        if (token.empty()) {
            if (auto t = cursors.get(k_token); t && !t->empty()) {
                token = *t;
                token_from_store = true;
            } else {
                co_await login();
            }
        }
        for (int attempt = 0;; ++attempt) {
            auto r = co_await call("GET", client_url("/account/whoami"), std::nullopt);
            if (r.ok()) {
                auto who = r.field("user_id");
                if (who != cfg.user_id)
                    throw fatal_error("the Matrix access token belongs to " + (who.empty() ? "nobody" : who) +
                                      ", not " + cfg.user_id + " (MATRIX_USER_ID)");
                bo.reset();
                co_return;
            }
            if (r.token_refused()) {
                // A stored token from an earlier password login may have expired: one new login.
                if (token_from_store && !cfg.password.empty()) {
                    fatal.clear();
                    token_from_store = false;
                    co_await login();
                    continue;
                }
                throw fatal_error(fatal);
            }
            if (r.status == 403) throw fatal_error("Matrix whoami refused: " + r.describe());
            if (stopped) co_return;
            auto d = r.retry_after.count() > 0 ? r.retry_after : bo.next();
            spdlog::warn("matrix: whoami failed ({}), retrying in {} ms", r.describe(), d.count());
            co_await sleep(d);
        }
    }

    json::object filter_json(int timeline_limit) const {
        json::array timeline_types{"m.room.message",   "m.room.encrypted", "m.room.member",
                                   "m.room.redaction", "m.room.name",      "m.room.encryption",
                                   "m.room.tombstone"};
        json::array state_types{"m.room.name", "m.room.canonical_alias", "m.room.member", "m.room.encryption",
                                "m.room.create"};
        return json::object{
            {"presence", json::object{{"not_types", json::array{"*"}}}},
            {"account_data", json::object{{"types", json::array{"m.direct"}}}},
            {"room",
             json::object{{"timeline", json::object{{"limit", timeline_limit}, {"types", timeline_types}}},
                          {"state", json::object{{"lazy_load_members", true}, {"types", state_types}}},
                          {"ephemeral", json::object{{"not_types", json::array{"*"}}}},
                          {"account_data", json::object{{"not_types", json::array{"*"}}}},
                          {"include_leave", false}}}};
    }

    asio::awaitable<void> ensure_filter() {
        if (auto f = cursors.get(k_filter); f && !f->empty()) {
            filter_id = *f;
            co_return;
        }
        while (!stopped) {
            auto r = co_await call("POST", client_url("/user/" + pe(cfg.user_id) + "/filter"),
                                   filter_json(cfg.timeline_limit));
            if (r.ok() && !r.field("filter_id").empty()) {
                filter_id = r.field("filter_id");
                cursors.put(k_filter, filter_id);
                spdlog::info("matrix: sync filter {} uploaded", filter_id);
                co_return;
            }
            if (r.token_refused()) throw fatal_error(fatal);
            if (!r.transient()) {
                // A server without filter support still syncs, with an inline filter.
                spdlog::warn("matrix: filter upload failed ({}); using an inline filter", r.describe());
                filter_id = json::serialize(filter_json(cfg.timeline_limit));
                co_return;
            }
            auto d = r.retry_after.count() > 0 ? r.retry_after : bo.next();
            co_await sleep(d);
        }
    }

    // ---- rooms ----

    void apply_state(room_state& rs, const room_event& e) {
        if (e.type == "m.room.encryption" && e.state_key) rs.encrypted = true;
        if (e.type == "m.room.member" && e.state_key && !e.state_key->empty()) {
            auto it = e.content.find("displayname");
            if (it != e.content.end() && it->value().is_string() && !it->value().get_string().empty())
                rs.names[*e.state_key] = std::string(it->value().get_string());
            auto m = e.content.find("membership");
            if (m != e.content.end() && m->value().is_string() && m->value().get_string() == "invite") {
                auto d = e.content.find("is_direct");
                if (d != e.content.end() && d->value().is_bool() && d->value().get_bool() &&
                    *e.state_key == cfg.user_id)
                    rs.is_dm = true;
            }
        }
    }

    asio::awaitable<std::string> display_name(room_state& rs, const std::string& user) {
        if (auto it = rs.names.find(user); it != rs.names.end()) co_return it->second;
        if (auto it = profile_names.find(user); it != profile_names.end()) co_return it->second;
        auto r = co_await call("GET", client_url("/profile/" + pe(user) + "/displayname"), std::nullopt, 5s);
        std::string name = r.ok() ? r.field("displayname") : std::string();
        // Cached either way (a user without a display name is not asked again every message).
        if (r.ok() || r.status == 404) profile_names[user] = name;
        co_return name;
    }

    asio::awaitable<bool> join(const invite& in) {
        std::string url = client_url("/join/" + pe(in.room_id));
        auto via = server_of(in.inviter);
        if (!via.empty()) url += "?via=" + pe(via);
        for (int attempt = 0; attempt < 3 && !stopped; ++attempt) {
            auto r = co_await call("POST", url, json::object{});
            if (r.ok()) {
                ++cnt.joins;
                // A DM invite makes the room this user's DM with the bot, also after a restart.
                if (in.is_direct && !in.inviter.empty()) remember_dm(in.inviter, in.room_id);
                spdlog::info("matrix: joined {} ({}) on invite from {}", in.room_id,
                             in.room_name.empty() ? "unnamed" : in.room_name, in.inviter);
                co_return true;
            }
            if (r.token_refused()) throw fatal_error(fatal);
            if (!r.transient()) {
                spdlog::warn("matrix: cannot join {} on invite from {}: {}", in.room_id, in.inviter,
                             r.describe());
                co_return false;
            }
            co_await sleep(std::min<std::chrono::milliseconds>(
                r.retry_after.count() > 0 ? r.retry_after : jittered(1s), 30s));
        }
        spdlog::warn("matrix: joining {} kept failing; it is retried when the invite comes again",
                     in.room_id);
        co_return false;
    }

    // Fills a limited timeline's gap from /messages (protocols/matrix.md §2): from the previous
    // sync token forwards to the timeline's prev_batch, a bounded number of pages.
    asio::awaitable<std::vector<room_event>> fill_gap(const std::string& room, const std::string& from,
                                                      const std::string& to) {
        std::vector<room_event> out;
        std::string cursor = from;
        json::object filter{{"types", json::array{"m.room.message", "m.room.encrypted", "m.room.member",
                                                  "m.room.encryption"}}};
        for (int page = 0; page < cfg.gap_fill_max_pages && !stopped; ++page) {
            std::string url =
                client_url("/rooms/" + pe(room) + "/messages?dir=f&limit=100&from=" + pe(cursor) +
                           "&to=" + pe(to) + "&filter=" + pe(json::serialize(filter)));
            auto r = co_await call("GET", url, std::nullopt);
            if (r.token_refused()) throw fatal_error(fatal);
            if (r.transient()) throw batch_retry("gap fill of " + room + ": " + r.describe());
            if (!r.ok()) {
                spdlog::warn("matrix: cannot fill the gap in {}: {}", room, r.describe());
                break;
            }
            auto p = parse_messages(r.raw);
            if (!p.value) {
                spdlog::warn("matrix: gap fill of {}: {}", room, p.error);
                break;
            }
            for (auto& e : p.value->chunk)
                out.push_back(std::move(e));
            if (p.value->end.empty() || p.value->end == cursor) break;
            cursor = p.value->end;
            if (page + 1 == cfg.gap_fill_max_pages)
                spdlog::warn("matrix: gap in {} longer than {} pages; older events skipped", room,
                             cfg.gap_fill_max_pages);
        }
        ++cnt.gaps_filled;
        co_return out;
    }

    // The one plain notice an encrypted room gets (protocols/matrix.md §7), remembered.
    asio::awaitable<void> tell_encrypted(const std::string& room) {
        if (e2ee_settled.count(room)) co_return;
        const std::string key = "matrix.e2ee_notice." + room;
        if (cursors.get(key)) {
            e2ee_settled.insert(room);
            co_return;
        }
        spdlog::warn("matrix: room {} is end-to-end encrypted; the bot cannot read it", room);
        rich::message m;
        m.blocks.push_back(rich::para({rich::txt(
            "This room is end-to-end encrypted, and I cannot read encrypted messages. Postmortems cannot run "
            "here: please use an unencrypted room.")}));
        auto contents = render(m, render_options{cfg.user_id});
        auto r = co_await put_event(room, stable_txn("pm-e2ee-", room), contents.front());
        if (r.ok()) {
            cursors.put(key, r.field("event_id"));
            e2ee_settled.insert(room);
            co_return;
        }
        spdlog::warn("matrix: could not post the encryption notice in {}: {}{}", room, r.describe(),
                     r.transient() ? " (tried again after the next sync)" : "");
        // Refused for good (not allowed to post): not tried again until a restart.
        if (!r.transient()) e2ee_settled.insert(room);
    }

    // Encryption notices that could not be posted yet (rate limits, outages).
    asio::awaitable<void> retry_encrypted_notices() {
        std::vector<std::string> due;
        for (const auto& [id, rs] : rooms)
            if (rs.encrypted && !e2ee_settled.count(id)) due.push_back(id);
        for (const auto& id : due)
            if (!stopped && fatal.empty()) co_await tell_encrypted(id);
    }

    // ---- the sync loop ----

    std::string sync_url(const std::string& since, bool initial) const {
        std::string url = client_url("/sync?set_presence=offline");
        if (initial) {
            // First start: a tiny timeline, history is not processed (protocols/matrix.md §2).
            url += "&timeout=0&filter=" + pe(json::serialize(filter_json(1)));
        } else {
            url += "&timeout=" + std::to_string(cfg.sync_timeout.count()) + "&filter=" + pe(filter_id) +
                   "&since=" + pe(since);
        }
        return url;
    }

    asio::awaitable<void> process(const sync_batch& b, const std::string& prev_since, bool initial,
                                  const event_sink& sink) {
        for (const auto& w : b.warnings)
            spdlog::warn("matrix: sync: {}", w);
        if (b.direct) apply_direct(*b.direct, true);
        for (const auto& id : b.left)
            rooms.erase(id);
        for (const auto& in : b.invites)
            co_await join(in);

        std::unordered_set<std::string> seen; // event ids already handled in this batch
        for (const auto& jr : b.joined) {
            auto& rs = rooms[jr.room_id];
            if (direct_rooms.count(jr.room_id)) rs.is_dm = true;
            if (jr.joined_member_count) rs.joined_members = jr.joined_member_count;
            for (const auto& e : jr.state)
                apply_state(rs, e);

            std::vector<room_event> events;
            // Own join in this timeline: the room is new, history before it is not input.
            auto own_join = [&](const room_event& e) {
                if (e.type != "m.room.member" || !e.state_key || *e.state_key != cfg.user_id) return false;
                auto m = e.content.find("membership");
                return m != e.content.end() && m->value().is_string() && m->value().get_string() == "join";
            };
            bool joined_here = std::any_of(jr.timeline.begin(), jr.timeline.end(), own_join);
            if (!initial && jr.limited && !joined_here && !prev_since.empty()) {
                if (jr.prev_batch.empty())
                    spdlog::warn("matrix: {} skipped events (limited timeline without prev_batch)",
                                 jr.room_id);
                else
                    events = co_await fill_gap(jr.room_id, prev_since, jr.prev_batch);
            }
            events.insert(events.end(), jr.timeline.begin(), jr.timeline.end());

            std::size_t start = 0;
            for (std::size_t i = 0; i < events.size(); ++i)
                if (own_join(events[i])) start = i + 1;

            bool saw_encrypted = false;
            for (std::size_t i = 0; i < events.size(); ++i) {
                const auto& e = events[i];
                if (e.state_key) apply_state(rs, e);
                if (e.type == "m.room.encrypted" || e.type == "m.room.encryption") saw_encrypted = true;
                if (initial || i < start) continue;
                if (!seen.insert(e.event_id).second) {
                    ++cnt.duplicates_dropped;
                    continue;
                }
                room_context ctx;
                ctx.room_id = jr.room_id;
                ctx.is_dm = rs.is_dm || (rs.joined_members && *rs.joined_members == 2);
                ctx.names = rs.names;
                auto c = to_chat_event(e, ctx, conv);
                if (!c.event) {
                    if (c.why == skip::bad_event || c.why == skip::edit_invalid)
                        spdlog::warn("matrix: event {} in {} ignored: {} ({})", e.event_id, jr.room_id,
                                     to_string(c.why), c.detail);
                    continue;
                }
                if (c.event->user.name.empty()) c.event->user.name = co_await display_name(rs, e.sender);
                for (auto& u : c.event->mentions)
                    if (u.name.empty()) u.name = co_await display_name(rs, u.id);
                ++cnt.events;
                co_await sink(std::move(*c.event));
            }
            if (saw_encrypted) rs.encrypted = true;
            if (rs.encrypted) co_await tell_encrypted(jr.room_id);
        }
    }

    asio::awaitable<void> run(event_sink sink) {
        co_await authenticate();
        co_await ensure_filter();
        std::string since = cursors.get(k_next_batch).value_or("");
        if (since.empty()) spdlog::info("matrix: first start: old history is skipped");
        while (!stopped) {
            if (!fatal.empty()) throw fatal_error(fatal);
            bool initial = since.empty();
            auto r = co_await call("GET", sync_url(since, initial), std::nullopt,
                                   initial ? cfg.initial_sync_deadline : cfg.sync_deadline);
            if (stopped) break;
            if (!r.ok()) {
                if (r.token_refused()) throw fatal_error(fatal);
                if (r.status == 400 && (r.errcode == "M_INVALID_PARAM" || r.errcode == "M_NOT_FOUND") &&
                    !initial) {
                    // The stored filter is gone on the server: upload it again.
                    spdlog::warn("matrix: sync filter rejected ({}); uploading it again", r.describe());
                    cursors.put(k_filter, "");
                    co_await ensure_filter();
                    continue;
                }
                auto d = r.rate_limited() && r.retry_after.count() > 0 ? r.retry_after : bo.next();
                spdlog::warn("matrix: sync failed ({}), retrying in {} ms", r.describe(), d.count());
                co_await sleep(d);
                continue;
            }
            ++cnt.syncs;
            auto p = parse_sync(r.raw);
            if (!p.value) {
                auto d = bo.next();
                spdlog::warn("matrix: bad sync response ({}), retrying in {} ms", p.error, d.count());
                co_await sleep(d);
                continue;
            }
            std::string retry_reason;
            try {
                co_await process(*p.value, since, initial, sink);
            } catch (const batch_retry& x) {
                retry_reason = x.what();
            }
            if (!retry_reason.empty()) {
                auto d = bo.next();
                spdlog::warn("matrix: batch not finished ({}), fetching it again in {} ms", retry_reason,
                             d.count());
                co_await sleep(d);
                continue;
            }
            // Every event of the batch is committed by the bot: only now may the cursor move.
            if (p.value->next_batch != since) cursors.put(k_next_batch, p.value->next_batch);
            since = p.value->next_batch;
            synced = true;
            bo.reset();
            co_await retry_encrypted_notices();
        }
        spdlog::info("matrix: sync loop stopped");
    }

    // ---- sending ----

    asio::awaitable<api_reply> put_event(const std::string& room, const std::string& txn,
                                         const json::object& content) {
        auto url = client_url("/rooms/" + pe(room) + "/send/m.room.message/" + pe(txn));
        co_return co_await call("PUT", url, content);
    }

    send_result map_failure(const api_reply& r, const std::string& what) {
        send_result s;
        if (!fatal.empty() || r.token_refused()) {
            s.st = send_result::status::failed;
            s.error = fatal.empty() ? "Matrix refused the access token" : fatal;
            return s;
        }
        if (r.rate_limited()) {
            s.st = send_result::status::retry;
            s.retry_after = r.retry_after.count() > 0 ? r.retry_after : jittered(5s);
            return s;
        }
        if (r.transient()) {
            // PUT with a txnId is idempotent: a retry after a lost response posts nothing twice.
            s.st = send_result::status::retry;
            s.retry_after = jittered(2s);
            s.error = what + ": " + r.describe();
            return s;
        }
        s.st = send_result::status::failed;
        if (r.errcode == "M_FORBIDDEN")
            s.error = "Matrix refused " + what + " (M_FORBIDDEN: " + net::redact(r.error) +
                      "): is the bot joined and allowed to post there?";
        else if (r.errcode == "M_TOO_LARGE" || r.status == 413)
            s.error = "Matrix refused " + what + " as too large (M_TOO_LARGE)";
        else
            s.error = "Matrix refused " + what + " (" + r.describe() + ")";
        return s;
    }

    // The DM room with a user: cached, from m.direct, else created (is_direct + invite) and
    // recorded in the bot's m.direct account data.
    asio::awaitable<std::pair<std::string, std::optional<send_result>>> dm_room(const std::string& user) {
        if (auto it = dm_by_user.find(user); it != dm_by_user.end())
            co_return std::pair{it->second, std::nullopt};
        json::object body{{"preset", "trusted_private_chat"},
                          {"is_direct", true},
                          {"invite", json::array{json::value(user)}},
                          {"name", "Postmortem bot"}};
        auto r = co_await call("POST", client_url("/createRoom"), body);
        auto room = r.field("room_id");
        if (!r.ok() || room.empty())
            co_return std::pair{std::string(), map_failure(r, "creating a DM with " + user)};
        remember_dm(user, room);
        spdlog::info("matrix: created DM room {} with {}", room, user);
        // m.direct is read-modify-write; a failure here only costs a lookup later.
        auto url = client_url("/user/" + pe(cfg.user_id) + "/account_data/m.direct");
        auto cur = co_await call("GET", url, std::nullopt);
        json::object direct = cur.ok() && cur.body.is_object() ? cur.body.get_object() : json::object{};
        auto& list = direct[user];
        if (!list.is_array()) list = json::array{};
        list.get_array().emplace_back(room);
        auto w = co_await call("PUT", url, direct);
        if (!w.ok()) spdlog::warn("matrix: could not record {} in m.direct: {}", room, w.describe());
        co_return std::pair{room, std::nullopt};
    }

    asio::awaitable<send_result> send(const outbound& msg) {
        send_result res;
        if (!fatal.empty()) {
            res.st = send_result::status::failed;
            res.error = fatal;
            co_return res;
        }
        std::string room = msg.channel;
        std::string thread_root;
        if (msg.to == outbound::target::thread) thread_root = msg.thread_root;
        if (msg.to == outbound::target::dm || msg.to == outbound::target::private_to) {
            // Matrix has no ephemeral messages: "only for you" goes to the user's DM room.
            if (msg.user.empty()) {
                res.st = send_result::status::failed;
                res.error = "a DM needs a user";
                co_return res;
            }
            auto [dm, err] = co_await dm_room(msg.user);
            if (err) co_return *err;
            room = dm;
            res.dm_channel = dm;
        }
        if (room.empty()) {
            res.st = send_result::status::failed;
            res.error = "no room to send to";
            co_return res;
        }
        std::string txn =
            msg.txn_id.empty() ? stable_txn("pm-row-", std::to_string(msg.outbox_id)) : msg.txn_id;

        std::vector<json::object> contents;
        if (!msg.body.blocks.empty() || !msg.body.fallback.empty() || msg.file_name.empty()) {
            render_options ro;
            ro.own_user_id = cfg.user_id;
            ro.notify = msg.notify;
            ro.thread_root = thread_root;
            contents = render(msg.body, ro);
        }
        for (std::size_t i = 0; i < contents.size(); ++i) {
            // Parts of a split message get derived txnIds, so a retry re-sends none twice.
            auto part_txn = i == 0 ? txn : txn + "." + std::to_string(i);
            auto r = co_await put_event(room, part_txn, contents[i]);
            if (!r.ok() || r.field("event_id").empty()) {
                auto f = r.ok()
                             ? map_failure(api_reply{true, false, "answer without event_id"}, "the message")
                             : map_failure(r, "the message in " + room);
                f.ref = res.ref;
                f.dm_channel = res.dm_channel;
                co_return f;
            }
            ++cnt.sends;
            if (res.ref.empty()) res.ref = r.field("event_id");
        }
        if (!msg.file_name.empty()) {
            auto mxc = cursors.get("matrix.upload." + txn).value_or("");
            if (mxc.empty()) {
                auto url = cfg.homeserver + "/_matrix/media/v3/upload?filename=" + pe(msg.file_name);
                auto r = co_await call("POST", url, std::nullopt, 0ms, true, msg.file_content,
                                       "text/markdown; charset=utf-8");
                mxc = r.ok() ? r.field("content_uri") : std::string();
                if (mxc.empty()) {
                    auto f =
                        map_failure(r.ok() ? api_reply{true, false, "upload answer without content_uri"} : r,
                                    "the upload of " + msg.file_name);
                    f.ref = res.ref;
                    f.dm_channel = res.dm_channel;
                    co_return f;
                }
                // Kept so that a retry of this row does not upload the file again.
                cursors.put("matrix.upload." + txn, mxc);
            }
            auto content =
                file_content(msg.file_name, mxc, msg.file_content.size(), "text/markdown", thread_root);
            auto r = co_await put_event(room, txn + ".file", content);
            if (!r.ok() || r.field("event_id").empty()) {
                auto f = map_failure(r, "the file " + msg.file_name);
                f.ref = res.ref;
                f.dm_channel = res.dm_channel;
                co_return f;
            }
            ++cnt.sends;
            if (res.ref.empty()) res.ref = r.field("event_id");
        }
        res.st = send_result::status::sent;
        co_return res;
    }
};

adapter::adapter(asio::any_io_executor ex, config cfg, cursor_store& cursors) {
    if (auto e = validate(cfg); !e.empty()) throw std::invalid_argument(e);
    impl_ = std::make_shared<impl>(std::move(ex), std::move(cfg), cursors);
}

adapter::~adapter() {
    if (impl_) impl_->stopped = true;
}

asio::awaitable<void> adapter::run(event_sink sink) {
    auto self = impl_;
    self->stopped = false;
    try {
        co_await self->run(std::move(sink));
    } catch (const fatal_error& e) {
        spdlog::error("matrix: stopped: {}", e.what());
        throw std::runtime_error(e.what());
    }
}

asio::awaitable<send_result> adapter::send(const outbound& msg) {
    auto self = impl_;
    co_return co_await self->send(msg);
}

bool adapter::ready() const {
    return impl_->synced && impl_->fatal.empty() && !impl_->stopped;
}

void adapter::stop() {
    impl_->stopped = true;
    impl_->sleeper.cancel();
}

adapter::counters adapter::stats() const {
    return impl_->cnt;
}

std::string adapter::own_user_id() const {
    return impl_->cfg.user_id;
}

std::unique_ptr<adapter> make_matrix_adapter(asio::any_io_executor ex, config cfg, cursor_store& cursors) {
    return std::make_unique<adapter>(std::move(ex), std::move(cfg), cursors);
}

} // namespace pm::adapters::matrix

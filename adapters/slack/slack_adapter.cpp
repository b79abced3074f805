#include "adapters/slack/slack_adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "adapters/net/backoff.hpp"
#include "adapters/net/http_client.hpp"
#include "adapters/net/rate_limiter.hpp"
#include "adapters/net/redact.hpp"
#include "adapters/net/url.hpp"
#include "adapters/net/ws_client.hpp"
#include "adapters/slack/envelope.hpp"
#include "adapters/slack/render.hpp"

namespace pm::adapters::slack {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string validate(const config& c) {
    if (c.bot_token.empty()) return "Slack bot token is missing (SLACK_BOT_TOKEN)";
    if (c.bot_token.rfind("xoxb-", 0) != 0)
        return "Slack bot token must be a bot token starting with xoxb- (SLACK_BOT_TOKEN)";
    if (c.app_token.empty()) return "Slack app-level token is missing (SLACK_APP_TOKEN)";
    if (c.app_token.rfind("xapp-", 0) != 0)
        return "Slack app-level token must start with xapp- (SLACK_APP_TOKEN, scope connections:write)";
    auto ep = net::parse_endpoint(c.api_url);
    if (!ep) return "Slack API URL '" + net::redact(c.api_url) + "': " + ep.error;
    if (ep.ep.websocket) return "Slack API URL must be http(s)://, not ws(s)://";
    if (c.command.empty() || c.command.front() != '/') return "Slack command must start with '/'";
    if (c.max_frame_bytes < 1024) return "Slack max_frame_bytes is too small";
    return {};
}

namespace {

std::string jstr(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

const json::object* jobj(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

bool is_fatal_auth(const std::string& e) {
    return e == "invalid_auth" || e == "not_authed" || e == "account_inactive" || e == "token_revoked" ||
           e == "token_expired" || e == "user_removed_from_team" || e == "team_disabled" ||
           e == "not_allowed_token_type";
}

bool is_transient(const std::string& e) {
    return e == "internal_error" || e == "fatal_error" || e == "service_unavailable" ||
           e == "request_timeout";
}

// A sentence an operator (or a lead, relayed by the bot) can act on.
std::string readable(const std::string& method, const std::string& err, const std::string& channel,
                     const json::object& body) {
    if (is_fatal_auth(err))
        return "Slack refused the token (" + err + ") on " + method +
               ": check SLACK_BOT_TOKEN / SLACK_APP_TOKEN";
    if (err == "not_in_channel")
        return "the bot is not a member of channel " + channel + " (" + err + "): invite it with /invite";
    if (err == "channel_not_found")
        return "channel " + channel + " was not found or is not visible to the bot (" + err + ")";
    if (err == "is_archived") return "channel " + channel + " is archived (" + err + ")";
    if (err == "missing_scope")
        return "the Slack app lacks the scope '" + jstr(body, "needed") + "' for " + method +
               " (missing_scope): add it and reinstall the app";
    if (err == "user_not_in_channel") return "the user is not in channel " + channel + " (" + err + ")";
    if (err == "msg_too_long" || err == "msg_blocks_too_long" || err == "invalid_blocks" ||
        err == "invalid_blocks_format" || err == "no_text")
        return "Slack rejected the message layout on " + method + " (" + err + ")";
    return method + " failed: " + err;
}

struct api_reply {
    enum class kind { ok, error, rate_limited, transient, unknown };
    kind k = kind::transient;
    json::object body;
    std::string error;
    std::chrono::milliseconds retry_after{0};
    bool sent = false; // the request reached the server (its effect may have happened)
};

struct user_entry {
    std::string name;
    std::optional<std::string> tz;
    bool is_bot = false;
    bool ok = false;
    steady::time_point fetched{};
};

struct sock {
    int id = 0;
    std::shared_ptr<net::ws_client> ws;
    bool retiring = false; // closing or asked to close: no longer counts as a live socket
    // Slack says roughly when it will refresh this socket; a replacement is opened before then.
    steady::time_point refresh_at = steady::time_point::max();
};

struct job {
    std::shared_ptr<sock> s;
    frame f;
};

const std::string k_event_type = "postmortem_outbox";

} // namespace

struct adapter::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    config cfg;
    net::http_client http;
    net::http_client http_fast; // users.info while an ack waits: short deadline
    net::rate_gate gate;
    net::backoff bo;
    std::mt19937_64 rng{std::random_device{}()};
    parse_context pctx;
    event_sink sink;

    bool stopped = false;
    bool running = false;
    std::string fatal;
    std::vector<std::shared_ptr<sock>> live;
    std::shared_ptr<net::ws_client> opening;
    bool replace_wanted = false;
    steady::time_point not_before{};
    asio::steady_timer wake;
    // Events handed to the bot and not yet committed; past the bound, workers wait.
    static constexpr std::size_t k_max_uncommitted = 1024;
    std::size_t uncommitted = 0;
    asio::steady_timer uncommitted_wake;
    bool dirty = false;
    int next_sock = 0;
    counters cnt;

    std::unordered_set<std::string> inflight;
    std::unordered_map<std::string, std::deque<job>> queues;
    std::unordered_map<std::string, user_entry> users;
    // users.info calls under way, by user: a second asker waits for the first call (the timer
    // never expires; it is cancelled when the answer is in the cache).
    std::unordered_map<std::string, std::shared_ptr<asio::steady_timer>> lookups;
    std::unordered_map<std::string, std::string> dm_channels;
    std::unordered_map<std::int64_t, std::vector<std::string>> progress; // row → ts of parts posted
    std::unordered_set<std::int64_t> ambiguous; // rows with an attempt of unknown outcome

    static net::http_client::options http_opts(const config& c, std::chrono::milliseconds timeout) {
        net::http_client::options o;
        o.tls.ca_file = c.ca_file;
        o.connect_timeout = c.connect_timeout;
        o.request_timeout = timeout;
        return o;
    }

    impl(asio::any_io_executor e, config c)
        : ex(e), cfg(std::move(c)), http(e, http_opts(cfg, cfg.http_timeout)),
          http_fast(e, http_opts(cfg, cfg.user_lookup_timeout)), gate(e),
          bo(cfg.backoff_initial, cfg.backoff_max), wake(e), uncommitted_wake(e, steady::time_point::max()) {
        pctx.command = cfg.command;
        pctx.commands_from_app_mention = cfg.commands_from_app_mention;
        auto& l = gate.limiter();
        if (!cfg.client_rate_limits) return;
        // Budgets from protocols/slack.md §5.2/§6 (tiers per minute), with room for bursts.
        l.set_rule("m:apps.connections.open", {1.0 / 60, 5});
        l.set_rule("m:chat.postMessage", {5, 20});
        l.set_rule("m:chat.postEphemeral", {1.5, 10});
        l.set_rule("m:conversations.open", {0.8, 5});
        l.set_rule("m:conversations.history", {0.8, 5});
        l.set_rule("m:conversations.replies", {0.8, 5});
        l.set_rule("m:users.info", {1.5, 20});
    }

    std::chrono::milliseconds jitter(std::chrono::milliseconds max) {
        return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, max.count())(rng));
    }

    void notify() {
        dirty = true;
        wake.cancel();
    }

    asio::awaitable<void> wait_until(steady::time_point tp) {
        if (!dirty) {
            wake.expires_at(tp);
            co_await wake.async_wait(use_tuple);
        }
        dirty = false;
    }

    std::size_t active() const {
        std::size_t n = 0;
        for (auto& s : live)
            if (!s->retiring) ++n;
        return n;
    }

    // ---- Web API -------------------------------------------------------------------------

    asio::awaitable<api_reply> call(std::string method, std::string body, bool is_json, bool app_token,
                                    std::vector<std::string> extra_keys = {}, bool fast = false) {
        auto self = shared_from_this();
        std::vector<std::string> keys;
        keys.push_back("m:" + method);
        keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
        co_await gate.acquire(keys);
        net::http_request req;
        req.url = net::join_url(cfg.api_url, method);
        req.headers.emplace_back("Authorization", "Bearer " + (app_token ? cfg.app_token : cfg.bot_token));
        req.content_type = is_json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded";
        req.body = std::move(body);
        // Everything but a post is safe to send again on a fresh connection.
        req.idempotent = method != "chat.postMessage" && method != "chat.postEphemeral" &&
                         method != "files.completeUploadExternal";
        net::http_client& client = fast ? http_fast : http;
        auto r = co_await client.request(std::move(req));
        api_reply out;
        out.sent = r.request_sent;
        if (!r.ok()) {
            out.k = r.request_sent ? api_reply::kind::unknown : api_reply::kind::transient;
            out.error = r.error;
            co_return out;
        }
        out.sent = true;
        const auto& resp = r.response;
        if (resp.status == 429) {
            ++cnt.rate_limited;
            out.k = api_reply::kind::rate_limited;
            out.retry_after = resp.retry_after().value_or(30s);
            out.error = "ratelimited";
            for (const auto& k : keys)
                gate.pause(k, out.retry_after + jitter(250ms));
            spdlog::warn("slack: {} rate limited, holding it {} ms", method, out.retry_after.count());
            co_return out;
        }
        if (resp.status != 200) {
            out.k = api_reply::kind::transient;
            out.error = "HTTP " + std::to_string(resp.status);
            co_return out;
        }
        boost::system::error_code ec;
        json::value v = json::parse(resp.body, ec);
        if (ec || !v.is_object()) {
            out.k = api_reply::kind::transient;
            out.error = "unreadable response from " + method;
            co_return out;
        }
        out.body = std::move(v.get_object());
        auto okit = out.body.find("ok");
        if (okit != out.body.end() && okit->value().is_bool() && okit->value().get_bool()) {
            out.k = api_reply::kind::ok;
            co_return out;
        }
        out.error = jstr(out.body, "error");
        if (out.error.empty()) out.error = "unknown_error";
        if (out.error == "ratelimited" || out.error == "rate_limited") {
            ++cnt.rate_limited;
            out.k = api_reply::kind::rate_limited;
            out.retry_after = resp.retry_after().value_or(1s);
            for (const auto& k : keys)
                gate.pause(k, out.retry_after + jitter(250ms));
        } else if (is_transient(out.error)) {
            out.k = api_reply::kind::transient;
        } else {
            out.k = api_reply::kind::error;
        }
        co_return out;
    }

    // form("k1", v1, "k2", v2, …): no braced lists, which GCC 12 miscompiles inside coroutines.
    static void form_add(std::string&) {}
    template <class V, class... Rest>
    static void form_add(std::string& out, std::string_view k, const V& v, const Rest&... rest) {
        if (!out.empty()) out += '&';
        out += net::form_encode(k) + "=" + net::form_encode(std::string_view(v));
        form_add(out, rest...);
    }
    template <class... A> static std::string form(const A&... kv) {
        std::string out;
        form_add(out, kv...);
        return out;
    }

    // ---- users.info cache --------------------------------------------------------------------

    // The cached entry, when it is fresh enough to use without asking again.
    const user_entry* cached_user(const std::string& id, steady::time_point now) const {
        auto it = users.find(id);
        if (it == users.end()) return nullptr;
        auto age = now - it->second.fetched;
        // Failures are retried after a minute; successes after the refresh age.
        if ((it->second.ok && age < cfg.user_cache_age) || (!it->second.ok && age < 60s)) return &it->second;
        return nullptr;
    }

    // Starts the lookups an event will need as soon as it arrives, so that events queued behind
    // others of their conversation do not each wait for their own call in turn.
    void prefetch_users(const chat_event& ev) {
        auto want = [&](const std::string& id) {
            if (id.empty() || lookups.contains(id) || cached_user(id, steady::now())) return;
            auto self = shared_from_this();
            asio::co_spawn(
                ex,
                [self, id]() -> asio::awaitable<void> {
                    co_await self->user_info(id, steady::now() + self->cfg.user_lookup_timeout);
                },
                asio::detached);
        };
        want(ev.user.id);
        for (const auto& m : ev.mentions)
            want(m.id);
    }

    asio::awaitable<const user_entry*> user_info(const std::string& id, steady::time_point deadline) {
        auto self = shared_from_this();
        auto now = steady::now();
        if (auto* fresh = cached_user(id, now)) co_return fresh;
        if (auto l = lookups.find(id); l != lookups.end()) {
            auto wait = l->second; // the call under way answers this one too
            co_await wait->async_wait(asio::as_tuple(asio::use_awaitable));
            auto done = users.find(id);
            co_return done != users.end() && done->second.ok ? &done->second : nullptr;
        }
        auto it = users.find(id);
        // An ack is waiting: no lookup when it would have to queue behind the rate limit.
        std::vector<std::string> keys;
        keys.push_back("m:users.info");
        if (now >= deadline || gate.limiter().peek(keys, now) > now + 100ms)
            co_return it != users.end() && it->second.ok ? &it->second : nullptr;
        auto pending = std::make_shared<asio::steady_timer>(ex, steady::time_point::max());
        lookups[id] = pending;
        struct done_looking {
            impl& a;
            const std::string& id;
            std::shared_ptr<asio::steady_timer> t;
            ~done_looking() {
                a.lookups.erase(id);
                t->cancel();
            }
        } release{*this, id, pending};
        auto r =
            co_await call("users.info", form("user", id), false, false, std::vector<std::string>(), true);
        it = users.find(id);
        user_entry e;
        e.fetched = steady::now();
        if (r.k == api_reply::kind::ok) {
            if (const json::object* u = jobj(r.body, "user")) {
                e.ok = true;
                std::string display, real;
                if (const json::object* p = jobj(*u, "profile")) {
                    display = jstr(*p, "display_name");
                    real = jstr(*p, "real_name");
                }
                if (real.empty()) real = jstr(*u, "real_name");
                e.name = !display.empty() ? display : !real.empty() ? real : jstr(*u, "name");
                std::string tz = jstr(*u, "tz");
                if (!tz.empty()) e.tz = tz;
                auto b = u->find("is_bot");
                e.is_bot = b != u->end() && b->value().is_bool() && b->value().get_bool();
            }
        } else {
            spdlog::debug("slack: users.info for {} failed: {}", id, r.error);
            if (it != users.end() && it->second.ok) {
                it->second.fetched = e.fetched - cfg.user_cache_age + 60s; // keep stale, retry in a minute
                co_return &it->second;
            }
        }
        auto& slot = users[id];
        slot = std::move(e);
        co_return slot.ok ? &slot : nullptr;
    }

    asio::awaitable<void> enrich(chat_event& ev) {
        auto deadline = steady::now() + cfg.user_lookup_timeout;
        if (auto u = co_await user_info(ev.user.id, deadline)) {
            if (!u->name.empty()) ev.user.name = u->name;
            ev.user.tz = u->tz;
            ev.user.is_bot = u->is_bot;
        }
        for (auto& m : ev.mentions) {
            if (auto u = co_await user_info(m.id, deadline)) {
                if (!u->name.empty()) m.name = u->name;
                m.tz = u->tz;
                m.is_bot = u->is_bot;
            }
        }
    }

    // ---- Socket Mode ---------------------------------------------------------------------------

    asio::awaitable<void> auth_test() {
        for (;;) {
            auto r = co_await call("auth.test", "", false, false);
            if (r.k == api_reply::kind::ok) {
                pctx.self_user_id = jstr(r.body, "user_id");
                pctx.self_bot_id = jstr(r.body, "bot_id");
                spdlog::info("slack: authenticated as {} (bot {}) in team {}", pctx.self_user_id,
                             pctx.self_bot_id, jstr(r.body, "team_id"));
                bo.reset();
                co_return;
            }
            if (r.k == api_reply::kind::error) {
                if (is_fatal_auth(r.error) || r.error == "missing_scope") {
                    auto msg = readable("auth.test", r.error, "", r.body);
                    spdlog::error("slack: {}", msg);
                    throw std::runtime_error(msg);
                }
            }
            auto d = r.k == api_reply::kind::rate_limited ? r.retry_after : bo.next();
            spdlog::warn("slack: auth.test failed ({}), retrying in {} ms", net::redact(r.error), d.count());
            co_await wait_until(steady::now() + d);
            if (stopped) co_return;
        }
    }

    asio::awaitable<std::shared_ptr<sock>> open_socket() {
        auto self = shared_from_this();
        auto r = co_await call("apps.connections.open", "", false, true);
        if (r.k != api_reply::kind::ok) {
            if (r.k == api_reply::kind::error && is_fatal_auth(r.error)) {
                fatal = readable("apps.connections.open", r.error, "", r.body);
                spdlog::error("slack: {}", fatal);
            } else if (r.k == api_reply::kind::rate_limited) {
                not_before = std::max(not_before, steady::now() + r.retry_after);
            }
            spdlog::warn("slack: apps.connections.open failed: {}", net::redact(r.error));
            co_return nullptr;
        }
        std::string url = jstr(r.body, "url");
        net::ws_client::options o;
        o.tls.ca_file = cfg.ca_file;
        o.connect_timeout = cfg.connect_timeout;
        o.ping_interval = cfg.ping_interval;
        o.pong_timeout = cfg.pong_timeout;
        o.idle_timeout = cfg.idle_timeout;
        o.max_message = cfg.max_frame_bytes;
        auto s = std::make_shared<sock>();
        s->id = ++next_sock;
        s->ws = std::make_shared<net::ws_client>(ex, o);
        opening = s->ws;                       // so that stop() can abort a connect in progress
        auto c = co_await s->ws->connect(url); // a fresh URL every time; never logged (ticket)
        if (c.ec) {
            opening.reset();
            spdlog::warn("slack: socket {}: {}", s->id, c.error);
            co_return nullptr;
        }
        // The socket is usable only after `hello`.
        asio::steady_timer guard(ex);
        guard.expires_after(cfg.hello_timeout);
        guard.async_wait([ws = s->ws](boost::system::error_code ec) {
            if (!ec) ws->abort();
        });
        auto first = co_await s->ws->read();
        guard.cancel();
        opening.reset();
        if (first.ec) {
            spdlog::warn("slack: socket {}: no hello: {}", s->id, first.error);
            s->ws->abort();
            co_return nullptr;
        }
        frame f = parse_frame(first.msg.data, pctx);
        if (f.k == frame::kind::hello) {
            ++cnt.sockets_opened;
            if (auto t = f.approximate_connection_time; t && *t >= 2s) // (tiny values would loop)
                s->refresh_at = steady::now() + *t - std::min<steady::duration>(60s, *t / 10);
            spdlog::info("slack: socket {} connected ({} open for the app{})", s->id, f.num_connections,
                         f.approximate_connection_time
                             ? ", refresh in ~" + std::to_string(f.approximate_connection_time->count()) +
                                   " s"
                             : std::string());
            co_return s;
        }
        if (f.k == frame::kind::disconnect)
            on_disconnect(s, f.reason);
        else
            spdlog::warn("slack: socket {}: expected hello, got {}", s->id, f.type.empty() ? f.note : f.type);
        s->ws->abort();
        co_return nullptr;
    }

    void close_socket(const std::shared_ptr<sock>& s) {
        s->retiring = true;
        asio::co_spawn(
            ex, [s]() -> asio::awaitable<void> { co_await s->ws->close(); }, asio::detached);
    }

    void on_disconnect(const std::shared_ptr<sock>& s, const std::string& reason) {
        if (reason == "warning") {
            // Refresh in ~10 s: open the replacement now, keep serving this one until it closes.
            spdlog::info("slack: socket {} will be refreshed soon; opening a replacement", s->id);
            replace_wanted = true;
        } else if (reason == "refresh_requested") {
            // Make before break: this socket closes once the replacement has said hello.
            spdlog::info("slack: socket {} refresh requested; replacing it", s->id);
            replace_wanted = true;
            s->retiring = true;
        } else if (reason == "link_disabled") {
            spdlog::error("slack: Socket Mode is disabled in the app configuration (link_disabled); "
                          "retrying in {} ms",
                          cfg.link_disabled_retry.count());
            not_before = std::max(not_before, steady::now() + cfg.link_disabled_retry);
            close_socket(s);
        } else if (reason == "too_many_websockets") {
            spdlog::error("slack: too many sockets for this app (more than 10 open: another instance "
                          "running?); closing this one and backing off");
            close_socket(s);
            not_before = std::max(not_before, steady::now() + bo.next());
        } else {
            spdlog::warn("slack: socket {} disconnect '{}'; reconnecting", s->id, reason);
            close_socket(s);
        }
        notify();
    }

    asio::awaitable<void> ack(std::shared_ptr<sock> s, std::string envelope_id) {
        json::object a;
        a["envelope_id"] = envelope_id;
        auto ec = co_await s->ws->write(json::serialize(a));
        if (ec)
            spdlog::warn("slack: ack of {} lost ({}); Slack will redeliver", envelope_id, ec.message());
        else
            ++cnt.acks;
    }

    // Hands one event to the bot and acks it once the bot has committed it.
    asio::awaitable<void> commit_and_ack(std::shared_ptr<sock> s, std::string envelope_id, chat_event ev) {
        bool committed = true;
        try {
            co_await sink(std::move(ev));
        } catch (const std::exception& e) {
            // Not acked: Slack redelivers, and the bot's store de-duplicates what did commit.
            spdlog::error("slack: envelope {} not accepted by the bot ({}); leaving it unacked", envelope_id,
                          e.what());
            committed = false;
        }
        inflight.erase(envelope_id);
        if (--uncommitted < k_max_uncommitted) uncommitted_wake.cancel();
        if (committed) co_await ack(s, envelope_id);
    }

    // Events of one conversation (channel or thread) are handed over in order; different
    // conversations proceed concurrently. The next event of a conversation is handed over as
    // soon as the bot has taken the previous one in, without waiting for its commit, so events
    // that arrive together share one fsync (adapter.hpp, event_sink); each is still acked only
    // after its own commit.
    asio::awaitable<void> worker(std::string key) {
        auto self = shared_from_this();
        for (;;) {
            auto it = queues.find(key);
            if (it == queues.end()) co_return;
            if (it->second.empty()) {
                queues.erase(it);
                co_return;
            }
            // The job stays at the front while it is enriched, so on_envelope starts no second
            // worker for this conversation meanwhile.
            job j = std::move(it->second.front());
            chat_event ev = std::move(*j.f.event);
            co_await enrich(ev);
            if (ev.time == sys_millis{})
                ev.time = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
            // The timer never expires; cancel() wakes every waiting worker. (Setting its expiry
            // here would cancel the other workers' waits, and they would wake each other in turn.)
            while (uncommitted >= k_max_uncommitted && !stopped)
                co_await uncommitted_wake.async_wait(asio::as_tuple(asio::use_awaitable));
            ++uncommitted;
            asio::co_spawn(
                ex,
                [self, s = j.s, id = j.f.envelope_id, ev = std::move(ev)]() mutable -> asio::awaitable<void> {
                    co_await self->commit_and_ack(std::move(s), std::move(id), std::move(ev));
                },
                asio::detached);
            it = queues.find(key);
            if (it != queues.end() && !it->second.empty()) it->second.pop_front();
        }
    }

    void on_envelope(const std::shared_ptr<sock>& s, frame f) {
        ++cnt.envelopes;
        if (!f.event) {
            spdlog::debug("slack: envelope {} ({}) acked and ignored: {}", f.envelope_id, f.type, f.note);
            asio::co_spawn(ex, ack(s, f.envelope_id), asio::detached);
            return;
        }
        if (inflight.contains(f.envelope_id)) {
            ++cnt.duplicates_dropped;
            spdlog::info("slack: envelope {} redelivered (attempt {}, {}) while still in progress; dropped",
                         f.envelope_id, f.retry_attempt, f.retry_reason);
            return;
        }
        inflight.insert(f.envelope_id);
        prefetch_users(*f.event);
        std::string key = f.event->where.channel + "/" + f.event->where.thread_root;
        auto& q = queues[key];
        q.push_back(job{s, std::move(f)});
        if (q.size() == 1) {
            auto self = shared_from_this();
            asio::co_spawn(
                ex, [self, key]() -> asio::awaitable<void> { co_await self->worker(key); }, asio::detached);
        }
    }

    asio::awaitable<void> reader(std::shared_ptr<sock> s) {
        auto self = shared_from_this();
        for (;;) {
            auto r = co_await s->ws->read();
            if (r.ec) {
                if (!s->retiring && !stopped)
                    spdlog::warn("slack: socket {} lost: {}", s->id, r.error);
                else
                    spdlog::info("slack: socket {} closed", s->id);
                break;
            }
            if (r.msg.binary) {
                ++cnt.bad_frames;
                spdlog::warn("slack: socket {}: binary frame of {} bytes ignored", s->id, r.msg.size);
                continue;
            }
            if (r.msg.oversized) {
                ++cnt.bad_frames;
                spdlog::warn("slack: socket {}: frame of {} bytes exceeds the limit; ignored", s->id,
                             r.msg.size);
                continue;
            }
            frame f = parse_frame(r.msg.data, pctx);
            switch (f.k) {
            case frame::kind::hello:
                spdlog::debug("slack: socket {}: extra hello", s->id);
                break;
            case frame::kind::disconnect:
                on_disconnect(s, f.reason);
                break;
            case frame::kind::envelope:
                on_envelope(s, std::move(f));
                break;
            case frame::kind::malformed:
            case frame::kind::unknown:
                ++cnt.bad_frames;
                spdlog::warn("slack: socket {}: {} frame ignored: {}", s->id,
                             f.k == frame::kind::unknown ? "unknown" : "malformed", f.note);
                if (!f.envelope_id.empty()) asio::co_spawn(ex, ack(s, f.envelope_id), asio::detached);
                break;
            }
        }
        s->retiring = true;
        s->ws->abort();
        std::erase(live, s);
        notify();
    }

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        co_await asio::this_coro::throw_if_cancelled(false);
        running = true;
        co_await auth_test();
        for (;;) {
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) stopped = true;
            if (stopped) break;
            if (!fatal.empty()) {
                for (auto& s : live)
                    s->ws->abort();
                running = false;
                throw std::runtime_error(fatal);
            }
            auto now = steady::now();
            for (auto& s : live) {
                if (!s->retiring && now >= s->refresh_at) {
                    // As on `warning`: a replacement now, the old one serves until Slack closes it.
                    spdlog::info("slack: socket {} is due for its refresh; opening a replacement", s->id);
                    s->refresh_at = steady::time_point::max();
                    replace_wanted = true;
                }
            }
            bool need = active() == 0 || replace_wanted;
            if (need && now >= not_before) {
                auto s = co_await open_socket();
                if (stopped) {
                    if (s) s->ws->abort();
                    break;
                }
                if (s) {
                    bo.reset();
                    replace_wanted = false;
                    for (auto& old : live)
                        if (old->retiring) close_socket(old);
                    live.push_back(s);
                    asio::co_spawn(ex, reader(s), asio::detached);
                    continue;
                }
                if (!fatal.empty()) continue;
                // The old socket (warning) keeps serving; a new one is opened when it drops.
                replace_wanted = false;
                auto d = bo.next();
                if (active() == 0) spdlog::info("slack: reconnecting in {} ms", d.count());
                not_before = std::max(not_before, steady::now() + d);
                continue;
            }
            auto until = need ? not_before : steady::time_point::max();
            for (auto& s : live)
                if (!s->retiring) until = std::min(until, s->refresh_at);
            co_await wait_until(until);
        }
        for (auto& s : live) {
            s->retiring = true;
            s->ws->abort();
        }
        running = false;
    }

    // ---- sending -------------------------------------------------------------------------------

    static send_result failed(std::string e) {
        send_result r;
        r.st = send_result::status::failed;
        r.error = std::move(e);
        return r;
    }

    send_result from_reply(const api_reply& r, const std::string& method, const std::string& channel,
                           std::int64_t row) {
        send_result out;
        switch (r.k) {
        case api_reply::kind::ok:
            break;
        case api_reply::kind::rate_limited:
            out.st = send_result::status::retry;
            out.retry_after = r.retry_after;
            out.error = method + ": rate limited";
            break;
        case api_reply::kind::transient:
            // A 5xx or internal_error may still have posted: look before posting again.
            if (r.sent) ambiguous.insert(row);
            out.st = send_result::status::retry;
            out.retry_after = 2s;
            out.error = method + ": " + net::redact(r.error);
            break;
        case api_reply::kind::unknown:
            ambiguous.insert(row);
            out.st = send_result::status::unknown;
            out.error = method + ": " + net::redact(r.error) + " (the request may have been received)";
            break;
        case api_reply::kind::error:
            out = failed(readable(method, r.error, channel, r.body));
            spdlog::error("slack: {}", out.error);
            break;
        }
        return out;
    }

    // DM channel for a user (conversations.open is idempotent; cached).
    asio::awaitable<std::pair<std::string, send_result>> dm_channel(const std::string& user,
                                                                    std::int64_t row) {
        if (auto it = dm_channels.find(user); it != dm_channels.end())
            co_return std::pair{it->second, send_result{}};
        auto r = co_await call("conversations.open", form("users", user), false, false);
        if (r.k != api_reply::kind::ok) {
            auto res = from_reply(r, "conversations.open", user, row);
            ambiguous.erase(row); // opening a DM is harmless to repeat
            if (res.st == send_result::status::unknown) res.st = send_result::status::retry;
            co_return std::pair{std::string(), res};
        }
        std::string id;
        if (const json::object* c = jobj(r.body, "channel")) id = jstr(*c, "id");
        if (id.empty()) co_return std::pair{std::string(), failed("conversations.open returned no channel")};
        dm_channels[user] = id;
        co_return std::pair{id, send_result{}};
    }

    json::object metadata(const outbound& m, std::size_t part) {
        json::object payload;
        payload["row"] = std::to_string(m.outbox_id);
        payload["txn"] = m.txn_id;
        payload["part"] = static_cast<std::int64_t>(part);
        json::object md;
        md["event_type"] = k_event_type;
        md["event_payload"] = std::move(payload);
        return md;
    }

    asio::awaitable<send_result> upload(const outbound& m, const std::string& channel,
                                        const std::string& thread) {
        auto r = co_await call("files.getUploadURLExternal",
                               form("filename", m.file_name, "length", std::to_string(m.file_content.size())),
                               false, false);
        if (r.k != api_reply::kind::ok) {
            auto res = from_reply(r, "files.getUploadURLExternal", channel, m.outbox_id);
            ambiguous.erase(m.outbox_id);
            if (res.st == send_result::status::unknown) res.st = send_result::status::retry;
            co_return res;
        }
        std::string url = jstr(r.body, "upload_url"), file_id = jstr(r.body, "file_id");
        if (url.empty() || file_id.empty())
            co_return failed("files.getUploadURLExternal returned no upload_url");
        net::http_request up;
        up.url = url; // pre-signed: no token goes to the upload host
        up.content_type = "application/octet-stream";
        up.body = m.file_content;
        auto ur = co_await http.request(std::move(up));
        if (!ur.ok() || ur.response.status != 200) {
            send_result res;
            res.st = send_result::status::retry;
            res.retry_after = 2s;
            res.error =
                "file upload failed: " + (ur.ok() ? "HTTP " + std::to_string(ur.response.status) : ur.error);
            co_return res;
        }
        json::object file;
        file["id"] = file_id;
        file["title"] = m.file_name;
        json::object args;
        json::array files;
        files.push_back(std::move(file));
        args["files"] = std::move(files);
        args["channel_id"] = channel;
        if (!thread.empty()) args["thread_ts"] = thread;
        auto c = co_await call("files.completeUploadExternal", json::serialize(args), true, false);
        if (c.k != api_reply::kind::ok)
            co_return from_reply(c, "files.completeUploadExternal", channel, m.outbox_id);
        send_result ok;
        ok.ref = file_id;
        co_return ok;
    }

    asio::awaitable<send_result> send(outbound m) {
        auto self = shared_from_this();
        const std::int64_t row = m.outbox_id;
        // An earlier attempt may have landed: look first (exactly-once across retries).
        if (ambiguous.contains(row) && m.to != outbound::target::private_to) {
            auto found = co_await lookup(m);
            if (found.first == lookup_state::found) {
                ambiguous.erase(row);
                co_return found.second;
            }
            if (found.first == lookup_state::failed) {
                send_result r;
                r.st = send_result::status::unknown;
                r.error =
                    "an earlier attempt may have been posted and the check failed: " + found.second.error;
                co_return r;
            }
            ambiguous.erase(row);
        }
        std::string channel = m.channel, thread = m.thread_root, dm;
        if (m.to == outbound::target::dm) {
            auto [id, err] = co_await dm_channel(m.user, row);
            if (id.empty()) co_return err;
            channel = dm = id;
        }
        if (m.to == outbound::target::channel) thread.clear();
        const bool ephemeral = m.to == outbound::target::private_to;
        const bool has_body = !m.body.blocks.empty() || !m.body.fallback.empty() || m.file_name.empty();
        auto parts = has_body ? render(m.body, m.notify) : std::vector<rendered_part>{};
        auto& done = progress[row];
        for (std::size_t i = done.size(); i < parts.size(); ++i) {
            json::object args;
            args["channel"] = channel;
            args["text"] = parts[i].text;
            if (!parts[i].blocks.empty()) args["blocks"] = parts[i].blocks;
            if (!thread.empty()) args["thread_ts"] = thread;
            std::string method = ephemeral ? "chat.postEphemeral" : "chat.postMessage";
            if (ephemeral) {
                args["user"] = m.user;
            } else {
                args["unfurl_links"] = false;
                args["unfurl_media"] = false;
                args["metadata"] = metadata(m, i);
            }
            std::vector<std::string> keys;
            keys.push_back("c:" + channel);
            auto r = co_await call(method, json::serialize(args), true, false, std::move(keys));
            if (r.k != api_reply::kind::ok) {
                auto res = from_reply(r, method, channel, row);
                if (ephemeral && res.st == send_result::status::unknown) ambiguous.erase(row);
                res.dm_channel = dm;
                if (res.st == send_result::status::failed) progress.erase(row);
                co_return res;
            }
            std::string ts = jstr(r.body, ephemeral ? "message_ts" : "ts");
            progress[row].push_back(ts.empty() ? "?" : ts);
        }
        send_result out;
        auto it = progress.find(row);
        if (it != progress.end() && !it->second.empty()) out.ref = it->second.front();
        if (!m.file_name.empty()) {
            std::string fchan = channel;
            if (ephemeral) { // a private file goes to the person's DM
                auto [id, err] = co_await dm_channel(m.user, row);
                if (id.empty()) co_return err;
                fchan = id;
            }
            std::string fthread = ephemeral ? std::string() : thread;
            auto f = co_await upload(m, fchan, fthread);
            if (f.st != send_result::status::sent) {
                f.dm_channel = dm;
                co_return f;
            }
            if (out.ref.empty()) out.ref = f.ref;
        }
        progress.erase(row);
        ambiguous.erase(row);
        out.dm_channel = dm;
        co_return out;
    }

    enum class lookup_state { found, not_found, failed };

    // Finds the row's posts by their metadata; records the parts found so a resend continues
    // after them.
    asio::awaitable<std::pair<lookup_state, send_result>> lookup(const outbound& m) {
        auto self = shared_from_this();
        send_result res;
        if (m.to == outbound::target::private_to) {
            res.error = "ephemeral messages cannot be looked up";
            co_return std::pair{lookup_state::failed, res};
        }
        std::string channel = m.channel, thread = m.to == outbound::target::channel ? "" : m.thread_root;
        if (m.to == outbound::target::dm) {
            auto [id, err] = co_await dm_channel(m.user, m.outbox_id);
            if (id.empty()) co_return std::pair{lookup_state::failed, err};
            channel = id;
            res.dm_channel = id;
        }
        std::size_t expected = (!m.body.blocks.empty() || !m.body.fallback.empty() || m.file_name.empty())
                                   ? render(m.body, m.notify).size()
                                   : 0;
        std::map<std::int64_t, std::string> found;
        std::string method = thread.empty() ? "conversations.history" : "conversations.replies";
        std::string cursor;
        auto oldest = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch() - cfg.find_sent_window)
                          .count();
        for (int page = 0; page < 10; ++page) {
            std::string body = thread.empty() ? form("channel", channel, "include_all_metadata", "true",
                                                     "limit", "200", "oldest", std::to_string(oldest))
                                              : form("channel", channel, "ts", thread, "include_all_metadata",
                                                     "true", "limit", "200");
            if (!cursor.empty()) body += "&cursor=" + net::form_encode(cursor);
            auto r = co_await call(method, body, false, false);
            if (r.k != api_reply::kind::ok) {
                res.error = method + ": " +
                            (r.k == api_reply::kind::error ? readable(method, r.error, channel, r.body)
                                                           : net::redact(r.error));
                co_return std::pair{lookup_state::failed, res};
            }
            auto mit = r.body.find("messages");
            if (mit != r.body.end() && mit->value().is_array()) {
                for (const auto& v : mit->value().get_array()) {
                    if (!v.is_object()) continue;
                    const json::object* md = jobj(v.get_object(), "metadata");
                    if (!md || jstr(*md, "event_type") != k_event_type) continue;
                    const json::object* p = jobj(*md, "event_payload");
                    if (!p) continue;
                    auto rowv = p->find("row");
                    if (rowv == p->end()) continue;
                    bool match = (rowv->value().is_string() &&
                                  rowv->value().get_string() == std::to_string(m.outbox_id)) ||
                                 (rowv->value().is_int64() && rowv->value().get_int64() == m.outbox_id);
                    if (!match) continue;
                    std::int64_t part = 0;
                    if (auto pv = p->find("part"); pv != p->end() && pv->value().is_int64())
                        part = pv->value().get_int64();
                    found[part] = jstr(v.get_object(), "ts");
                }
            }
            cursor.clear();
            if (const json::object* meta = jobj(r.body, "response_metadata"))
                cursor = jstr(*meta, "next_cursor");
            if (cursor.empty()) break;
        }
        std::vector<std::string> prefix;
        for (std::size_t i = 0; found.contains(static_cast<std::int64_t>(i)); ++i)
            prefix.push_back(found[i]);
        if (!prefix.empty() && prefix.size() >= expected && m.file_name.empty()) {
            res.st = send_result::status::sent;
            res.ref = prefix.front();
            progress.erase(m.outbox_id);
            co_return std::pair{lookup_state::found, res};
        }
        if (!prefix.empty())
            progress[m.outbox_id] = prefix; // partly posted: resume after these
        else
            progress.erase(m.outbox_id);
        co_return std::pair{lookup_state::not_found, res};
    }
};

adapter::adapter(asio::any_io_executor ex, config cfg) {
    if (auto e = validate(cfg); !e.empty()) throw std::invalid_argument(e);
    impl_ = std::make_shared<impl>(std::move(ex), std::move(cfg));
}

adapter::~adapter() {
    stop();
}

asio::awaitable<void> adapter::run(event_sink sink) {
    auto self = impl_;
    self->sink = std::move(sink);
    self->stopped = false;
    co_await self->run();
}

asio::awaitable<send_result> adapter::send(const outbound& msg) {
    auto self = impl_;
    co_return co_await self->send(msg);
}

asio::awaitable<std::optional<send_result>> adapter::find_sent(const outbound& msg) {
    auto self = impl_;
    auto r = co_await self->lookup(msg);
    if (r.first == impl::lookup_state::found) {
        self->ambiguous.erase(msg.outbox_id);
        co_return r.second;
    }
    if (r.first == impl::lookup_state::not_found) {
        self->ambiguous.erase(msg.outbox_id);
    } else {
        // Still unknown (also right after a restart): send() must look again before posting.
        if (msg.to != outbound::target::private_to) self->ambiguous.insert(msg.outbox_id);
        spdlog::warn("slack: cannot check whether row {} was posted: {}", msg.outbox_id, r.second.error);
    }
    co_return std::nullopt;
}

bool adapter::ready() const {
    return impl_->running && !impl_->stopped && impl_->active() > 0;
}

void adapter::stop() {
    impl_->stopped = true;
    impl_->uncommitted_wake.cancel();
    if (impl_->opening) impl_->opening->abort();
    for (auto& s : impl_->live) {
        s->retiring = true;
        s->ws->abort();
    }
    impl_->notify();
}

adapter::counters adapter::stats() const {
    return impl_->cnt;
}

std::string adapter::bot_user_id() const {
    return impl_->pctx.self_user_id;
}

} // namespace pm::adapters::slack

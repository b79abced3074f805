// pm_loadgen: a load generator that plays Slack on 127.0.0.1 for one Socket Mode app and measures it.
//
//   pm_loadgen [--events N] [--window W] [--every K] [--label L] [--timeout S] -- COMMAND [ARGS…]
//   pm_loadgen [options] --null-client       (the generator's own ceiling: a client that only acks)
//
// It serves the Web API (auth.test, apps.connections.open, users.info, conversations.open,
// chat.postMessage, …) and Socket Mode on one port, starts COMMAND with SLACK_API_URL pointing at
// itself (plus SLACK_BOT_TOKEN, SLACK_APP_TOKEN, POSTMORTEM_ADMIN_LISTEN=127.0.0.1:0), waits for the
// socket's `hello`, then sends N `events_api` message envelopes (about 1 KB each, shaped as in
// protocols/slack.md) keeping at most W un-acked. Every K-th one is a DM to the bot,
// `<@U0PMBOT> postmortem help`, which must be answered with a chat.postMessage into that DM; the
// run ends when every envelope is acked and every such post has arrived (or at the timeout).
//
// Figures (one JSON object on stdout): events acked per second, ack latency p50/p99/max (envelope
// written → ack frame read), the app's CPU time per event (utime+stime from /proc/PID/stat, delta
// over the run), its peak RSS (VmHWM), cold start (spawn → `hello` written), Web API calls served,
// posts received. Exit status 0 when the counts match, 1 when not, 2 on a usage error.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "adapters/net/url.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

const char* const k_bot_user = "U0PMBOT";

struct options {
    std::size_t events = 2000;
    std::size_t window = 1;
    std::size_t every = 10;
    std::size_t users = 40;
    std::string label = "run";
    int timeout_s = 300;
    bool null_client = false;
    std::vector<std::string> command;
};

// ---- the null client (a child process of the generator) --------------------------------------

// Asks for a socket URL like an app would, then acks every envelope at once; nothing else.
int run_null_client() {
    const char* api = std::getenv("SLACK_API_URL");
    if (!api) return 2;
    std::string base = api; // http://127.0.0.1:PORT/api/
    auto hp = base.substr(7);
    auto slash = hp.find('/');
    auto host_port = hp.substr(0, slash);
    auto colon = host_port.find(':');
    std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
    try {
        asio::io_context io;
        tcp::resolver res(io);
        auto eps = res.resolve(host, port);
        std::string url;
        {
            beast::tcp_stream s(io);
            s.connect(eps);
            http::request<http::string_body> req{http::verb::post, "/api/apps.connections.open", 11};
            req.set(http::field::host, host_port);
            req.set(http::field::authorization, std::string("Bearer ") + std::getenv("SLACK_APP_TOKEN"));
            req.set(http::field::content_type, "application/x-www-form-urlencoded");
            req.prepare_payload();
            http::write(s, req);
            beast::flat_buffer b;
            http::response<http::string_body> r;
            http::read(s, b, r);
            url = std::string(json::parse(r.body()).at("url").as_string());
        }
        // ws://127.0.0.1:PORT/link/?ticket=…
        auto path = url.substr(url.find('/', 5));
        websocket::stream<tcp::socket> ws(io);
        asio::connect(ws.next_layer(), eps);
        ws.next_layer().set_option(tcp::no_delay(true));
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& r) { r.set(http::field::user_agent, "pm_loadgen-null-client"); }));
        ws.handshake(host_port, path);
        beast::flat_buffer buf;
        const std::string key = "\"envelope_id\":\"";
        for (;;) {
            ws.read(buf);
            std::string_view text(static_cast<const char*>(buf.data().data()), buf.size());
            auto at = text.find(key);
            if (at != std::string_view::npos) {
                auto start = at + key.size();
                auto end = text.find('"', start);
                std::string ack =
                    "{\"envelope_id\":\"" + std::string(text.substr(start, end - start)) + "\"}";
                buf.consume(buf.size());
                ws.text(true);
                ws.write(asio::buffer(ack));
            } else {
                buf.consume(buf.size());
            }
        }
    } catch (const std::exception&) {
        return 0; // the generator closed the socket: done
    }
}

// ---- helpers ---------------------------------------------------------------------------------

// One field of a form-encoded body.
std::string form_field(std::string_view body, std::string_view key) {
    for (auto& [k, v] : pm::adapters::net::form_decode(body))
        if (k == key) return v;
    return {};
}

std::string field(const http::request<http::string_body>& req, std::string_view key) {
    std::string ctype(req[http::field::content_type]);
    if (ctype.rfind("application/json", 0) == 0) {
        boost::system::error_code ec;
        auto v = json::parse(req.body(), ec);
        if (ec || !v.is_object()) return {};
        auto* f = v.get_object().if_contains(key);
        return f && f->is_string() ? std::string(f->get_string()) : std::string();
    }
    return form_field(req.body(), key);
}

std::string user_id(std::size_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "U0BENCH%03zu", n);
    return b;
}

std::string slack_ts(std::size_t i) {
    char b[32];
    std::snprintf(b, sizeof b, "%zu.%06zu", static_cast<std::size_t>(1767351000) + i / 1000,
                  (i % 1000) * 100);
    return b;
}

// A message event as Slack delivers it over Socket Mode (protocols/slack.md §1.4, §2.1, §2.2):
// about 1 KB with the rich_text blocks, the wrapper's context fields and authorizations.
std::string make_envelope(std::size_t i, const options& o, bool to_bot) {
    const std::string user = user_id(to_bot ? i % 8 : i % o.users);
    std::string channel, channel_type, text, thread;
    if (to_bot) {
        channel = "D" + user.substr(1); // the DM between this user and the bot
        channel_type = "im";
        text = std::string("<@") + k_bot_user + "> postmortem help";
    } else {
        static const char* const lines[] = {
            "14:05 rolled back &lt;deploy 42&gt; &amp; paged DB on-call; error rate back under 1% at 14:09",
            "saw the replica lag alert fire twice before the failover, watching the dashboards now",
            "~14:10 the connection pool on api-3 was exhausted, restarting it and draining the queue",
            "I think the config push at 13:58 is related, checking the diff with the team in #db",
        };
        channel = "C0INC" + std::to_string(1000 + i % 7);
        channel_type = "channel";
        text = lines[i % 4];
        if (i % 3 == 0) thread = slack_ts(i / 3 * 3 > 30 ? i / 3 * 3 - 30 : 0);
    }
    const std::string ts = slack_ts(i);
    json::object elem;
    elem["type"] = "text";
    elem["text"] = text;
    json::object sec;
    sec["type"] = "rich_text_section";
    sec["elements"] = json::array{elem};
    json::object block;
    block["type"] = "rich_text";
    block["block_id"] = "b" + std::to_string(i % 997);
    block["elements"] = json::array{sec};
    json::object ev;
    ev["user"] = user;
    ev["type"] = "message";
    ev["ts"] = ts;
    ev["client_msg_id"] = "6f4e2b9c-1d3a-4e8f-9b7c-" + std::to_string(100000000000 + i);
    ev["text"] = text;
    ev["team"] = "T0PMTEAM";
    if (!thread.empty()) ev["thread_ts"] = thread;
    ev["blocks"] = json::array{block};
    ev["channel"] = channel;
    ev["event_ts"] = ts;
    ev["channel_type"] = channel_type;
    json::object auth;
    auth["enterprise_id"] = nullptr;
    auth["team_id"] = "T0PMTEAM";
    auth["user_id"] = k_bot_user;
    auth["is_bot"] = true;
    auth["is_enterprise_install"] = false;
    json::object payload;
    payload["token"] = "bench-verification-token";
    payload["team_id"] = "T0PMTEAM";
    payload["context_team_id"] = "T0PMTEAM";
    payload["context_enterprise_id"] = nullptr;
    payload["api_app_id"] = "A0PMBOT01";
    payload["event"] = std::move(ev);
    payload["type"] = "event_callback";
    payload["event_id"] = "Ev0BENCH" + std::to_string(i);
    payload["event_time"] = 1767351000 + static_cast<std::int64_t>(i / 1000);
    payload["authorizations"] = json::array{auth};
    payload["is_ext_shared_channel"] = false;
    payload["event_context"] =
        "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMFBNVEVBTSIsImFpZCI6IkEwUE1CT1QwMSIsImNpZCI6I" + channel + "In0";
    json::object env;
    env["envelope_id"] = "env-" + std::to_string(i);
    env["payload"] = std::move(payload);
    env["type"] = "events_api";
    env["accepts_response_payload"] = false;
    env["retry_attempt"] = 0;
    env["retry_reason"] = "";
    return json::serialize(env);
}

struct proc_sample {
    double cpu_s = 0; // utime + stime
    long hwm_kb = 0;
    long rss_kb = 0;
};

proc_sample sample(pid_t pid) {
    proc_sample s;
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(st, line);
    auto rp = line.rfind(')');
    if (rp != std::string::npos) {
        std::istringstream in(line.substr(rp + 2));
        std::vector<std::string> f;
        std::string x;
        while (in >> x)
            f.push_back(x);
        // fields after the name start at #3 (state); utime is #14, stime #15
        if (f.size() > 13) {
            const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
            s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick;
        }
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::stol(line.substr(6));
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
    }
    return s;
}

// ---- the generator ---------------------------------------------------------------------------

struct ws_conn : std::enable_shared_from_this<ws_conn> {
    websocket::stream<beast::tcp_stream> ws;
    std::deque<std::pair<std::shared_ptr<const std::string>, steady::time_point*>> out; // frame, stamp
    bool writing = false;
    bool closed = false;
    explicit ws_conn(beast::tcp_stream s) : ws(std::move(s)) {}

    void send(std::shared_ptr<const std::string> text, steady::time_point* stamp = nullptr) {
        if (closed) return;
        out.emplace_back(std::move(text), stamp);
        if (writing) return;
        writing = true;
        asio::co_spawn(ws.get_executor(), writer(shared_from_this()), asio::detached);
    }
    static asio::awaitable<void> writer(std::shared_ptr<ws_conn> self) {
        while (!self->out.empty() && !self->closed) {
            auto [text, stamp] = std::move(self->out.front());
            self->out.pop_front();
            // Latency runs from the moment the frame is handed to the socket.
            if (stamp) *stamp = steady::now();
            auto [ec, n] = co_await self->ws.async_write(asio::buffer(*text), use_tuple);
            if (ec) {
                self->closed = true;
                break;
            }
        }
        self->writing = false;
    }
};

struct generator {
    asio::io_context& io;
    options opt;
    tcp::acceptor acc;
    pid_t child = -1;
    std::vector<std::shared_ptr<const std::string>> envelopes;
    std::vector<steady::time_point> sent_at;
    std::vector<char> acked;
    std::vector<double> latency_us;
    std::size_t next = 0, inflight = 0, acks = 0, dup_acks = 0, posts = 0, posts_expected = 0, bad_posts = 0;
    std::size_t api_calls = 0, sockets = 0;
    std::map<std::string, std::size_t> by_method;
    steady::time_point t_spawn, t_hello, t_first_send, t_last_ack, t_last_post;
    bool started = false, finished = false;
    std::shared_ptr<ws_conn> primary;
    std::vector<std::shared_ptr<ws_conn>> conns;
    proc_sample at_start;
    asio::steady_timer end_timer;
    std::string ts_seq_prefix = "1767352";
    std::size_t next_ts = 0;

    generator(asio::io_context& i, options o) : io(i), opt(std::move(o)), acc(i), end_timer(i) {
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acc.open(ep.protocol());
        acc.set_option(tcp::acceptor::reuse_address(true));
        acc.bind(ep);
        acc.listen(128);
        envelopes.reserve(opt.events);
        for (std::size_t i = 0; i < opt.events; ++i) {
            bool to_bot = opt.every > 0 && i % opt.every == opt.every - 1;
            if (to_bot) ++posts_expected;
            envelopes.push_back(std::make_shared<const std::string>(make_envelope(i, opt, to_bot)));
        }
        if (opt.null_client) posts_expected = 0; // it only acks
        sent_at.resize(opt.events);
        acked.resize(opt.events);
        latency_us.reserve(opt.events);
    }

    unsigned short port() const { return acc.local_endpoint().port(); }
    std::string base() const { return "127.0.0.1:" + std::to_string(port()); }

    std::string api(const std::string& method, const http::request<http::string_body>& req) {
        ++api_calls;
        ++by_method[method];
        auto ok = [](json::object o) {
            o["ok"] = true;
            return json::serialize(o);
        };
        if (method == "auth.test") {
            json::object r;
            r["url"] = "https://bench.slack.test/";
            r["team"] = "Bench";
            r["user"] = "postmortem";
            r["team_id"] = "T0PMTEAM";
            r["user_id"] = k_bot_user;
            r["bot_id"] = "B0PMBOT";
            r["is_enterprise_install"] = false;
            return ok(r);
        }
        if (method == "apps.connections.open") {
            json::object r;
            r["url"] =
                "ws://" + base() + "/link/?ticket=" + std::to_string(sockets + 1) + "&app_id=A0PMBOT01";
            return ok(r);
        }
        if (method == "users.info") {
            std::string u = field(req, "user");
            json::object prof;
            prof["display_name"] = "user-" + u.substr(u.size() > 3 ? u.size() - 3 : 0);
            prof["real_name"] = "Bench User " + u;
            json::object user;
            user["id"] = u;
            user["name"] = "bench" + u;
            user["deleted"] = false;
            user["real_name"] = "Bench User " + u;
            user["tz"] = "Europe/Berlin";
            user["tz_label"] = "Central European Time";
            user["tz_offset"] = 3600;
            user["is_bot"] = false;
            user["profile"] = std::move(prof);
            json::object r;
            r["user"] = std::move(user);
            return ok(r);
        }
        if (method == "conversations.open") {
            std::string u = field(req, "users");
            json::object ch;
            ch["id"] = "D" + (u.empty() ? std::string("X") : u.substr(1));
            json::object r;
            r["channel"] = std::move(ch);
            return ok(r);
        }
        if (method == "chat.postMessage" || method == "chat.postEphemeral") {
            std::string ch = field(req, "channel");
            const bool has_text =
                !field(req, "text").empty() || req.body().find("blocks") != std::string::npos;
            if (method == "chat.postMessage" && !ch.empty() && ch.front() == 'D' && has_text) {
                ++posts;
                t_last_post = steady::now();
                check_done();
            } else {
                ++bad_posts;
            }
            json::object r;
            r["channel"] = ch;
            const std::size_t n = next_ts++;
            std::string ts = ts_seq_prefix + std::to_string(100 + n % 900) + "." + std::to_string(100000 + n);
            r[method == "chat.postMessage" ? "ts" : "message_ts"] = ts;
            return ok(r);
        }
        return ok({});
    }

    void send_more() {
        while (started && inflight < opt.window && next < opt.events && primary && !primary->closed) {
            std::size_t i = next++;
            ++inflight;
            primary->send(envelopes[i], &sent_at[i]);
        }
    }

    void on_text(std::string_view text) {
        const std::string_view key = "\"envelope_id\":\"env-";
        auto at = text.find(key);
        if (at == std::string_view::npos) return;
        std::size_t i = 0;
        for (auto p = at + key.size(); p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p)
            i = i * 10 + static_cast<std::size_t>(text[p] - '0');
        if (i >= opt.events) return;
        auto now = steady::now();
        if (acked[i]) {
            ++dup_acks;
            return;
        }
        acked[i] = 1;
        ++acks;
        --inflight;
        latency_us.push_back(std::chrono::duration<double, std::micro>(now - sent_at[i]).count());
        t_last_ack = now;
        send_more();
        check_done();
    }

    void check_done() {
        if (!started || finished) return;
        if (acks >= opt.events && posts >= posts_expected) {
            finished = true;
            end_timer.cancel();
        }
    }

    void start_sending() {
        if (started) return;
        at_start = sample(child);
        started = true;
        t_first_send = steady::now();
        send_more();
        check_done();
    }

    asio::awaitable<void> pinger(std::shared_ptr<ws_conn> c) {
        // Slack pings its sockets; node's socket-mode client drops a socket that is never pinged.
        asio::steady_timer t(io);
        while (!c->closed) {
            t.expires_after(5s);
            co_await t.async_wait(use_tuple);
            if (c->closed) break;
            auto [ec] = co_await c->ws.async_ping({}, use_tuple);
            if (ec) break;
        }
    }

    asio::awaitable<void> serve_ws(beast::tcp_stream stream, http::request<http::string_body> req) {
        auto c = std::make_shared<ws_conn>(std::move(stream));
        beast::get_lowest_layer(c->ws).expires_never();
        c->ws.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& r) { r.set(http::field::server, "pm_loadgen"); }));
        auto [ec] = co_await c->ws.async_accept(req, use_tuple);
        if (ec) co_return;
        c->ws.text(true);
        ++sockets;
        conns.push_back(c);
        c->send(std::make_shared<const std::string>(
            R"({"type":"hello","num_connections":1,"connection_info":{"app_id":"A0PMBOT01"},"debug_info":{"host":"pm-loadgen","build_number":1,"approximate_connection_time":18060}})"));
        if (!primary) {
            primary = c;
            t_hello = steady::now();
            // Let the app take the hello before the first envelope.
            asio::steady_timer settle(io, 200ms);
            co_await settle.async_wait(use_tuple);
            start_sending();
        }
        asio::co_spawn(io, pinger(c), asio::detached);
        beast::flat_buffer buf;
        for (;;) {
            auto [rec, n] = co_await c->ws.async_read(buf, use_tuple);
            if (rec) break;
            on_text(std::string_view(static_cast<const char*>(buf.data().data()), buf.size()));
            buf.consume(buf.size());
        }
        c->closed = true;
    }

    asio::awaitable<void> serve_http(tcp::socket sock) {
        beast::tcp_stream stream(std::move(sock));
        stream.socket().set_option(tcp::no_delay(true));
        beast::flat_buffer buf;
        for (;;) {
            http::request_parser<http::string_body> p;
            p.body_limit(16u << 20);
            auto [ec, n] = co_await http::async_read(stream, buf, p, use_tuple);
            if (ec) co_return;
            auto req = p.release();
            if (websocket::is_upgrade(req)) {
                co_await serve_ws(std::move(stream), std::move(req));
                co_return;
            }
            http::response<http::string_body> res{http::status::ok, req.version()};
            std::string target(req.target());
            if (target.rfind("/api/", 0) == 0) {
                auto q = target.find('?');
                res.body() = api(target.substr(5, q == std::string::npos ? q : q - 5), req);
            } else {
                res.result(http::status::not_found);
                res.body() = "{}";
            }
            res.set(http::field::content_type, "application/json; charset=utf-8");
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
            if (wec || !req.keep_alive()) co_return;
        }
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acc.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(io, serve_http(std::move(sock)), asio::detached);
        }
    }

    void spawn(const std::vector<std::string>& cmd, const std::string& self_exe) {
        std::vector<std::string> args = cmd;
        if (opt.null_client) args = {self_exe, "--null-client-child"};
        t_spawn = steady::now();
        child = fork();
        if (child < 0) {
            perror("fork");
            std::exit(2);
        }
        if (child == 0) {
            setenv("SLACK_API_URL", ("http://" + base() + "/api/").c_str(), 1);
            setenv("SLACK_BOT_TOKEN", "xoxb-bench-bot-token", 1);
            setenv("SLACK_APP_TOKEN", "xapp-1-bench-app-token", 1);
            setenv("POSTMORTEM_ADMIN_LISTEN", "127.0.0.1:0", 1);
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execvp(argv[0], argv.data());
            perror("exec");
            _exit(127);
        }
    }
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

int usage() {
    std::cerr
        << "usage: pm_loadgen [--events N] [--window W] [--every K] [--users U] [--label L] [--timeout S]\n"
           "                  (--null-client | -- COMMAND [ARGS…])\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto num = [&](std::size_t& out) {
            if (i + 1 >= argc) return false;
            out = std::stoul(argv[++i]);
            return true;
        };
        if (a == "--null-client-child") return run_null_client();
        if (a == "--events") {
            if (!num(opt.events)) return usage();
        } else if (a == "--window") {
            if (!num(opt.window) || opt.window == 0) return usage();
        } else if (a == "--every") {
            if (!num(opt.every)) return usage();
        } else if (a == "--users") {
            if (!num(opt.users) || opt.users == 0) return usage();
        } else if (a == "--timeout") {
            std::size_t t = 0;
            if (!num(t)) return usage();
            opt.timeout_s = static_cast<int>(t);
        } else if (a == "--label") {
            if (i + 1 >= argc) return usage();
            opt.label = argv[++i];
        } else if (a == "--null-client") {
            opt.null_client = true;
        } else if (a == "--") {
            for (++i; i < argc; ++i)
                opt.command.push_back(argv[i]);
        } else {
            return usage();
        }
    }
    if (!opt.null_client && opt.command.empty()) return usage();
    signal(SIGPIPE, SIG_IGN);

    asio::io_context io(1);
    generator g(io, opt);
    asio::co_spawn(io, g.accept_loop(), asio::detached);
    char self[4096];
    auto n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    g.spawn(opt.command, self);

    // The whole run is bounded; a child that dies early ends it too.
    g.end_timer.expires_after(std::chrono::seconds(opt.timeout_s));
    g.end_timer.async_wait([&](boost::system::error_code) { io.stop(); });
    asio::steady_timer watch(io);
    std::function<void()> watch_child = [&] {
        watch.expires_after(100ms);
        watch.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            int st = 0;
            if (waitpid(g.child, &st, WNOHANG) == g.child) {
                std::cerr << "pm_loadgen: the app exited early (status " << st << ")\n";
                g.child = -1;
                io.stop();
                return;
            }
            watch_child();
        });
    };
    watch_child();
    io.run();

    const auto t_end = g.finished ? std::max(g.t_last_ack, g.t_last_post) : steady::now();
    proc_sample end{};
    if (g.child > 0) end = sample(g.child);
    if (g.child > 0) {
        kill(g.child, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            if (waitpid(g.child, nullptr, WNOHANG) == g.child) {
                g.child = -1;
                break;
            }
            usleep(100000);
        }
        if (g.child > 0) {
            kill(g.child, SIGKILL);
            waitpid(g.child, nullptr, 0);
        }
    }

    auto secs = [](steady::duration d) { return std::chrono::duration<double>(d).count(); };
    const double ack_span = g.acks ? secs(g.t_last_ack - g.t_first_send) : 0;
    const double run_span = g.started ? secs(t_end - g.t_first_send) : 0;
    const double cpu = end.cpu_s - g.at_start.cpu_s;
    json::object r;
    r["label"] = opt.label;
    r["events"] = opt.events;
    r["window"] = opt.window;
    r["acked"] = g.acks;
    r["duplicate_acks"] = g.dup_acks;
    r["posts_expected"] = g.posts_expected;
    r["posts"] = g.posts;
    r["other_posts"] = g.bad_posts;
    r["events_per_s"] = ack_span > 0 ? static_cast<double>(g.acks) / ack_span : 0.0;
    r["ack_p50_ms"] = percentile(g.latency_us, 0.50) / 1000;
    r["ack_p99_ms"] = percentile(g.latency_us, 0.99) / 1000;
    r["ack_max_ms"] =
        g.latency_us.empty() ? 0.0 : *std::max_element(g.latency_us.begin(), g.latency_us.end()) / 1000;
    r["run_s"] = run_span;
    r["cpu_s"] = cpu;
    r["cpu_us_per_event"] = opt.events ? cpu * 1e6 / static_cast<double>(opt.events) : 0.0;
    r["peak_rss_mb"] = static_cast<double>(end.hwm_kb) / 1024;
    r["cold_start_ms"] = g.primary ? secs(g.t_hello - g.t_spawn) * 1000 : 0.0;
    r["api_calls"] = g.api_calls;
    json::object m;
    for (auto& [k, v] : g.by_method)
        m[k] = v;
    r["api_by_method"] = std::move(m);
    r["complete"] = g.finished;
    std::cout << json::serialize(r) << std::endl;
    return g.finished && g.acks == opt.events && g.posts >= g.posts_expected ? 0 : 1;
}

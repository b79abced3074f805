#include "fake_slack.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <deque>

#include "adapters/net/url.hpp"

namespace pm::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

json::object form_decode(std::string_view body) {
    json::object o;
    for (auto& [k, v] : pm::adapters::net::form_decode(body))
        o[k] = v;
    return o;
}

std::string sget(const json::object& o, std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

struct ws_session_base {
    int id = 0;
    virtual ~ws_session_base() = default;
    virtual void send(std::string text, bool binary) = 0;
    virtual void drop() = 0;
    virtual void freeze() = 0;
};

} // namespace

struct fake_slack::impl : std::enable_shared_from_this<impl> {
    fake_slack* owner = nullptr;
    asio::any_io_executor ex;
    tcp::acceptor acceptor;
    std::shared_ptr<ssl::context> ctx;
    std::vector<std::shared_ptr<ws_session_base>> sockets;
    std::vector<std::string> log;
    int accepted = 0;
    int ticket = 0;
    int next_ts = 100;
    int next_file = 1;
    std::map<std::string, steady::time_point> retry_windows;
    std::vector<std::shared_ptr<ws_session_base>> frozen; // kept alive so their TCP stays open

    void note(const std::string& line) {
        if (owner && owner->on_log) owner->on_log(line);
    }

    impl(asio::any_io_executor e) : ex(e), acceptor(e) {}

    struct answer {
        int status = 200;
        std::string body;
        std::vector<std::pair<std::string, std::string>> headers;
        bool drop = false;
    };

    std::string scheme(bool ws) const { return ctx ? (ws ? "wss" : "https") : (ws ? "ws" : "http"); }
    std::string base(bool ws) const {
        return scheme(ws) + "://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    }

    std::string new_ts() { return std::to_string(1767351000 + next_ts++) + ".000100"; }

    json::value message_json(const message& m) {
        json::object o;
        o["type"] = "message";
        o["ts"] = m.ts;
        o["user"] = owner->bot_user;
        o["bot_id"] = owner->bot_id;
        o["text"] = sget(m.args, "text");
        if (!m.thread_ts.empty()) o["thread_ts"] = m.thread_ts;
        if (auto it = m.args.find("metadata"); it != m.args.end()) o["metadata"] = it->value();
        return o;
    }

    answer ok(json::object o) {
        o["ok"] = true;
        return answer{200, json::serialize(o)};
    }
    answer err(const std::string& e) {
        json::object o;
        o["ok"] = false;
        o["error"] = e;
        return answer{200, json::serialize(o)};
    }

    answer handle_api(const std::string& method, const call& c) {
        auto& o = *owner;
        bool app = method == "apps.connections.open";
        if (c.token.empty()) return err("not_authed");
        if (app && c.token.rfind("xapp-", 0) != 0) return err("not_allowed_token_type");
        if (!app && c.token.rfind("xoxb-", 0) != 0) return err("not_allowed_token_type");
        if (method == "auth.test") {
            if (!o.auth_error.empty()) return err(o.auth_error);
            json::object r;
            r["user_id"] = o.bot_user;
            r["bot_id"] = o.bot_id;
            r["team_id"] = "T0PMTEAM";
            r["team"] = "Fake";
            r["url"] = "https://fake.slack.test/";
            return ok(r);
        }
        if (method == "apps.connections.open") {
            json::object r;
            r["url"] = base(true) + "/link/?ticket=" + std::to_string(++ticket) + "&app_id=A0PMBOT01";
            return ok(r);
        }
        if (method == "chat.postMessage" || method == "chat.postEphemeral") {
            bool eph = method == "chat.postEphemeral";
            std::string ch = sget(c.args, "channel");
            if (ch.empty()) return err("channel_not_found");
            if (auto it = o.channel_errors.find(ch); it != o.channel_errors.end()) return err(it->second);
            if (sget(c.args, "text").empty() && c.args.find("blocks") == c.args.end()) return err("no_text");
            message m;
            m.channel = ch;
            m.ts = new_ts();
            m.thread_ts = sget(c.args, "thread_ts");
            m.user = sget(c.args, "user");
            m.args = c.args;
            m.ephemeral = eph;
            o.messages.push_back(m);
            note((eph ? "ephemeral " : "post ") + ch + " " + m.ts);
            json::object r;
            r["channel"] = ch;
            r[eph ? "message_ts" : "ts"] = m.ts;
            return ok(r);
        }
        if (method == "conversations.open") {
            std::string u = sget(c.args, "users");
            if (u.empty()) return err("users_list_not_supplied");
            json::object ch;
            ch["id"] = "D" + u.substr(1);
            json::object r;
            r["channel"] = ch;
            return ok(r);
        }
        if (method == "conversations.history" || method == "conversations.replies") {
            std::string ch = sget(c.args, "channel"), ts = sget(c.args, "ts");
            json::array msgs;
            for (auto it = o.messages.rbegin(); it != o.messages.rend(); ++it) {
                if (it->ephemeral || it->channel != ch) continue;
                bool top = it->thread_ts.empty() || it->thread_ts == it->ts;
                if (method == "conversations.history" ? top : (it->ts == ts || it->thread_ts == ts))
                    msgs.push_back(message_json(*it));
            }
            json::object r;
            r["messages"] = std::move(msgs);
            r["has_more"] = false;
            return ok(r);
        }
        if (method == "users.info") {
            auto it = o.users.find(sget(c.args, "user"));
            if (it == o.users.end()) return err("user_not_found");
            json::object r;
            r["user"] = it->second;
            return ok(r);
        }
        if (method == "files.getUploadURLExternal") {
            std::string id = "F" + std::to_string(next_file++);
            json::object r;
            r["upload_url"] = base(false) + "/upload/" + id;
            r["file_id"] = id;
            return ok(r);
        }
        if (method == "files.completeUploadExternal") {
            json::object r;
            r["files"] = json::array{};
            return ok(r);
        }
        return err("unknown_method");
    }

    answer handle(const http::request<http::string_body>& req) {
        std::string target(req.target());
        if (target.rfind("/upload/", 0) == 0) {
            if (owner) owner->files[target.substr(8)] = req.body();
            return answer{200, "OK - " + std::to_string(req.body().size())};
        }
        if (target.rfind("/api/", 0) != 0 || !owner) return answer{404, "{}"};
        std::string method = target.substr(5);
        call c;
        c.method = method;
        std::string auth(req[http::field::authorization]);
        if (auth.rfind("Bearer ", 0) == 0) c.token = auth.substr(7);
        std::string ctype(req[http::field::content_type]);
        if (ctype.rfind("application/json", 0) == 0) {
            boost::system::error_code ec;
            auto v = json::parse(req.body(), ec);
            if (ec || !v.is_object()) return err("invalid_json");
            c.args = v.get_object();
        } else {
            c.args = form_decode(req.body());
        }
        auto& o = *owner;
        o.calls.push_back(c);
        auto now = steady::now();
        if (auto it = retry_windows.find(method); it != retry_windows.end() && now < it->second)
            ++o.rate_limit_violations;
        if (o.hook) {
            if (auto inj = o.hook(c)) {
                answer a{inj->status, inj->body, inj->headers, false};
                if (inj->process_then_drop) {
                    handle_api(method, c);
                    a.drop = true;
                }
                return a;
            }
        }
        if (method == "chat.postMessage" && o.ratelimit_next_posts > 0) {
            --o.ratelimit_next_posts;
            retry_windows[method] = now + std::chrono::seconds(o.retry_after_seconds);
            answer a{429, R"({"ok":false,"error":"ratelimited"})"};
            a.headers.emplace_back("Retry-After", std::to_string(o.retry_after_seconds));
            return a;
        }
        answer a = handle_api(method, c);
        if (method == "chat.postMessage" && o.drop_next_post_responses > 0) {
            --o.drop_next_post_responses;
            a.drop = true;
        }
        return a;
    }

    template <class Stream>
    struct ws_session final : ws_session_base, std::enable_shared_from_this<ws_session<Stream>> {
        websocket::stream<Stream> ws;
        std::deque<std::pair<std::string, bool>> out;
        bool writing = false;
        bool closed = false;

        explicit ws_session(Stream&& s) : ws(std::move(s)) {}

        void send(std::string text, bool binary) override {
            if (closed) return;
            out.emplace_back(std::move(text), binary);
            if (writing) return;
            writing = true;
            auto self = this->shared_from_this();
            asio::co_spawn(
                ws.get_executor(),
                [self]() -> asio::awaitable<void> {
                    while (!self->out.empty() && !self->closed) {
                        auto [text, binary] = std::move(self->out.front());
                        self->out.pop_front();
                        self->ws.binary(binary);
                        auto [ec, n] = co_await self->ws.async_write(asio::buffer(text), use_tuple);
                        if (ec) break;
                    }
                    self->writing = false;
                },
                asio::detached);
        }

        bool frozen = false;

        void freeze() override {
            // Stop reading (so pings go unanswered) without closing the TCP connection.
            frozen = true;
            closed = true;
            beast::get_lowest_layer(ws).socket().cancel();
        }

        void drop() override {
            closed = true;
            boost::system::error_code ignored;
            beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
            beast::get_lowest_layer(ws).socket().close(ignored);
        }
    };

    template <class Stream>
    asio::awaitable<void> serve_ws(Stream stream, http::request<http::string_body> req) {
        auto self = shared_from_this();
        auto s = std::make_shared<ws_session<Stream>>(std::move(stream));
        beast::get_lowest_layer(s->ws).expires_never();
        auto [ec] = co_await s->ws.async_accept(req, use_tuple);
        if (ec || !owner) co_return;
        s->id = ++accepted;
        sockets.push_back(s);
        log.push_back("open " + std::to_string(s->id));
        note(log.back());
        if (owner->send_hello)
            s->send(
                R"({"type":"hello","num_connections":)" + std::to_string(sockets.size()) +
                    R"(,"connection_info":{"app_id":"A0PMBOT01"},"debug_info":{"host":"fake","approximate_connection_time":)" +
                    std::to_string(owner->approximate_connection_time) + "}}",
                false);
        beast::flat_buffer buf;
        for (;;) {
            auto [rec, n] = co_await s->ws.async_read(buf, use_tuple);
            if (rec) break;
            std::string text = beast::buffers_to_string(buf.data());
            buf.consume(buf.size());
            boost::system::error_code pec;
            auto v = json::parse(text, pec);
            if (!pec && v.is_object() && owner) {
                std::string id = sget(v.get_object(), "envelope_id");
                if (!id.empty()) {
                    owner->acks.push_back(id);
                    note("ack " + id);
                }
            }
        }
        s->closed = true;
        if (s->frozen) frozen.push_back(s);
        log.push_back("close " + std::to_string(s->id));
        note(log.back());
        std::erase(sockets, std::static_pointer_cast<ws_session_base>(s));
    }

    template <class Stream> asio::awaitable<void> serve_http(Stream stream) {
        auto self = shared_from_this();
        beast::flat_buffer buf;
        for (;;) {
            http::request_parser<http::string_body> p;
            p.body_limit(64u << 20);
            auto [ec, n] = co_await http::async_read(stream, buf, p, use_tuple);
            if (ec || !owner) co_return;
            auto req = p.release();
            if (websocket::is_upgrade(req)) {
                co_await serve_ws(std::move(stream), std::move(req));
                co_return;
            }
            answer a = handle(req);
            if (a.drop) {
                boost::system::error_code ignored;
                beast::get_lowest_layer(stream).socket().close(ignored);
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
            res.set(http::field::content_type, "application/json; charset=utf-8");
            for (auto& [k, v] : a.headers)
                res.set(k, v);
            res.body() = a.body;
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
            if (wec || !req.keep_alive()) co_return;
        }
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            if (ctx) {
                auto spawn = [self, s = std::move(sock)]() mutable -> asio::awaitable<void> {
                    beast::ssl_stream<beast::tcp_stream> tls(beast::tcp_stream(std::move(s)), *self->ctx);
                    auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, use_tuple);
                    if (hec) co_return;
                    co_await self->serve_http(std::move(tls));
                };
                asio::co_spawn(ex, std::move(spawn), asio::detached);
            } else {
                auto spawn = [self, s = std::move(sock)]() mutable -> asio::awaitable<void> {
                    co_await self->serve_http(beast::tcp_stream(std::move(s)));
                };
                asio::co_spawn(ex, std::move(spawn), asio::detached);
            }
        }
    }
};

fake_slack::fake_slack(asio::any_io_executor ex) : fake_slack(ex, options{}) {}

fake_slack::fake_slack(asio::any_io_executor ex, options opt) : impl_(std::make_shared<impl>(ex)) {
    impl_->owner = this;
    if (!opt.cert_file.empty()) {
        impl_->ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
        impl_->ctx->use_certificate_chain_file(opt.cert_file);
        impl_->ctx->use_private_key_file(opt.key_file, ssl::context::pem);
    }
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), opt.port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    asio::co_spawn(ex, impl_->accept_loop(), asio::detached);
}

fake_slack::~fake_slack() {
    impl_->owner = nullptr;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& s : impl_->sockets)
        s->drop();
}

unsigned short fake_slack::port() const {
    return impl_->acceptor.local_endpoint().port();
}
std::string fake_slack::api_url() const {
    return impl_->base(false) + "/api/";
}

void fake_slack::send_frame(std::string text, bool binary, int socket) {
    auto& v = impl_->sockets;
    if (v.empty()) return;
    if (socket < 0) {
        v.back()->send(std::move(text), binary);
        return;
    }
    for (auto& s : v)
        if (s->id == socket) s->send(std::move(text), binary);
}

void fake_slack::send_envelope(const json::object& env, int socket) {
    send_frame(json::serialize(env), false, socket);
}

void fake_slack::disconnect(const std::string& reason, int socket) {
    json::object o;
    o["type"] = "disconnect";
    o["reason"] = reason;
    o["debug_info"] = json::object{{"host", "fake"}};
    send_frame(json::serialize(o), false, socket);
}

void fake_slack::drop_sockets() {
    auto v = impl_->sockets;
    for (auto& s : v)
        s->drop();
}

void fake_slack::freeze_sockets() {
    auto v = impl_->sockets;
    for (auto& s : v)
        s->freeze();
}

int fake_slack::open_sockets() const {
    return static_cast<int>(impl_->sockets.size());
}
int fake_slack::sockets_accepted() const {
    return impl_->accepted;
}
const std::vector<std::string>& fake_slack::socket_log() const {
    return impl_->log;
}

json::object make_message_envelope(const std::string& envelope_id, const std::string& event_id,
                                   const std::string& channel, const std::string& user,
                                   const std::string& text, const std::string& ts,
                                   const std::string& thread_ts) {
    json::object ev;
    ev["type"] = "message";
    ev["channel"] = channel;
    ev["channel_type"] = channel.rfind("D", 0) == 0 ? "im" : "channel";
    ev["user"] = user;
    ev["text"] = text;
    ev["ts"] = ts;
    ev["event_ts"] = ts;
    if (!thread_ts.empty()) ev["thread_ts"] = thread_ts;
    json::object payload;
    payload["type"] = "event_callback";
    payload["team_id"] = "T0PMTEAM";
    payload["event"] = std::move(ev);
    payload["event_id"] = event_id;
    payload["event_time"] = 1767351180;
    json::object env;
    env["envelope_id"] = envelope_id;
    env["type"] = "events_api";
    env["accepts_response_payload"] = false;
    env["retry_attempt"] = 0;
    env["retry_reason"] = "";
    env["payload"] = std::move(payload);
    return env;
}

json::object make_edit_envelope(const std::string& envelope_id, const std::string& event_id,
                                const std::string& channel, const std::string& user,
                                const std::string& orig_ts, const std::string& text, const std::string& ts,
                                const std::string& thread_ts) {
    json::object msg;
    msg["type"] = "message";
    msg["user"] = user;
    msg["text"] = text;
    msg["ts"] = orig_ts;
    if (!thread_ts.empty()) msg["thread_ts"] = thread_ts;
    msg["edited"] = json::object{{"user", user}, {"ts", ts}};
    auto env = make_message_envelope(envelope_id, event_id, channel, user, text, ts);
    auto& ev = env["payload"].as_object()["event"].as_object();
    ev.erase("user");
    ev.erase("text");
    ev["subtype"] = "message_changed";
    ev["hidden"] = true;
    ev["message"] = std::move(msg);
    return env;
}

} // namespace pm::test

#include "fake_matrix.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <deque>
#include <set>

namespace pm::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string pct_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
    std::map<std::string, std::string> r;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        auto eq = part.find('=');
        if (eq != std::string_view::npos)
            r[pct_decode(part.substr(0, eq))] = pct_decode(part.substr(eq + 1));
        else
            r[pct_decode(part)] = "";
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return r;
}

// Path segments, each percent-decoded (room ids arrive as %21room%3Aexample.org).
std::vector<std::string> segments(std::string_view path) {
    std::vector<std::string> r;
    while (!path.empty()) {
        if (path[0] == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        r.push_back(pct_decode(path.substr(0, slash)));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return r;
}

struct reply {
    int status = 200;
    std::string body = "{}";
    std::vector<std::pair<std::string, std::string>> headers;
    bool drop = false;
};

reply error(int status, const std::string& code, const std::string& msg) {
    json::object o{{"errcode", code}, {"error", msg}};
    return {status, json::serialize(o)};
}

reply ok(const json::object& o) {
    return {200, json::serialize(o)};
}

} // namespace

json::object text_event(const std::string& event_id, const std::string& sender, const std::string& body,
                        std::int64_t ts) {
    return json::object{{"event_id", event_id},
                        {"type", "m.room.message"},
                        {"sender", sender},
                        {"origin_server_ts", ts},
                        {"content", json::object{{"msgtype", "m.text"}, {"body", body}}}};
}

struct fake_matrix::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    tcp::acceptor acceptor;
    fake_matrix* owner = nullptr;
    std::vector<json::object> batches;
    std::map<std::pair<std::string, std::string>, std::pair<json::array, std::string>> messages;
    std::deque<injected> injections;
    std::map<std::pair<std::string, std::string>, std::string> txn_results; // (room, txn) → event id
    bool expired = false;
    int next_event = 1;
    int next_room = 1;
    int next_upload = 1;
    std::set<std::shared_ptr<beast::tcp_stream>> conns;

    explicit impl(asio::any_io_executor e) : ex(e), acceptor(e) {
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor.open(ep.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
    }

    asio::awaitable<reply> handle(const http::request<http::string_body>& req) {
        auto& f = *owner;
        std::string target(req.target());
        auto qpos = target.find('?');
        std::string raw_path = target.substr(0, qpos);
        std::string query = qpos == std::string::npos ? "" : target.substr(qpos + 1);
        auto q = parse_query(query);
        auto seg = segments(raw_path);
        std::string path;
        for (auto& s : seg)
            path += "/" + s;
        std::string method(req.method_string());
        std::string auth(req[http::field::authorization]);
        std::string tok = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
        f.requests.push_back({method, path, query, tok});

        if (path.rfind("/_fake/", 0) == 0) co_return control(method, path, req.body());
        bool is_login = path == "/_matrix/client/v3/login";
        bool is_sync = path == "/_matrix/client/v3/sync";
        if (!is_login) {
            if (tok.empty()) co_return error(401, "M_MISSING_TOKEN", "Missing access token");
            if (expired || tok != f.token) {
                if (is_sync) ++f.syncs_after_expiry;
                json::object o{
                    {"errcode", "M_UNKNOWN_TOKEN"}, {"error", "Token expired"}, {"soft_logout", false}};
                co_return reply{401, json::serialize(o)};
            }
        }
        bool drop_after = false;
        for (auto it = injections.begin(); it != injections.end(); ++it) {
            if (it->method == method && path.find(it->path_contains) != std::string::npos &&
                req.body().find(it->body_contains) != std::string::npos) {
                auto inj = *it;
                if (--it->count <= 0) injections.erase(it);
                if (inj.process_then_drop) {
                    drop_after = true;
                    break;
                }
                co_return reply{inj.status, inj.body, inj.headers};
            }
        }
        auto r = co_await route(method, seg, q, req.body());
        r.drop = drop_after;
        co_return r;
    }

    asio::awaitable<reply> route(const std::string& method, const std::vector<std::string>& seg,
                                 std::map<std::string, std::string>& q, const std::string& body) {
        auto& f = *owner;
        boost::system::error_code ec;
        json::value in = json::parse(body.empty() ? "{}" : body, ec);
        bool media = seg.size() >= 3 && seg[0] == "_matrix" && seg[1] == "media";
        if (media && seg.size() == 4 && seg[3] == "upload" && method == "POST") {
            auto mxc = "mxc://example.org/up" + std::to_string(next_upload++);
            f.uploads[mxc] = body;
            co_return ok({{"content_uri", mxc}});
        }
        if (seg.size() < 4 || seg[0] != "_matrix" || seg[1] != "client" || seg[2] != "v3")
            co_return error(404, "M_UNRECOGNIZED", "Unrecognized request");
        std::vector<std::string> s(seg.begin() + 3, seg.end());
        if (ec && method != "GET") co_return error(400, "M_NOT_JSON", "Content not JSON");

        if (s[0] == "login" && method == "POST") {
            auto& o = in.as_object();
            auto* id = o.if_contains("identifier");
            std::string user = id && id->is_object() && id->as_object().contains("user")
                                   ? std::string(id->as_object().at("user").as_string())
                                   : "";
            if (!o.contains("password") || o.at("password") != json::value(f.password) ||
                (user != f.user_id && "@" + user + ":example.org" != f.user_id))
                co_return error(403, "M_FORBIDDEN", "Invalid username or password");
            ++f.logins;
            co_return ok({{"user_id", f.user_id}, {"access_token", f.token}, {"device_id", "POSTMORTEMBOT"}});
        }
        if (s[0] == "account" && s.size() == 2 && s[1] == "whoami")
            co_return ok({{"user_id", f.whoami_user.empty() ? f.user_id : f.whoami_user},
                          {"device_id", "POSTMORTEMBOT"}});
        if (s[0] == "user" && s.size() == 3 && s[2] == "filter" && method == "POST") {
            ++f.filters;
            co_return ok({{"filter_id", "f" + std::to_string(f.filters)}});
        }
        if (s[0] == "user" && s.size() == 4 && s[2] == "account_data" && s[3] == "m.direct") {
            if (method == "GET") {
                if (f.m_direct.empty()) co_return error(404, "M_NOT_FOUND", "Account data not found");
                co_return ok(f.m_direct);
            }
            f.m_direct = in.as_object();
            co_return ok({});
        }
        if (s[0] == "profile" && s.size() == 3) {
            auto it = f.display_names.find(s[1]);
            if (it == f.display_names.end()) co_return error(404, "M_NOT_FOUND", "Profile not found");
            co_return ok({{"displayname", it->second}});
        }
        if (s[0] == "sync") co_return co_await sync(q);
        if (s[0] == "join" && s.size() == 2 && method == "POST") {
            f.joins.emplace_back(s[1], q.count("via") ? q["via"] : "");
            co_return ok({{"room_id", s[1]}});
        }
        if (s[0] == "createRoom" && method == "POST") {
            f.created_rooms.push_back(in.as_object());
            co_return ok({{"room_id", "!dm" + std::to_string(next_room++) + ":example.org"}});
        }
        if (s[0] == "rooms" && s.size() == 5 && s[2] == "send" && method == "PUT") {
            const auto& room = s[1];
            f.send_txns.push_back(s[4]);
            auto key = std::make_pair(room, s[4]);
            // A retransmission with the same txnId: the original answer, no new event.
            if (auto it = txn_results.find(key); it != txn_results.end())
                co_return ok({{"event_id", it->second}});
            auto id = "$ev" + std::to_string(next_event++);
            txn_results[key] = id;
            f.events.push_back({room, s[3], s[4], id, in.as_object()});
            co_return ok({{"event_id", id}});
        }
        if (s[0] == "rooms" && s.size() == 3 && s[2] == "messages" && method == "GET") {
            auto it = messages.find({s[1], q["from"]});
            if (it == messages.end()) co_return ok({{"chunk", json::array{}}, {"start", q["from"]}});
            json::object o{{"chunk", it->second.first}, {"start", q["from"]}};
            if (!it->second.second.empty()) o["end"] = it->second.second;
            co_return ok(o);
        }
        co_return error(404, "M_UNRECOGNIZED", "Unrecognized request");
    }

    // The control API of the standalone program (end-to-end scripts), under /_fake/.
    reply control(const std::string& method, const std::string& path, const std::string& body) {
        auto& f = *owner;
        boost::system::error_code ec;
        json::value in = json::parse(body.empty() ? "{}" : body, ec);
        if (ec || !in.is_object()) return error(400, "M_NOT_JSON", "control body must be a JSON object");
        auto& o = in.as_object();
        auto str = [&](const char* k) {
            auto* v = o.if_contains(k);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        if (method == "POST" && path == "/_fake/sync") return ok({{"next_batch", f.queue_batch(o)}});
        if (method == "POST" && path == "/_fake/initial") {
            f.initial = o;
            return ok({});
        }
        if (method == "POST" && path == "/_fake/invite") {
            auto* d = o.if_contains("is_direct");
            return ok({{"next_batch",
                        f.queue_invite(str("room"), str("inviter"), d && d->is_bool() && d->as_bool())}});
        }
        if (method == "POST" && path == "/_fake/messages") {
            auto* c = o.if_contains("chunk");
            f.set_messages(str("room"), str("from"), c && c->is_array() ? c->as_array() : json::array{},
                           str("end"));
            return ok({});
        }
        if (method == "POST" && path == "/_fake/names") {
            for (auto& [k, v] : o)
                if (v.is_string()) f.display_names[std::string(k)] = std::string(v.as_string());
            return ok({});
        }
        if (method == "POST" && path == "/_fake/inject") {
            injected i;
            i.method = str("method");
            i.path_contains = str("path_contains");
            i.body_contains = str("body_contains");
            if (auto* v = o.if_contains("count"); v && v->is_int64())
                i.count = static_cast<int>(v->as_int64());
            if (auto* v = o.if_contains("status"); v && v->is_int64())
                i.status = static_cast<int>(v->as_int64());
            if (auto* v = o.if_contains("body"); v && v->is_string()) i.body = std::string(v->as_string());
            if (auto* v = o.if_contains("process_then_drop"); v && v->is_bool())
                i.process_then_drop = v->as_bool();
            if (auto* v = o.if_contains("headers"); v && v->is_object())
                for (auto& [k, hv] : v->as_object())
                    if (hv.is_string()) i.headers.emplace_back(std::string(k), std::string(hv.as_string()));
            f.inject(std::move(i));
            return ok({});
        }
        if (method == "POST" && path == "/_fake/clear_injections") {
            f.clear_injections();
            return ok({});
        }
        if (method == "POST" && path == "/_fake/expire_token") {
            f.expire_token();
            return ok({});
        }
        if (method == "GET" && path == "/_fake/state") {
            json::array evs;
            for (auto& e : f.events)
                evs.push_back(json::object{{"room", e.room},
                                           {"type", e.type},
                                           {"txn", e.txn},
                                           {"event_id", e.event_id},
                                           {"content", e.content}});
            json::array txns(f.send_txns.begin(), f.send_txns.end());
            json::array joins;
            for (auto& [r, via] : f.joins)
                joins.push_back(json::object{{"room", r}, {"via", via}});
            json::array created(f.created_rooms.begin(), f.created_rooms.end());
            json::array sinces(f.sync_sinces.begin(), f.sync_sinces.end());
            return ok({{"events", evs},
                       {"send_txns", txns},
                       {"joins", joins},
                       {"created_rooms", created},
                       {"sync_sinces", sinces},
                       {"m_direct", f.m_direct},
                       {"logins", f.logins},
                       {"syncs_after_expiry", f.syncs_after_expiry}});
        }
        return error(404, "M_UNRECOGNIZED", "unknown control request");
    }

    asio::awaitable<reply> sync(std::map<std::string, std::string>& q) {
        auto& f = *owner;
        std::string since = q.count("since") ? q["since"] : "";
        f.sync_sinces.push_back(since);
        if (since.empty()) {
            json::object o = f.initial;
            o["next_batch"] = "s0";
            co_return ok(o);
        }
        std::size_t n = 0;
        if (since.size() < 2 || since[0] != 's') co_return error(400, "M_INVALID_PARAM", "bad since");
        n = std::stoul(since.substr(1));
        if (n >= batches.size()) {
            // Nothing new: hold briefly (a real server holds up to `timeout`).
            asio::steady_timer t(ex, f.hold);
            co_await t.async_wait(use_tuple);
            if (n >= batches.size()) co_return ok({{"next_batch", since}});
        }
        json::object o = batches[n];
        o["next_batch"] = "s" + std::to_string(n + 1);
        co_return ok(o);
    }

    asio::awaitable<void> session(tcp::socket sock) {
        auto self = shared_from_this();
        auto stream = std::make_shared<beast::tcp_stream>(std::move(sock));
        conns.insert(stream);
        beast::flat_buffer buf;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(*stream, buf, req, use_tuple);
            if (ec || !owner) break;
            auto r = co_await handle(req);
            if (!owner) break;
            if (r.drop) {
                // The work is done, the answer is lost: the client cannot know the outcome.
                stream->socket().close();
                break;
            }
            http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
            res.set(http::field::content_type, "application/json");
            for (auto& [k, v] : r.headers)
                res.set(k, v);
            res.keep_alive(req.keep_alive());
            res.body() = std::move(r.body);
            res.prepare_payload();
            auto [wec, wn] = co_await http::async_write(*stream, res, use_tuple);
            if (wec || !req.keep_alive()) break;
        }
        conns.erase(stream);
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec || !owner) co_return;
            asio::co_spawn(ex, self->session(std::move(sock)), asio::detached);
        }
    }
};

fake_matrix::fake_matrix(asio::any_io_executor ex) : impl_(std::make_shared<impl>(ex)) {
    impl_->owner = this;
    asio::co_spawn(ex, impl_->accept_loop(), asio::detached);
}

fake_matrix::~fake_matrix() {
    impl_->owner = nullptr;
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& c : impl_->conns)
        c->socket().close(ec);
}

unsigned short fake_matrix::port() const {
    return impl_->acceptor.local_endpoint().port();
}

std::string fake_matrix::base_url() const {
    return "http://127.0.0.1:" + std::to_string(port());
}

std::string fake_matrix::queue_batch(json::object body) {
    impl_->batches.push_back(std::move(body));
    return "s" + std::to_string(impl_->batches.size());
}

std::string fake_matrix::queue_timeline(const std::string& room, json::array events, bool limited,
                                        const std::string& prev_batch) {
    json::object tl{{"events", std::move(events)}, {"limited", limited}};
    if (!prev_batch.empty()) tl["prev_batch"] = prev_batch;
    json::object join;
    join[room] = json::object{{"timeline", std::move(tl)}};
    return queue_batch(json::object{{"rooms", json::object{{"join", std::move(join)}}}});
}

std::string fake_matrix::queue_invite(const std::string& room, const std::string& inviter, bool is_direct) {
    json::array st{
        json::object{{"type", "m.room.member"},
                     {"state_key", user_id},
                     {"sender", inviter},
                     {"content", json::object{{"membership", "invite"}, {"is_direct", is_direct}}}}};
    json::object inv;
    inv[room] = json::object{{"invite_state", json::object{{"events", std::move(st)}}}};
    return queue_batch(json::object{{"rooms", json::object{{"invite", std::move(inv)}}}});
}

void fake_matrix::set_messages(const std::string& room, const std::string& from, json::array chunk,
                               const std::string& end) {
    impl_->messages[{room, from}] = {std::move(chunk), end};
}

void fake_matrix::inject(injected i) {
    impl_->injections.push_back(std::move(i));
}

void fake_matrix::clear_injections() {
    impl_->injections.clear();
}

void fake_matrix::expire_token() {
    impl_->expired = true;
}

std::vector<fake_matrix::sent_event> fake_matrix::events_in(const std::string& room) const {
    std::vector<sent_event> r;
    for (const auto& e : events)
        if (e.room == room) r.push_back(e);
    return r;
}

int fake_matrix::count(const std::string& method, const std::string& path_contains) const {
    int n = 0;
    for (const auto& r : requests)
        if (r.method == method && r.path.find(path_contains) != std::string::npos) ++n;
    return n;
}

} // namespace pm::test

#include "adapters/net/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <sys/socket.h>

#include "adapters/net/redact.hpp"
#include "adapters/net/tls_detail.hpp"
#include "adapters/net/url.hpp"

namespace pm::adapters::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

struct connection {
    std::string key;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buf;

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

using request_t = http::request<http::string_body>;
using response_t = http::response<http::string_body>;

struct exchange_result {
    error_code ec;
    bool sent = false;
    bool got_bytes = false;
    response_t resp;
};

template <class Stream>
asio::awaitable<exchange_result> exchange(Stream& s, connection& c, request_t& req,
                                          std::chrono::milliseconds timeout, std::size_t max_body) {
    exchange_result r;
    c.lowest().expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(s, req, use_tuple);
    if (wec) {
        r.ec = wec;
        co_return r;
    }
    r.sent = true;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    parser.header_limit(64 * 1024);
    auto [rec, rn] = co_await http::async_read(s, c.buf, parser, use_tuple);
    r.got_bytes = rn > 0 || parser.got_some();
    if (rec) {
        r.ec = rec;
        co_return r;
    }
    c.lowest().expires_never();
    r.resp = parser.release();
    co_return r;
}

} // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

namespace {

// An IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT", RFC 9110), the other form of Retry-After.
std::optional<std::chrono::sys_seconds> parse_http_date(const std::string& v) {
    char wd[4] = {}, mon[4] = {}, zone[4] = {};
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
    if (std::sscanf(v.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", wd, &d, mon, &y, &hh, &mm, &ss, zone) != 8)
        return std::nullopt;
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    unsigned m = 0;
    for (unsigned i = 0; i < 12; ++i)
        if (std::string_view(mon) == months[i]) m = i + 1;
    if (m == 0 || std::string_view(zone) != "GMT" || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                    std::chrono::day(unsigned(d))};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
           std::chrono::seconds(ss);
}

} // namespace

std::optional<std::chrono::milliseconds> http_response::retry_after() const {
    auto v = header("Retry-After");
    if (!v) return std::nullopt;
    try {
        std::size_t pos = 0;
        double secs = std::stod(*v, &pos);
        // Written so that NaN ("nan" parses) is refused too: it compares false both ways.
        if (pos == 0 || !(secs >= 0 && secs <= 24 * 3600)) return std::nullopt;
        return std::chrono::milliseconds(static_cast<long long>(secs * 1000));
    } catch (const std::exception&) {
    }
    // Not delta-seconds: an HTTP date (Matrix servers may send either form).
    auto when = parse_http_date(*v);
    if (!when) return std::nullopt;
    // In milliseconds before subtracting: a date centuries away overflows the clock's nanoseconds.
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (*when > now + std::chrono::hours(24)) return std::nullopt;
    if (*when <= now) return std::chrono::milliseconds(0);
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
    return std::max(d, std::chrono::milliseconds(0));
}

struct http_client::impl {
    asio::any_io_executor ex;
    options opt;
    std::shared_ptr<ssl::context> ctx;
    std::map<std::string, std::vector<std::unique_ptr<connection>>> idle;

    // A pooled connection, skipping those the server has closed (or sent something on) while
    // idle: a readable socket with no request outstanding is not usable.
    std::unique_ptr<connection> take_idle(const std::string& key) {
        auto it = idle.find(key);
        while (it != idle.end() && !it->second.empty()) {
            auto c = std::move(it->second.back());
            it->second.pop_back();
            char b;
            auto n = ::recv(c->lowest().socket().native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c;
        }
        return nullptr;
    }

    void give_back(std::unique_ptr<connection> c) {
        auto& v = idle[c->key];
        if (v.size() < opt.max_idle_per_host) v.push_back(std::move(c));
    }

    asio::awaitable<std::unique_ptr<connection>> connect(const endpoint& ep, http_result& r) {
        // Resolve, bounded by a timer that cancels the resolver.
        auto resolver = std::make_shared<tcp::resolver>(ex);
        asio::steady_timer guard(ex);
        guard.expires_after(opt.connect_timeout);
        guard.async_wait([resolver](error_code ec) {
            if (!ec) resolver->cancel();
        });
        auto [rec, results] = co_await resolver->async_resolve(ep.host, ep.port, use_tuple);
        guard.cancel();
        if (rec) {
            r.ec = rec;
            r.error = "cannot resolve " + ep.host + ": " +
                      (rec == asio::error::operation_aborted ? std::string("timed out") : rec.message());
            co_return nullptr;
        }
        auto c = std::make_unique<connection>();
        c->key = (ep.tls ? "https://" : "http://") + ep.authority();
        if (ep.tls) {
            if (!ctx) {
                // The system store is loaded on first use: plain http:// (loopback) needs no TLS.
                try {
                    ctx = detail::make_client_context(opt.tls);
                } catch (const std::exception& e) {
                    r.ec = asio::error::no_protocol_option;
                    r.error = e.what();
                    co_return nullptr;
                }
            }
            c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *ctx);
        } else {
            c->plain = std::make_unique<beast::tcp_stream>(ex);
        }
        c->lowest().expires_after(opt.connect_timeout);
        auto [cec, cep] = co_await c->lowest().async_connect(results, use_tuple);
        if (cec) {
            r.ec = cec;
            r.error = "cannot connect to " + ep.authority() + ": " +
                      (cec == beast::error::timeout ? std::string("timed out") : cec.message());
            co_return nullptr;
        }
        // Requests are written whole; Nagle would hold the next one back for the peer's ACK.
        error_code ignored;
        c->lowest().socket().set_option(tcp::no_delay(true), ignored);
        if (ep.tls) {
            if (!detail::set_peer_host(c->secure->native_handle(), ep.host, ep.host_is_ip)) {
                r.ec = asio::error::invalid_argument;
                r.error = "cannot set TLS host name check for " + ep.host;
                co_return nullptr;
            }
            auto [hec] = co_await c->secure->async_handshake(ssl::stream_base::client, use_tuple);
            if (hec) {
                r.ec = hec;
                r.error = "TLS handshake with " + ep.authority() +
                          " failed: " + detail::handshake_error(c->secure->native_handle(), hec.message());
                co_return nullptr;
            }
        }
        c->lowest().expires_never();
        co_return c;
    }
};

http_client::http_client(asio::any_io_executor ex, options opt) : impl_(std::make_shared<impl>()) {
    impl_->ex = std::move(ex);
    impl_->opt = std::move(opt);
    // A CA file is checked now (a bad one is a start-up error); the system store waits for the
    // first https:// request.
    if (!impl_->opt.tls.ca_file.empty()) impl_->ctx = detail::make_client_context(impl_->opt.tls);
}

http_client::~http_client() = default;

void http_client::close_idle() {
    impl_->idle.clear();
}

asio::awaitable<http_result> http_client::request(http_request req) {
    auto self = impl_; // keeps the pool alive while this request runs
    http_result r;
    auto parsed = parse_endpoint(req.url);
    if (!parsed || parsed.ep.websocket) {
        r.ec = asio::error::invalid_argument;
        r.error = parsed ? "not an http(s) URL" : parsed.error;
        co_return r;
    }
    const endpoint& ep = parsed.ep;

    request_t msg;
    msg.method(http::string_to_verb(req.method));
    if (msg.method() == http::verb::unknown) {
        r.ec = asio::error::invalid_argument;
        r.error = "unknown HTTP method " + req.method;
        co_return r;
    }
    msg.target(ep.target);
    msg.version(11);
    bool default_port = ep.port == (ep.tls ? "443" : "80");
    msg.set(http::field::host, default_port
                                   ? (ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host)
                                   : ep.authority());
    msg.set(http::field::user_agent, self->opt.user_agent);
    const auto verb = msg.method();
    const bool idempotent = req.idempotent || verb == http::verb::get || verb == http::verb::head ||
                            verb == http::verb::put || verb == http::verb::delete_ ||
                            verb == http::verb::options;
    for (const auto& [k, v] : req.headers)
        msg.set(k, v);
    if (!req.content_type.empty()) msg.set(http::field::content_type, req.content_type);
    msg.body() = std::move(req.body);
    msg.keep_alive(true);
    msg.prepare_payload();

    std::string key = (ep.tls ? "https://" : "http://") + ep.authority();
    const auto timeout = req.timeout.count() > 0 ? req.timeout : self->opt.request_timeout;
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto c = self->take_idle(key);
        bool reused = c != nullptr;
        if (!c) {
            c = co_await self->connect(ep, r);
            if (!c) co_return r;
        }
        exchange_result x;
        if (c->secure)
            x = co_await exchange(*c->secure, *c, msg, timeout, self->opt.max_response_body);
        else
            x = co_await exchange(*c->plain, *c, msg, timeout, self->opt.max_response_body);
        if (!x.ec) {
            r.response.status = static_cast<int>(x.resp.result_int());
            for (const auto& f : x.resp)
                r.response.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
            bool keep = x.resp.keep_alive();
            r.response.body = std::move(x.resp.body());
            if (keep) self->give_back(std::move(c));
            co_return r;
        }
        // A pooled connection the server had already closed fails at once without a byte of
        // response: one retry on a fresh connection. Only when the request never went out or is
        // safe to repeat: a server may also act on a request and close without answering.
        bool stale = reused && !x.got_bytes && (!x.sent || idempotent) &&
                     (x.ec == http::error::end_of_stream || x.ec == asio::error::eof ||
                      x.ec == asio::error::connection_reset || x.ec == asio::error::broken_pipe);
        if (stale) continue;
        r.ec = x.ec;
        r.request_sent = x.sent;
        if (x.ec == beast::error::timeout)
            r.error = "request to " + ep.authority() + " timed out";
        else if (x.ec == http::error::body_limit)
            r.error = "response from " + ep.authority() + " is larger than the limit";
        else
            r.error = "request to " + ep.authority() + " failed: " + redact(x.ec.message());
        co_return r;
    }
    co_return r;
}

} // namespace pm::adapters::net

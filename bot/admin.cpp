#include "bot/admin.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

namespace pm::bot {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

asio::awaitable<void> serve(beast::tcp_stream stream, std::shared_ptr<admin_handlers> h) {
    beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(8 * 1024);
        parser.body_limit(0);
        stream.expires_after(5s); // a slow or silent client cannot hold the connection
        auto [ec, n] = co_await http::async_read(stream, buf, parser, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        const auto& req = parser.get();
        http::response<http::string_body> res;
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        res.set(http::field::server, "postmortem-bot");
        const auto target = std::string(req.target().substr(0, req.target().find('?')));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            res.result(http::status::method_not_allowed);
            res.set(http::field::allow, "GET, HEAD");
            res.body() = "only GET\n";
        } else if (target == "/healthz") {
            res.result(http::status::ok);
            res.set(http::field::content_type, "text/plain");
            res.body() = "ok\n";
        } else if (target == "/readyz") {
            std::string why;
            const bool ok = h->ready(why);
            res.result(ok ? http::status::ok : http::status::service_unavailable);
            res.set(http::field::content_type, "application/json");
            res.body() = boost::json::serialize(boost::json::object{{"ready", ok}, {"reason", why}}) + "\n";
        } else if (target == "/metrics") {
            res.result(http::status::ok);
            res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res.body() = h->metrics();
        } else {
            res.result(http::status::not_found);
            res.set(http::field::content_type, "text/plain");
            res.body() = "not found: try /healthz, /readyz or /metrics\n";
        }
        res.prepare_payload();
        if (req.method() == http::verb::head) res.body().clear();
        stream.expires_after(5s);
        auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        if (wec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<admin_handlers> h) {
    for (;;) {
        auto [ec, sock] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {
            spdlog::warn("admin: accept failed: {}", ec.message());
            asio::steady_timer t(acceptor->get_executor(), 100ms);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        asio::co_spawn(acceptor->get_executor(), serve(beast::tcp_stream(std::move(sock)), h),
                       asio::detached);
    }
}

} // namespace

std::string start_admin(asio::io_context& io, const std::string& listen, admin_handlers handlers) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("admin.listen `" + listen + "` needs host:port");
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned long port = 0;
    try {
        std::size_t used = 0;
        port = std::stoul(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1 || port > 65535) throw std::invalid_argument("port");
    } catch (const std::exception&) {
        throw std::runtime_error("admin.listen `" + listen + "` has no valid port");
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error("admin.listen `" + listen + "`: `" + host + "` is not an IP address");
    auto acceptor = std::make_shared<tcp::acceptor>(io);
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("admin: cannot listen on " + listen + ": " + ec.message());
    const auto bound = acceptor->local_endpoint();
    asio::co_spawn(io, accept_loop(acceptor, std::make_shared<admin_handlers>(std::move(handlers))),
                   asio::detached);
    return bound.address().to_string() + ":" + std::to_string(bound.port());
}

} // namespace pm::bot

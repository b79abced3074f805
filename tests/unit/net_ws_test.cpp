// The WebSocket client against a plain Beast server on 127.0.0.1: liveness by pings on a fixed
// interval (a quiet but live peer stays connected, a peer that stops answering is dropped), and
// writes from many coroutines at once arriving whole and in order.
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/net/ws_client.hpp"
#include "loopback_support.hpp"

using namespace pm;
using namespace pm::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = pm::adapters::net;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One connection. With `reading` set it reads (and so answers pings) and records text messages;
// with it unset from the start it reads nothing and answers nothing, like a peer behind a dead
// NAT entry.
struct ws_server {
    tcp::acceptor acc;
    std::shared_ptr<websocket::stream<beast::tcp_stream>> ws;
    bool reading = true;
    std::vector<std::string> received;
    std::set<std::string> ping_payloads;

    explicit ws_server(asio::io_context& io)
        : acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

    std::string url() const { return "ws://127.0.0.1:" + std::to_string(acc.local_endpoint().port()) + "/"; }

    asio::awaitable<void> serve() {
        auto [ec, sock] = co_await acc.async_accept(use_tuple);
        if (ec) co_return;
        ws = std::make_shared<websocket::stream<beast::tcp_stream>>(std::move(sock));
        ws->control_callback([this](websocket::frame_type k, beast::string_view payload) {
            if (k == websocket::frame_type::ping) ping_payloads.insert(std::string(payload));
        });
        auto [aec] = co_await ws->async_accept(use_tuple);
        if (aec) co_return;
        auto keep = ws;
        beast::flat_buffer buf;
        for (;;) {
            while (!reading)
                co_await sleep_for(10ms);
            auto [rec, n] = co_await keep->async_read(buf, use_tuple);
            if (rec) co_return;
            received.push_back(beast::buffers_to_string(buf.data()));
            buf.consume(buf.size());
        }
    }

    asio::awaitable<void> send(std::string text) { co_await ws->async_write(asio::buffer(text), use_tuple); }
};

net::ws_client::options quick() {
    net::ws_client::options o;
    o.ping_interval = 50ms;
    o.pong_timeout = 200ms;
    o.idle_timeout = 300ms;
    return o;
}

// Starts the server and connects a client with quick() timings to it.
asio::awaitable<std::shared_ptr<net::ws_client>> connect_to(ws_server& srv) {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, srv.serve(), asio::detached);
    auto ws = std::make_shared<net::ws_client>(ex, quick());
    auto c = co_await ws->connect(srv.url());
    REQUIRE_FALSE(c.ec);
    co_return ws;
}

} // namespace

TEST_CASE("ws: a quiet peer that answers pings stays connected, pings carry their own payloads") {
    asio::io_context io;
    ws_server srv(io);
    run_test(io, [&]() -> asio::awaitable<void> {
        auto ws = co_await connect_to(srv);
        // A read waits, as the adapters' readers always do (pongs are seen while reading), for
        // longer than idle_timeout with no message from the server: its pongs keep it alive.
        net::ws_client::result r;
        bool got = false;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                r = co_await ws->read();
                got = true;
            },
            asio::detached);
        co_await sleep_for(900ms);
        CHECK_FALSE(got);
        CHECK(srv.ping_payloads.size() >= 3);
        co_await srv.send("still here");
        REQUIRE(co_await eventually([&] { return got; }));
        REQUIRE_FALSE(r.ec);
        CHECK(r.msg.data == "still here");
        co_await ws->close();
    });
}

TEST_CASE("ws: a peer that stops answering is found dead by the pong timeout") {
    asio::io_context io;
    ws_server srv(io);
    srv.reading = false; // accepts the upgrade, then reads nothing: no pong ever comes back
    run_test(io, [&]() -> asio::awaitable<void> {
        auto ws = co_await connect_to(srv);
        auto r = co_await ws->read();
        REQUIRE(r.ec);
        CHECK(r.error == "no pong within 200 ms (dead socket)");
        CHECK_FALSE(ws->is_open());
    });
}

TEST_CASE("ws: writes from many coroutines at once arrive whole and in the order they were made") {
    asio::io_context io;
    ws_server srv(io);
    run_test(io, [&]() -> asio::awaitable<void> {
        auto ws = co_await connect_to(srv);
        int ok = 0;
        std::vector<std::string> sent;
        for (int i = 0; i < 300; ++i) {
            // Sizes from a few bytes to past one TCP segment, so frames straddle segments.
            std::string text = "{\"envelope_id\":\"" + std::to_string(i) + "\",\"pad\":\"" +
                               std::string(static_cast<std::size_t>(i * 37 % 3000), 'x') + "\"}";
            sent.push_back(text);
            asio::co_spawn(
                io,
                [ws, text, &ok]() -> asio::awaitable<void> {
                    auto ec = co_await ws->write(text);
                    if (!ec) ++ok;
                },
                asio::detached);
        }
        REQUIRE(co_await eventually([&] { return srv.received.size() == sent.size(); }));
        CHECK(ok == 300);
        CHECK(srv.received == sent);
        co_await ws->close();
    });
}

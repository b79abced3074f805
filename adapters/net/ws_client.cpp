#include "adapters/net/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <vector>

#include "adapters/net/redact.hpp"
#include "adapters/net/tls_detail.hpp"
#include "adapters/net/url.hpp"

namespace pm::adapters::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// The two stream kinds behind one interface, so the rest of the client is written once.
struct ws_base {
    // Liveness, kept by the reads and read by the client's watchdog.
    std::uint64_t inbound = 0; // messages and control frames received
    std::string awaited_pong;  // the payload of the ping not answered yet
    std::string dead;          // why the watchdog dropped the connection

    virtual ~ws_base() = default;
    virtual asio::awaitable<ws_client::result> handshake(const endpoint& ep, const ws_client::options& o,
                                                         const tcp::resolver::results_type& addrs) = 0;
    virtual asio::awaitable<ws_client::result> read(const ws_client::options& o) = 0;
    // Text messages, each whole and in order; more than one go out corked, in as few segments
    // as fit.
    virtual asio::awaitable<error_code> write_all(const std::vector<std::string>& texts) = 0;
    virtual asio::awaitable<error_code> ping(const std::string& payload) = 0;
    virtual asio::awaitable<void> close(const ws_client::options& o) = 0;
    virtual void abort() = 0;
    virtual bool is_open() const = 0;
};

template <class Ws> struct ws_impl final : ws_base {
    Ws ws;
    beast::flat_buffer buf;

    template <class... Args> explicit ws_impl(Args&&... args) : ws(std::forward<Args>(args)...) {}

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(ws); }

    asio::awaitable<ws_client::result> handshake(const endpoint& ep, const ws_client::options& o,
                                                 const tcp::resolver::results_type& addrs) override {
        ws_client::result r;
        lowest().expires_after(o.connect_timeout);
        auto [cec, cep] = co_await lowest().async_connect(addrs, use_tuple);
        if (cec) {
            r.ec = cec;
            r.error = "cannot connect to " + ep.authority() + ": " +
                      (cec == beast::error::timeout ? std::string("timed out") : cec.message());
            co_return r;
        }
        // Frames are written whole; Nagle would hold a small one (an ack) back for the peer's
        // delayed ACK, up to 40 ms.
        error_code ignored;
        lowest().socket().set_option(tcp::no_delay(true), ignored);
        if constexpr (std::is_same_v<typename Ws::next_layer_type, beast::ssl_stream<beast::tcp_stream>>) {
            auto& tls = ws.next_layer();
            if (!detail::set_peer_host(tls.native_handle(), ep.host, ep.host_is_ip)) {
                r.ec = asio::error::invalid_argument;
                r.error = "cannot set TLS host name check for " + ep.host;
                co_return r;
            }
            auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
            if (hec) {
                r.ec = hec;
                r.error = "TLS handshake with " + ep.authority() +
                          " failed: " + detail::handshake_error(tls.native_handle(), hec.message());
                co_return r;
            }
        }
        // From here the websocket's handshake timeout governs the upgrade; liveness is the
        // client's watchdog (Beast's idle timeout would re-arm a timer on every read).
        lowest().expires_never();
        websocket::stream_base::timeout t{};
        t.handshake_timeout = o.connect_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws.set_option(t);
        ws.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
            ++inbound;
            if (kind == websocket::frame_type::pong && payload == awaited_pong) awaited_pong.clear();
        });
        ws.set_option(websocket::stream_base::decorator([ua = o.user_agent](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, ua);
        }));
        ws.read_message_max(o.hard_max_message);
        bool default_port = ep.port == (ep.tls ? "443" : "80");
        // Locals, not temporaries, in co_await expressions: GCC 12 destroys such temporaries wrongly.
        std::string host = default_port ? ep.host : ep.authority();
        auto [wec] = co_await ws.async_handshake(host, ep.target, use_tuple);
        if (wec) {
            r.ec = wec;
            r.error = "WebSocket upgrade with " + ep.authority() + " failed: " + wec.message();
            co_return r;
        }
        co_return r;
    }

    asio::awaitable<ws_client::result> read(const ws_client::options& o) override {
        ws_client::result r;
        // Frame by frame, so an oversized message can be skipped without failing the socket.
        do {
            auto [ec, n] = co_await ws.async_read_some(buf, 64 * 1024, use_tuple);
            if (ec) {
                r.ec = ec;
                if (!dead.empty())
                    r.error = dead + " (dead socket)";
                else if (ec == websocket::error::closed)
                    r.error = "closed by peer (" + std::to_string(ws.reason().code) + " " +
                              std::string(ws.reason().reason.c_str()) + ")";
                else
                    r.error = ec.message();
                co_return r;
            }
            ++inbound;
            r.msg.size += n;
            if (!r.msg.oversized) {
                if (r.msg.data.size() + buf.size() > o.max_message) {
                    r.msg.oversized = true;
                    r.msg.data.clear();
                    r.msg.data.shrink_to_fit();
                } else {
                    r.msg.data += beast::buffers_to_string(buf.data());
                }
            }
            buf.consume(buf.size());
        } while (!ws.is_message_done());
        r.msg.binary = ws.got_binary();
        co_return r;
    }

    asio::awaitable<error_code> write_all(const std::vector<std::string>& texts) override {
        const bool cork = texts.size() > 1;
        if (cork) set_cork(true);
        error_code ec;
        ws.text(true);
        for (const auto& text : texts) {
            auto [wec, n] = co_await ws.async_write(asio::buffer(text), use_tuple);
            if (wec) {
                ec = wec;
                break;
            }
        }
        if (cork) set_cork(false); // sends what is held, at once
        co_return ec;
    }

    asio::awaitable<error_code> ping(const std::string& payload) override {
        websocket::ping_data data;
        data.assign(payload.data(), std::min(payload.size(), data.max_size()));
        auto [ec] = co_await ws.async_ping(data, use_tuple);
        co_return ec;
    }

    void set_cork(bool on) {
        const int v = on ? 1 : 0;
        (void)::setsockopt(lowest().socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
    }

    asio::awaitable<void> close(const ws_client::options& o) override {
        if (!ws.is_open()) {
            abort();
            co_return;
        }
        // The close handshake is bounded by handshake_timeout; some servers keep the TCP open
        // after it, so whatever happens the connection is dropped afterwards.
        websocket::stream_base::timeout t{};
        t.handshake_timeout = o.close_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws.set_option(t);
        auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
        (void)ec;
        abort();
    }

    void abort() override {
        error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }

    bool is_open() const override { return ws.is_open(); }
};

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

} // namespace

// Messages waiting for the writer, and those who wait for them to be written.
struct queued_writes {
    explicit queued_writes(const asio::any_io_executor& ex)
        : done(ex, asio::steady_timer::time_point::max()) {}
    std::vector<std::string> texts;
    error_code ec;
    asio::steady_timer done; // never expires; cancelled once the texts are written
};

struct ws_client::impl {
    asio::any_io_executor ex;
    options opt;
    std::shared_ptr<ssl::context> ctx;
    std::unique_ptr<ws_base> ws;
    bool aborted = false; // abort() before the stream existed: connect() gives up
    // An async mutex: holding the one slot = owning the write side (writes, pings, the close).
    asio::experimental::channel<void(error_code)> write_lock;
    bool writing = false;                  // a write() is writing the queue out
    std::shared_ptr<queued_writes> queued; // what the writer takes next
    asio::steady_timer watch_timer;

    impl(asio::any_io_executor e, options o) : ex(e), opt(std::move(o)), write_lock(e, 1), watch_timer(e) {
        // A CA file is checked now (a bad one is a start-up error); the system store waits for
        // the first wss:// connection, so ws:// (loopback) sets up no TLS at all.
        if (!opt.tls.ca_file.empty()) ctx = detail::make_client_context(opt.tls);
    }

    // Pings every ping_interval and drops the connection when a ping stays unanswered for
    // pong_timeout or nothing arrives for idle_timeout. One timer per interval, whatever the
    // traffic.
    static asio::awaitable<void> watch(std::shared_ptr<impl> self, ws_base* ws) {
        using clock = std::chrono::steady_clock;
        const auto& o = self->opt;
        std::uint64_t seen = ws->inbound, pings = 0;
        auto last_inbound = clock::now(), ping_sent = clock::now();
        for (;;) {
            self->watch_timer.expires_after(o.ping_interval);
            auto [ec] = co_await self->watch_timer.async_wait(use_tuple);
            if (ec || self->ws.get() != ws || !ws->is_open()) co_return;
            const auto now = clock::now();
            if (ws->inbound != seen) {
                seen = ws->inbound;
                last_inbound = now;
            }
            const auto ms = [](clock::duration d) {
                return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
            };
            if (!ws->awaited_pong.empty() && now - ping_sent >= o.pong_timeout) {
                ws->dead = "no pong within " + ms(o.pong_timeout) + " ms";
            } else if (now - last_inbound >= o.idle_timeout) {
                ws->dead = "nothing received for " + ms(o.idle_timeout) + " ms";
            }
            if (!ws->dead.empty()) {
                ws->abort();
                co_return;
            }
            if (!ws->awaited_pong.empty()) continue; // one ping in flight at a time
            auto [lec] = co_await self->write_lock.async_send(error_code{}, use_tuple);
            if (lec) co_return;
            if (self->ws.get() == ws && ws->is_open()) {
                ws->awaited_pong = "pm-" + std::to_string(++pings);
                ping_sent = clock::now();
                auto pec = co_await ws->ping(ws->awaited_pong);
                (void)pec; // a failed write fails the read as well
            }
            self->write_lock.try_receive([](error_code) {});
        }
    }
};

ws_client::ws_client(asio::any_io_executor ex, options opt)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opt))) {}

ws_client::~ws_client() {
    impl_->watch_timer.cancel();
    if (impl_->ws) impl_->ws->abort();
}

asio::awaitable<ws_client::result> ws_client::connect(std::string url) {
    auto self = impl_;
    result r;
    auto parsed = parse_endpoint(url);
    if (!parsed || !parsed.ep.websocket) {
        r.ec = asio::error::invalid_argument;
        r.error = parsed ? "not a ws(s):// URL" : parsed.error;
        co_return r;
    }
    auto resolver = std::make_shared<tcp::resolver>(self->ex);
    asio::steady_timer guard(self->ex);
    guard.expires_after(self->opt.connect_timeout);
    guard.async_wait([resolver](error_code ec) {
        if (!ec) resolver->cancel();
    });
    auto [rec, addrs] = co_await resolver->async_resolve(parsed.ep.host, parsed.ep.port, use_tuple);
    guard.cancel();
    if (rec) {
        r.ec = rec;
        r.error = "cannot resolve " + parsed.ep.host + ": " +
                  (rec == asio::error::operation_aborted ? std::string("timed out") : rec.message());
        co_return r;
    }
    if (self->aborted) co_return result{asio::error::operation_aborted, "aborted", {}};
    if (parsed.ep.tls && !self->ctx) {
        try {
            self->ctx = detail::make_client_context(self->opt.tls);
        } catch (const std::exception& e) {
            co_return result{asio::error::no_protocol_option, e.what(), {}};
        }
    }
    if (parsed.ep.tls)
        self->ws = std::make_unique<ws_impl<tls_ws>>(self->ex, *self->ctx);
    else
        self->ws = std::make_unique<ws_impl<plain_ws>>(self->ex);
    r = co_await self->ws->handshake(parsed.ep, self->opt, addrs);
    if (r.ec)
        self->ws->abort();
    else
        asio::co_spawn(self->ex, impl::watch(self, self->ws.get()), asio::detached);
    co_return r;
}

asio::awaitable<ws_client::result> ws_client::read() {
    auto self = impl_;
    if (!self->ws) co_return result{asio::error::not_connected, "not connected", {}};
    co_return co_await self->ws->read(self->opt);
}

asio::awaitable<error_code> ws_client::write(std::string text) {
    auto self = impl_;
    if (!self->ws || !self->ws->is_open()) co_return asio::error::not_connected;
    if (!self->queued) self->queued = std::make_shared<queued_writes>(self->ex);
    auto mine = self->queued;
    mine->texts.push_back(std::move(text));
    if (self->writing) {
        // The writer takes this along with whatever else queued meanwhile.
        co_await mine->done.async_wait(use_tuple);
        co_return mine->ec;
    }
    self->writing = true;
    auto [lec] = co_await self->write_lock.async_send(error_code{}, use_tuple);
    if (!lec) {
        // One turn for the writes that are ready now (acks of one commit) to join this one.
        co_await asio::post(self->ex, asio::use_awaitable);
    }
    while (self->queued) {
        auto batch = std::move(self->queued);
        self->queued.reset();
        batch->ec = lec ? lec : asio::error::not_connected;
        if (!lec && self->ws->is_open()) batch->ec = co_await self->ws->write_all(batch->texts);
        batch->done.cancel();
    }
    self->writing = false;
    if (!lec) self->write_lock.try_receive([](error_code) {});
    co_return mine->ec;
}

asio::awaitable<void> ws_client::close() {
    auto self = impl_;
    if (!self->ws) co_return;
    auto [lec] = co_await self->write_lock.async_send(error_code{}, use_tuple);
    if (lec) {
        self->ws->abort();
        co_return;
    }
    co_await self->ws->close(self->opt);
    self->write_lock.try_receive([](error_code) {});
}

void ws_client::abort() {
    impl_->aborted = true;
    impl_->watch_timer.cancel();
    if (impl_->ws) impl_->ws->abort();
}

bool ws_client::is_open() const {
    return impl_->ws && impl_->ws->is_open();
}

} // namespace pm::adapters::net

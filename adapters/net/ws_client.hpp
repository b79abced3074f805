// A WebSocket client (wss://, and ws:// for loopback hosts). Beast-free header; the work is in
// ws_client.cpp. One reader at a time. Writes are serialized so acks from many coroutines never
// interleave; messages written while another write is under way go out together, in order, in as
// few TCP segments as fit. Dead sockets are found by pings on a fixed interval and by silence.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "adapters/net/tls.hpp"

namespace pm::adapters::net {

class ws_client {
public:
    struct options {
        tls_options tls;
        std::chrono::milliseconds connect_timeout{10000}; // resolve + connect + TLS + upgrade
        // A ping (with its own payload) goes out every ping_interval; the socket is dead when a
        // ping has had no matching pong for pong_timeout, or nothing at all arrived for
        // idle_timeout (half-open TCP, where reads would block forever). protocols/slack.md §1.7.
        std::chrono::milliseconds ping_interval{5000};
        std::chrono::milliseconds pong_timeout{15000};
        std::chrono::milliseconds idle_timeout{45000};
        std::chrono::milliseconds close_timeout{1000}; // close handshake, then the TCP is dropped
        std::size_t max_message = 1u << 20;            // larger messages are skipped, not fatal
        std::size_t hard_max_message = 64u << 20;      // beyond this the connection is failed
        std::string user_agent = "postmortem-bot";
    };

    struct message {
        std::string data;
        bool binary = false;
        bool oversized = false; // over max_message: data is empty, the bytes were discarded
        std::size_t size = 0;   // bytes received for this message
    };

    struct result {
        boost::system::error_code ec;
        std::string error; // readable, when ec is set
        message msg;
    };

    // Throws std::runtime_error if the TLS context cannot be set up (bad CA file).
    ws_client(boost::asio::any_io_executor ex, options opt);
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    // The URL may carry secrets (a ticket): it is never logged.
    boost::asio::awaitable<result> connect(std::string url);
    // Next whole message. Errors end the connection (closed, timed out, reset).
    boost::asio::awaitable<result> read();
    // Sends one text message; serialized with every other write and the close. Messages that
    // queue behind a write in progress are written together (TCP_CORK), each whole and in order.
    boost::asio::awaitable<boost::system::error_code> write(std::string text);
    // Close 1000, wait at most close_timeout for the handshake, then drop the TCP connection.
    boost::asio::awaitable<void> close();
    // Drops the TCP connection at once; pending operations fail.
    void abort();
    bool is_open() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace pm::adapters::net

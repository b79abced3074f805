// An HTTPS/HTTP client for JSON and form APIs. Beast-free header; the work is in http_client.cpp.
// Keep-alive connections are reused per host; every step (resolve, connect, handshake, write,
// read) has a deadline; response bodies are bounded. Network failures come back as values.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/net/tls.hpp"

namespace pm::adapters::net {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
    std::string method = "POST";
    std::string url;          // absolute; http:// only for loopback hosts
    header_list headers;      // e.g. {"Authorization", "Bearer …"} (never logged)
    std::string content_type; // "application/json; charset=utf-8", form, octet-stream…
    std::string body;
    // Write + read deadline of this exchange; zero: the client's request_timeout. A long poll
    // (Matrix /sync holds the request up to 30 s) sets one above the server's hold time.
    std::chrono::milliseconds timeout{0};
    // Safe to send twice (GET, HEAD, PUT, DELETE and OPTIONS always are). Only such a request is
    // sent again by itself when a kept-alive connection fails after the request was written:
    // the server may have acted on it before closing (a lost response), and a second POST of a
    // message would post it twice.
    bool idempotent = false;
};

struct http_response {
    int status = 0;
    header_list headers;
    std::string body;

    // Case-insensitive header lookup.
    std::optional<std::string> header(std::string_view name) const;
    // Retry-After in seconds (the only form Slack uses) or as an HTTP date (from now, at least
    // zero); nullopt when absent or unreadable.
    std::optional<std::chrono::milliseconds> retry_after() const;
};

struct http_result {
    boost::system::error_code ec; // transport failure (timeout, refused, TLS, too large…)
    std::string error;            // readable reason when ec is set
    // The whole request was written before the failure: the server may have acted on it, so a
    // non-idempotent request's outcome is unknown.
    bool request_sent = false;
    http_response response;

    bool ok() const { return !ec; }
};

class http_client {
public:
    struct options {
        tls_options tls;
        std::chrono::milliseconds connect_timeout{10000}; // resolve + connect + TLS handshake
        std::chrono::milliseconds request_timeout{30000}; // write + read of one exchange
        std::size_t max_response_body = 16u << 20;
        std::size_t max_idle_per_host = 4;
        std::string user_agent = "postmortem-bot";
    };

    // Throws std::runtime_error if the TLS context cannot be set up (bad CA file).
    http_client(boost::asio::any_io_executor ex, options opt);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    boost::asio::awaitable<http_result> request(http_request req);
    // Drops pooled keep-alive connections (tests, shutdown).
    void close_idle();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace pm::adapters::net

// The Slack adapter: Socket Mode for input, the Web API for output. Beast-free header.
//
//   pm::adapters::slack::config cfg;
//   cfg.bot_token = "xoxb-…"; cfg.app_token = "xapp-…";
//   auto slack = std::make_unique<pm::adapters::slack::adapter>(ioc.get_executor(), cfg);
//   co_spawn(ioc, slack->run(sink), …);          // auth.test, sockets, envelopes → sink → ack
//   auto r = co_await slack->send(outbound_row);  // from the outbox drainer
//
// All member functions are to be used from one thread (the io_context's, or one strand).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/adapter.hpp"

namespace pm::adapters::slack {

struct config {
    std::string api_url = "https://slack.com/api/"; // SLACK_API_URL; http:// only for loopback
    std::string bot_token;                          // xoxb-…: every Web API call but one
    std::string app_token;                          // xapp-…: apps.connections.open only
    std::string ca_file;                            // extra CA to trust (tests, private CAs)
    std::string command = "/postmortem";            // the slash command the app registers
    bool commands_from_app_mention = false;         // see envelope.hpp parse_context

    std::chrono::milliseconds http_timeout{10000};       // one Web API exchange
    std::chrono::milliseconds connect_timeout{10000};    // TCP + TLS + upgrade
    std::chrono::milliseconds hello_timeout{10000};      // socket unusable until `hello`
    std::chrono::milliseconds ping_interval{5000};       // a client ping this often (§1.7)
    std::chrono::milliseconds pong_timeout{15000};       // a ping unanswered this long → dead
    std::chrono::milliseconds idle_timeout{45000};       // nothing received this long → dead
    std::chrono::milliseconds user_lookup_timeout{1500}; // users.info on the ack path
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{60000};
    std::chrono::milliseconds link_disabled_retry{300000}; // Socket Mode turned off: retry slowly
    std::chrono::seconds user_cache_age{3600};             // users.info refresh age
    std::chrono::seconds find_sent_window{7 * 24 * 3600};  // how far back find_sent looks
    std::size_t max_frame_bytes = 1u << 20;                // larger frames are logged and skipped
    double post_per_channel_per_second = 1.0;              // chat.postMessage per channel
    double post_per_channel_burst = 3.0;
    // Client-side token buckets per method (Slack's published tiers). Off only for an endpoint
    // without Slack's limits, such as a load generator; 429s and Retry-After are obeyed either way.
    bool client_rate_limits = true;
};

// "" when the config is usable, else a readable reason (tokens are never echoed).
std::string validate(const config& cfg);

class adapter final : public platform {
public:
    // Throws std::invalid_argument with validate()'s message, or std::runtime_error when the
    // CA file cannot be loaded.
    adapter(boost::asio::any_io_executor ex, config cfg);
    ~adapter() override;

    std::string name() const override { return "slack"; }
    // auth.test, then Socket Mode until stop() or cancellation. Throws std::runtime_error with a
    // readable message when Slack refuses the tokens (invalid_auth, account_inactive, …).
    boost::asio::awaitable<void> run(event_sink sink) override;
    boost::asio::awaitable<send_result> send(const outbound& msg) override;
    boost::asio::awaitable<std::optional<send_result>> find_sent(const outbound& msg) override;
    bool ready() const override;

    // Closes the sockets; run() returns soon after. Events being handled finish, their acks are
    // lost (Slack redelivers; the bot de-duplicates).
    void stop();

    struct counters {
        std::uint64_t sockets_opened = 0;
        std::uint64_t envelopes = 0;
        std::uint64_t acks = 0;
        std::uint64_t bad_frames = 0;
        std::uint64_t duplicates_dropped = 0;
        std::uint64_t rate_limited = 0;
    };
    counters stats() const;
    // From auth.test (empty before run() has authenticated).
    std::string bot_user_id() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace pm::adapters::slack

// Rate limiting per key (a Slack method, a channel), as pure logic driven by the time points it
// is given (GCRA: a token bucket kept as one "theoretical arrival time" per key), plus a thin
// awaiting wrapper for the adapters. A 429 pauses only its key, for Retry-After.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

namespace pm::adapters::net {

class rate_limiter {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    struct rule {
        double per_second = 1.0; // sustained rate
        double burst = 1.0;      // requests allowed back to back
    };

    // Keys without a rule are unlimited, except for pauses.
    void set_rule(const std::string& key, rule r);
    // When a request touching all `keys` may go, given that it is asked at `now`. Reserves the
    // slot: the caller must then send at (or after) the returned time.
    time_point reserve(const std::vector<std::string>& keys, time_point now);
    // When such a request could go, without booking it (for callers that would rather skip).
    time_point peek(const std::vector<std::string>& keys, time_point now) const;
    // Hold `key` until `until` (HTTP 429 + Retry-After).
    void pause(const std::string& key, time_point until);
    time_point paused_until(const std::vector<std::string>& keys) const;

private:
    struct state {
        rule r{0, 0};
        bool limited = false;
        time_point tat{};    // theoretical arrival time of the next request
        time_point paused{}; // no request before this
    };
    std::unordered_map<std::string, state> keys_;
};

// The awaiting wrapper: one per adapter, used from one strand.
class rate_gate {
public:
    explicit rate_gate(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
    rate_limiter& limiter() { return lim_; }
    // Waits until a request touching `keys` may be sent (re-checks pauses set while waiting).
    boost::asio::awaitable<void> acquire(std::vector<std::string> keys);
    void pause(const std::string& key, std::chrono::milliseconds d);

private:
    boost::asio::any_io_executor ex_;
    rate_limiter lim_;
};

} // namespace pm::adapters::net

#include "adapters/net/rate_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace pm::adapters::net {

namespace {
rate_limiter::duration interval(const rate_limiter::rule& r) {
    return std::chrono::duration_cast<rate_limiter::duration>(
        std::chrono::duration<double>(1.0 / r.per_second));
}
} // namespace

void rate_limiter::set_rule(const std::string& key, rule r) {
    auto& s = keys_[key];
    s.r = r;
    s.limited = r.per_second > 0;
}

rate_limiter::time_point rate_limiter::peek(const std::vector<std::string>& keys, time_point now) const {
    time_point go = now;
    for (const auto& k : keys) {
        auto it = keys_.find(k);
        if (it == keys_.end()) continue;
        const state& s = it->second;
        go = std::max(go, s.paused);
        if (s.limited) {
            auto t = interval(s.r);
            auto tolerance = t * static_cast<long>(std::max(0.0, s.r.burst - 1.0));
            go = std::max(go, std::max(s.tat, now) - tolerance);
        }
    }
    return go;
}

rate_limiter::time_point rate_limiter::reserve(const std::vector<std::string>& keys, time_point now) {
    // First the earliest time every key allows, then book that slot in each of them.
    time_point go = peek(keys, now);
    for (const auto& k : keys) {
        auto it = keys_.find(k);
        if (it == keys_.end() || !it->second.limited) continue;
        state& s = it->second;
        s.tat = std::max({s.tat, now, go}) + interval(s.r);
    }
    return go;
}

void rate_limiter::pause(const std::string& key, time_point until) {
    auto& s = keys_[key];
    s.paused = std::max(s.paused, until);
}

rate_limiter::time_point rate_limiter::paused_until(const std::vector<std::string>& keys) const {
    time_point t{};
    for (const auto& k : keys)
        if (auto it = keys_.find(k); it != keys_.end()) t = std::max(t, it->second.paused);
    return t;
}

boost::asio::awaitable<void> rate_gate::acquire(std::vector<std::string> keys) {
    auto at = lim_.reserve(keys, rate_limiter::clock::now());
    boost::asio::steady_timer timer(ex_);
    for (;;) {
        if (at <= rate_limiter::clock::now()) {
            // A 429 may have paused a key after the slot was booked: honour it.
            auto p = lim_.paused_until(keys);
            if (p <= rate_limiter::clock::now()) co_return;
            at = p;
        }
        timer.expires_at(at);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec == boost::asio::error::operation_aborted) co_return;
    }
}

void rate_gate::pause(const std::string& key, std::chrono::milliseconds d) {
    lim_.pause(key, rate_limiter::clock::now() + d);
}

} // namespace pm::adapters::net

#include "adapters/net/backoff.hpp"

#include <algorithm>
#include <random>

namespace pm::adapters::net {

backoff::backoff(millis initial, millis cap, random_source rnd)
    : initial_(std::max(initial, millis(1))), cap_(std::max(cap, initial_)), rnd_(std::move(rnd)) {
    if (!rnd_) {
        rnd_ = [gen = std::mt19937_64(std::random_device{}())]() mutable {
            return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
        };
    }
}

backoff::millis backoff::next() {
    // Doubling stops once the cap is reached, so the shift never overflows.
    millis base = initial_;
    for (int i = 0; i < attempt_ && base < cap_; ++i)
        base *= 2;
    base = std::min(base, cap_);
    ++attempt_;
    double r = std::clamp(rnd_(), 0.0, 1.0);
    auto half = base.count() / 2;
    return millis(half + static_cast<millis::rep>(r * static_cast<double>(base.count() - half)));
}

} // namespace pm::adapters::net

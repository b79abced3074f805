// Capped exponential backoff with jitter, as a small pure class: the caller sleeps, this only
// computes how long. The random source is injectable so tests can pin the jitter.
#pragma once

#include <chrono>
#include <functional>

namespace pm::adapters::net {

class backoff {
public:
    using millis = std::chrono::milliseconds;
    // Returns a value in [0, 1).
    using random_source = std::function<double()>;

    backoff(millis initial = std::chrono::seconds(1), millis cap = std::chrono::seconds(60),
            random_source rnd = {});

    // The delay before the next attempt: base = min(cap, initial * 2^n), then "equal jitter"
    // (base/2 + random * base/2) so that many clients restarting together spread out but
    // never retry immediately.
    millis next();
    // After a success (Slack: after `hello`), start again from `initial`.
    void reset() { attempt_ = 0; }
    int attempts() const { return attempt_; }

private:
    millis initial_;
    millis cap_;
    random_source rnd_;
    int attempt_ = 0;
};

} // namespace pm::adapters::net

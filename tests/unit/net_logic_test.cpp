// Pure pieces of adapters/net: backoff, rate limiter (fake time), redaction, URL rules.
#include <doctest/doctest.h>

#include "adapters/net/backoff.hpp"
#include "adapters/net/rate_limiter.hpp"
#include "adapters/net/redact.hpp"
#include "adapters/net/url.hpp"

using namespace pm::adapters::net;
using namespace std::chrono_literals;

TEST_CASE("net: backoff doubles to the cap, jitter within [base/2, base], reset") {
    double r = 0.0;
    backoff b(1000ms, 60000ms, [&] { return r; });
    CHECK(b.next() == 500ms); // base 1 s, lowest jitter
    CHECK(b.next() == 1000ms);
    CHECK(b.next() == 2000ms);
    r = 1.0;
    CHECK(b.next() == 8000ms);
    for (int i = 0; i < 100; ++i)
        b.next();
    CHECK(b.next() == 60000ms);
    r = 0.0;
    CHECK(b.next() == 30000ms);
    b.reset();
    CHECK(b.attempts() == 0);
    CHECK(b.next() == 500ms);
}

TEST_CASE("net: rate limiter bursts, then spaces requests, keys are independent") {
    rate_limiter l;
    l.set_rule("c:C1", {1.0, 3.0});
    rate_limiter::time_point t0{};
    t0 += 1000s;
    std::vector<std::string> k{"c:C1"};
    CHECK(l.reserve(k, t0) == t0);
    CHECK(l.reserve(k, t0) == t0);
    CHECK(l.reserve(k, t0) == t0);
    CHECK(l.peek(k, t0) == t0 + 1s);
    CHECK(l.reserve(k, t0) == t0 + 1s);
    CHECK(l.reserve(k, t0) == t0 + 2s);
    // Another channel is not held up; an unknown key is unlimited.
    l.set_rule("c:C2", {1.0, 1.0});
    CHECK(l.reserve({"c:C2"}, t0) == t0);
    CHECK(l.reserve({"c:C2"}, t0) == t0 + 1s);
    CHECK(l.reserve({"m:other"}, t0) == t0);
    // After idling, the burst is available again.
    auto later = t0 + 100s;
    CHECK(l.reserve(k, later) == later);
}

TEST_CASE("net: a 429 pauses only its key until Retry-After") {
    rate_limiter l;
    l.set_rule("m:chat.postMessage", {5.0, 20.0});
    rate_limiter::time_point t0{};
    t0 += 1000s;
    l.pause("m:chat.postMessage", t0 + 30s);
    CHECK(l.reserve({"m:chat.postMessage", "c:C1"}, t0) == t0 + 30s);
    CHECK(l.reserve({"m:users.info"}, t0) == t0);
    CHECK(l.paused_until({"m:chat.postMessage"}) == t0 + 30s);
    // A shorter pause never shortens a longer one.
    l.pause("m:chat.postMessage", t0 + 5s);
    CHECK(l.paused_until({"m:chat.postMessage"}) == t0 + 30s);
}

TEST_CASE("net: redaction hides tokens and secrets") {
    auto s = redact("Authorization: Bearer xoxb-123-456-abc and xapp-1-A0-xyz ticket=7c1e&app_id=A0 "
                    "{\"token\":\"secret\"} syt_abc_def");
    CHECK(s.find("123-456") == std::string::npos);
    CHECK(s.find("A0-xyz") == std::string::npos);
    CHECK(s.find("7c1e") == std::string::npos);
    CHECK(s.find("secret") == std::string::npos);
    CHECK(s.find("abc_def") == std::string::npos);
    CHECK(s.find("app_id=A0") != std::string::npos);
    CHECK(redact("nothing secret here") == "nothing secret here");
}

TEST_CASE("net: URLs: plain http/ws only for loopback hosts") {
    auto a = parse_endpoint("https://slack.com/api/chat.postMessage");
    REQUIRE(a);
    CHECK(a.ep.tls);
    CHECK(a.ep.host == "slack.com");
    CHECK(a.ep.port == "443");
    CHECK(a.ep.target == "/api/chat.postMessage");
    auto w = parse_endpoint("wss://wss-primary.slack.com/link/?ticket=1&app_id=A");
    REQUIRE(w);
    CHECK(w.ep.websocket);
    CHECK(w.ep.target == "/link/?ticket=1&app_id=A");
    CHECK(parse_endpoint("http://127.0.0.1:8080/api/"));
    CHECK(parse_endpoint("ws://localhost:1/x"));
    auto v6 = parse_endpoint("http://[::1]:9/");
    REQUIRE(v6);
    CHECK(v6.ep.host == "::1");
    CHECK(v6.ep.host_is_ip);
    auto bad = parse_endpoint("http://slack.com/api/");
    CHECK_FALSE(bad);
    CHECK(bad.error.find("loopback") != std::string::npos);
    CHECK_FALSE(parse_endpoint("ws://10.0.0.1/"));
    CHECK_FALSE(parse_endpoint("ftp://127.0.0.1/"));
    CHECK_FALSE(parse_endpoint("wss:{"));
    CHECK_FALSE(parse_endpoint("ws://[::1]:9a000/socket")); // a fuzz_url regression input
    CHECK_FALSE(parse_endpoint(""));
    CHECK(join_url("https://slack.com/api", "auth.test") == "https://slack.com/api/auth.test");
    CHECK(join_url("https://slack.com/api/", "/auth.test") == "https://slack.com/api/auth.test");
    CHECK(form_encode("a b&c=é") == "a%20b%26c%3D%C3%A9");
    using fields = std::vector<std::pair<std::string, std::string>>;
    CHECK(form_decode("text=%3C%40U1%3E+hi&flag&k=" + form_encode("a b&c=é")) ==
          fields{{"text", "<@U1> hi"}, {"flag", ""}, {"k", "a b&c=é"}});
    CHECK(form_decode("a=%zz").empty());
}

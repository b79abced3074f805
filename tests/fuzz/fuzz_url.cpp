// Outside bytes the network layer reads: endpoint URLs (the Socket Mode URL Slack hands out, the
// homeserver URL, response_url) through Boost.URL, and the Retry-After header of an HTTP
// response. Checks: nothing throws; an accepted endpoint has a host, a numeric port and a target
// starting with '/' with no byte that could split the request line; plain http/ws only for
// loopback; a Retry-After delay is never negative nor above a day.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>

#include "adapters/net/http_client.hpp"
#include "adapters/net/url.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pm::adapters::net;
    const std::string text(reinterpret_cast<const char*>(data), size);

    auto r = parse_endpoint(text);
    if (r) {
        const auto& ep = r.ep;
        auto clean = [](const std::string& s) {
            return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
        };
        pm::fuzz::check(!ep.host.empty() && clean(ep.host), "an endpoint with an empty or unsafe host", text);
        pm::fuzz::check(
            !ep.port.empty() && ep.port.size() <= 5 &&
                std::all_of(ep.port.begin(), ep.port.end(), [](unsigned char c) { return std::isdigit(c); }),
            "an endpoint with a bad port", text);
        pm::fuzz::check(!ep.target.empty() && ep.target[0] == '/' && clean(ep.target),
                        "an endpoint with a bad target", text);
        pm::fuzz::check(ep.tls || is_loopback_host(ep.host), "plain transport to a non-loopback host", text);
        ep.authority();
    }
    is_loopback_host(text);
    join_url(text, text);
    form_encode(text);

    http_response resp;
    resp.headers.emplace_back("Retry-After", text);
    if (auto d = resp.retry_after())
        pm::fuzz::check(*d >= std::chrono::milliseconds(0) && *d <= std::chrono::hours(24),
                        "a Retry-After delay out of range", text);
    return 0;
}

// Endpoint parsing for the HTTP and WebSocket clients (Boost.URL, the compiled library), and the
// loopback rule: plain http:// and ws:// are accepted only for 127.0.0.1, ::1 and localhost.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pm::adapters::net {

struct endpoint {
    bool tls = true;
    bool websocket = false;
    std::string host;   // without brackets for IPv6
    std::string port;   // always set (defaults 443 / 80)
    std::string target; // path + query, at least "/"
    bool host_is_ip = false;

    // "host:port", the connection-pool key and the Host header.
    std::string authority() const;
};

bool is_loopback_host(std::string_view host);

// Errors carry a readable message: "plain http:// is only allowed for loopback hosts", …
struct endpoint_result {
    endpoint ep;
    std::string error; // empty on success
    explicit operator bool() const { return error.empty(); }
};
endpoint_result parse_endpoint(std::string_view url);

// Joins a base URL ("https://slack.com/api/") and a relative part ("chat.postMessage").
std::string join_url(std::string_view base, std::string_view rel);

// application/x-www-form-urlencoded component encoding.
std::string form_encode(std::string_view s);

// The fields of an application/x-www-form-urlencoded body, in order ("+" is a space); empty
// when the body is not valid form encoding.
std::vector<std::pair<std::string, std::string>> form_decode(std::string_view body);

} // namespace pm::adapters::net

#include "adapters/net/url.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>

namespace pm::adapters::net {

std::string endpoint::authority() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + port;
}

bool is_loopback_host(std::string_view host) {
    std::string h(host);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
    if (h == "localhost" || h == "localhost.") return true;
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(h, ec);
    return !ec && addr.is_loopback();
}

endpoint_result parse_endpoint(std::string_view url) {
    endpoint_result r;
    auto u = boost::urls::parse_uri(url);
    if (!u) {
        r.error = "not a valid URL";
        return r;
    }
    std::string scheme(u->scheme());
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    auto& ep = r.ep;
    if (scheme == "https" || scheme == "wss") {
        ep.tls = true;
    } else if (scheme == "http" || scheme == "ws") {
        ep.tls = false;
    } else {
        r.error = "unsupported URL scheme '" + scheme + "'";
        return r;
    }
    ep.websocket = scheme == "ws" || scheme == "wss";
    if (!u->has_authority() || u->host().empty()) {
        r.error = "URL has no host";
        return r;
    }
    if (u->host_type() == boost::urls::host_type::ipv6) {
        ep.host = std::string(u->encoded_host_address());
        ep.host_is_ip = true;
    } else if (u->host_type() == boost::urls::host_type::ipv4) {
        ep.host = std::string(u->encoded_host());
        ep.host_is_ip = true;
    } else if (u->host_type() == boost::urls::host_type::name) {
        ep.host = std::string(u->encoded_host());
    } else {
        r.error = "unsupported host form";
        return r;
    }
    if (!ep.tls && !is_loopback_host(ep.host)) {
        r.error = "plain " + scheme +
                  ":// is only allowed for loopback hosts (127.0.0.1, ::1, localhost), not '" + ep.host + "'";
        return r;
    }
    ep.port = u->has_port() ? std::string(u->port()) : (ep.tls ? "443" : "80");
    if (ep.port.empty() || ep.port.size() > 5 ||
        !std::all_of(ep.port.begin(), ep.port.end(), [](unsigned char c) { return std::isdigit(c); })) {
        r.error = "invalid port";
        return r;
    }
    ep.target = std::string(u->encoded_path());
    // Boost.URL 1.81 accepts "ws://[::1]:9a000/x" as port "9" and path "a000/x"; such a path
    // would make a broken request line.
    if (!ep.target.empty() && ep.target.front() != '/') {
        r.error = "invalid port or path";
        return r;
    }
    if (ep.target.empty()) ep.target = "/";
    if (u->has_query()) ep.target += "?" + std::string(u->encoded_query());
    return r;
}

std::string join_url(std::string_view base, std::string_view rel) {
    std::string out(base);
    if (!out.empty() && out.back() != '/') out += '/';
    while (!rel.empty() && rel.front() == '/')
        rel.remove_prefix(1);
    out += rel;
    return out;
}

std::string form_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> form_decode(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    auto q = boost::urls::parse_query(body);
    if (!q) return out;
    boost::urls::encoding_opts opt;
    opt.space_as_plus = true;
    for (auto p : *q)
        out.emplace_back(p.key.decode(opt), p.has_value ? p.value.decode(opt) : std::string());
    return out;
}

} // namespace pm::adapters::net

// Internal to adapters/net: the Asio SSL pieces, included only by the few .cpp files that
// already pay for Asio.SSL.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "adapters/net/tls.hpp"

namespace pm::adapters::net::detail {

// Throws std::runtime_error when the CA file cannot be loaded (a start-up error).
std::shared_ptr<boost::asio::ssl::context> make_client_context(const tls_options& opt);

// SNI and host-name (or IP) verification for one connection; call before the handshake.
// Returns false if OpenSSL refused the settings.
bool set_peer_host(SSL* ssl, const std::string& host, bool host_is_ip);

// A readable reason for a failed handshake (the X509 verify result when there is one).
std::string handshake_error(SSL* ssl, const std::string& fallback);

} // namespace pm::adapters::net::detail

#include <openssl/x509v3.h>

#include <stdexcept>

#include "adapters/net/tls_detail.hpp"

namespace pm::adapters::net::detail {

std::shared_ptr<boost::asio::ssl::context> make_client_context(const tls_options& opt) {
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (opt.system_store) {
        ctx->set_default_verify_paths(ec);
        if (ec) throw std::runtime_error("cannot load the system CA store: " + ec.message());
    }
    if (!opt.ca_file.empty()) {
        ctx->load_verify_file(opt.ca_file, ec);
        if (ec) throw std::runtime_error("cannot load CA file '" + opt.ca_file + "': " + ec.message());
    }
    return ctx;
}

bool set_peer_host(SSL* ssl, const std::string& host, bool host_is_ip) {
    // verify_peer alone does not check the name: without this a valid certificate for any
    // other host would be accepted.
    if (host_is_ip) {
        // No SNI for IP literals (RFC 6066); check the IP SAN instead.
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    }
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, host.c_str()) == 1;
}

std::string handshake_error(SSL* ssl, const std::string& fallback) {
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) return std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
    return fallback;
}

} // namespace pm::adapters::net::detail

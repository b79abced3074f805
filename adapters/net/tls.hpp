// TLS settings shared by the HTTP and WebSocket clients. Peers are always verified against the
// system CA store (plus an optional extra CA file, for tests and private CAs) and by host name.
#pragma once

#include <string>

namespace pm::adapters::net {

struct tls_options {
    std::string ca_file;      // extra PEM CA bundle to trust; empty: system store only
    bool system_store = true; // also trust the system CA store
};

} // namespace pm::adapters::net

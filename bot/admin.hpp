// The admin HTTP endpoint: /healthz, /readyz, /metrics on a loopback address by default.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>

namespace pm::bot {

struct admin_handlers {
    std::function<std::string()> metrics;
    std::function<bool(std::string& why)> ready;
};

// Binds `listen` ("host:port"; port 0 picks a free one). Returns the bound "host:port", or throws
// std::runtime_error with a readable reason. Serving runs on `io` until it stops.
std::string start_admin(boost::asio::io_context& io, const std::string& listen, admin_handlers h);

} // namespace pm::bot

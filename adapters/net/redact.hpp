// Tokens never reach a log: everything from a request, a URL or a response body goes through
// redact() before it is logged.
#pragma once

#include <string>
#include <string_view>

namespace pm::adapters::net {

// Masks Slack tokens (xoxb-, xoxp-, xapp-, xoxa-, xoxe-, xoxr-, xoxs-), Matrix tokens (syt_,
// mct_), "Bearer <token>", Authorization header values and secret URL query parameters
// (ticket, access_token, token).
std::string redact(std::string_view text);

} // namespace pm::adapters::net

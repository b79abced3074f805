// Retry-After in both forms a Matrix homeserver may send (protocols/matrix.md §5).
#include <doctest/doctest.h>

#include "adapters/net/http_client.hpp"

using namespace pm::adapters::net;
using namespace std::chrono_literals;

TEST_CASE("matrix: Retry-After as seconds or as an HTTP date") {
    http_response r;
    r.headers = {{"retry-after", "3"}};
    CHECK(r.retry_after() == std::optional<std::chrono::milliseconds>(3000ms));
    r.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}; // in the past: at once
    CHECK(r.retry_after() == std::optional<std::chrono::milliseconds>(0ms));
    r.headers = {{"Retry-After", "Wed, 32 Oct 2015 07:28:00 GMT"}};
    CHECK_FALSE(r.retry_after());
    r.headers = {{"Retry-After", "soon"}};
    CHECK_FALSE(r.retry_after());
    r.headers = {{"Retry-After", "nan"}}; // std::stod reads it (a fuzz_url regression input)
    CHECK_FALSE(r.retry_after());
    r.headers = {{"Retry-After", "inf"}};
    CHECK_FALSE(r.retry_after());
    r.headers = {{"Retry-After", "Wed, 21 Oct 1013 07:28:00 GMT"}}; // a fuzz_url regression input
    CHECK(r.retry_after() == std::optional<std::chrono::milliseconds>(0ms));
}

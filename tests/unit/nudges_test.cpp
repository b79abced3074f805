#include <doctest/doctest.h>

#include "bot/rules_config.hpp"
#include "conversations/nudges.hpp"

namespace nd = pm::conv::nudges;

namespace {

const nd::ruleset& rules() {
    static const auto r = pm::bot::load_default_rules();
    return r;
}

bool blamed(std::string_view text) {
    return nd::first(text, rules()).has_value();
}

} // namespace

TEST_CASE("nudges: smoke") {
    CHECK(blamed("we should have caught this"));
    CHECK_FALSE(blamed("the health check failed to fire"));
}

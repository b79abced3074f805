// Interim loader; replaced by the full rule loader.
#include "bot/rules_config.hpp"

namespace pm::bot {
namespace embedded {
extern const char* const nudges_toml;
}
std::optional<conv::nudges::ruleset> parse_rules(const toml::table& t, std::vector<std::string>& errors) {
    conv::nudges::ruleset r;
    if (auto* a = t["nudge"].as_array())
        for (auto& n : *a)
            if (auto* o = n.as_table()) {
                conv::nudges::rule x;
                x.id = (*o)["id"].value_or(std::string());
                x.reframe = (*o)["reframe"].value_or(std::string());
                if (auto* ps = (*o)["phrases"].as_array())
                    for (auto& p : *ps) x.phrases.push_back(p.value_or(std::string()));
                r.nudges.push_back(x);
            }
    if (auto* a = t["followup"].as_array())
        for (auto& n : *a)
            if (auto* o = n.as_table()) {
                conv::nudges::followup_rule x;
                x.id = (*o)["id"].value_or(std::string());
                x.prompt = (*o)["prompt"].value_or(std::string());
                if (auto* ps = (*o)["phrases"].as_array())
                    for (auto& p : *ps) x.phrases.push_back(p.value_or(std::string()));
                r.followups.push_back(x);
            }
    (void)errors;
    return r;
}
conv::nudges::ruleset load_default_rules() {
    std::vector<std::string> e;
    return *parse_rules(toml::parse(std::string_view(embedded::nudges_toml)), e);
}
} // namespace pm::bot

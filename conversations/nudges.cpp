// Interim matcher (plain substring); replaced by the full detector.
#include "conversations/nudges.hpp"

#include "conversations/text.hpp"

namespace pm::conv::nudges {
std::vector<finding> scan(std::string_view t, const ruleset& rules) {
    std::vector<finding> out;
    const std::string low = text::lower(t);
    for (auto& r : rules.nudges)
        for (auto& ph : r.phrases)
            if (auto pos = low.find(text::lower(ph)); pos != std::string::npos)
                out.push_back(finding{1, pos + 1, pos, ph.size(), std::string(t.substr(pos, ph.size())), r.reframe, r.id});
    return out;
}
std::optional<finding> first(std::string_view t, const ruleset& rules) {
    auto v = scan(t, rules);
    if (v.empty()) return std::nullopt;
    return v.front();
}
std::optional<std::string> followup(std::string_view t, const ruleset& rules) {
    const std::string low = text::lower(t);
    for (auto& r : rules.followups)
        for (auto& ph : r.phrases)
            if (low.find(text::lower(ph)) != std::string::npos) return r.prompt;
    return std::nullopt;
}
} // namespace pm::conv::nudges

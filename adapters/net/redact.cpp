#include "adapters/net/redact.hpp"

#include <array>
#include <cctype>

namespace pm::adapters::net {

namespace {

bool token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~' ||
           c == '+' || c == '/' || c == '=';
}

bool starts_with_ci(std::string_view s, std::size_t at, std::string_view prefix) {
    if (s.size() - at < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[at + i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

} // namespace

std::string redact(std::string_view in) {
    // Prefixes after which the rest of the token is masked; the prefix stays for diagnosis.
    static constexpr std::array<std::string_view, 15> prefixes{
        "xoxb-", "xoxp-",   "xapp-",   "xoxa-",         "xoxe-",  "xoxr-",      "xoxs-",          "syt_",
        "mct_",  "bearer ", "ticket=", "access_token=", "token=", "token\":\"", "authorization: "};
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        bool matched = false;
        for (auto p : prefixes) {
            // Only at a word start, so "Xoxb-" inside another word or "mytoken=" still match
            // conservatively: masking too much is harmless here.
            if (starts_with_ci(in, i, p)) {
                out.append(in.substr(i, p.size()));
                i += p.size();
                if (i < in.size() && token_char(in[i])) {
                    out += "***";
                    while (i < in.size() && token_char(in[i]))
                        ++i;
                }
                matched = true;
                break;
            }
        }
        if (!matched) out += in[i++];
    }
    return out;
}

} // namespace pm::adapters::net

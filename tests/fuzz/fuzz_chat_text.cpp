// The text decoders on raw bytes, without the JSON around them: Slack's message text
// (<@U…|name>, <!here>, <url|label>, entities) and ts; Matrix's HTML formatted_body (pills,
// mx-reply, character references) and matrix.to links. Then the bot quoting the bytes back on
// both platforms. Checks: nothing throws; Slack mentions are Slack ids and Matrix pills MXIDs;
// quoting renders nothing that notifies or links, and keeps (or makes) the text valid UTF-8.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "adapters/matrix/sync.hpp"
#include "adapters/slack/envelope.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace slack = pm::adapters::slack;
    namespace matrix = pm::adapters::matrix;
    const std::string text(reinterpret_cast<const char*>(data), size);

    std::vector<pm::adapters::user_ref> mentions;
    std::string s = slack::normalize_text(text, &mentions);
    for (const auto& m : mentions)
        pm::fuzz::check(!m.id.empty() &&
                            std::all_of(m.id.begin(), m.id.end(),
                                        [](unsigned char c) { return std::isupper(c) || std::isdigit(c); }),
                        "a Slack mention that is not a Slack id", text);
    slack::ts_to_time(text);

    std::map<std::string, std::string> pills;
    std::string h = matrix::html_to_text(text, pills);
    for (const auto& [id, name] : pills)
        pm::fuzz::check(id.size() >= 4 && id[0] == '@' && id.find(':') != std::string::npos,
                        "a Matrix pill that is not an MXID", text);
    auto u = matrix::user_from_matrix_to(text);
    pm::fuzz::check(u.empty() || (u[0] == '@' && u.find(':') != std::string::npos),
                    "a matrix.to user that is not an MXID", text);

    for (const std::string* t :
         {&text, static_cast<const std::string*>(&s), static_cast<const std::string*>(&h)}) {
        pm::fuzz::slack_render_is_inert(*t);
        pm::fuzz::matrix_render_is_inert(*t);
    }
    return 0;
}

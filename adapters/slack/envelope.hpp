// Socket Mode frames → normalized chat events. Pure: no sockets, no clock; fed with fixtures in
// the tests. Anything unexpected comes back as a value with a note for the log, never a throw.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"

namespace pm::adapters::slack {

struct parse_context {
    std::string self_user_id; // auth.test user_id: our own messages are dropped
    std::string self_bot_id;  // auth.test bot_id
    std::string command = "/postmortem";
    std::string command_word = "postmortem"; // `@bot postmortem …` in a message
    // Slack sends one message that mentions the bot twice (message.* and app_mention); commands
    // are taken from the message events unless the app is only subscribed to app_mention.
    bool commands_from_app_mention = false;
};

struct frame {
    enum class kind {
        hello,      // socket usable
        disconnect, // Slack retires this socket: see `reason`
        envelope,   // ack `envelope_id`; `event` is what to hand the bot, if anything
        malformed,  // not JSON, not an object, missing fields…
        unknown,    // valid JSON of a type we do not know
    };
    kind k = kind::malformed;
    std::string note; // why ignored / what is wrong, for the log (never contains tokens)

    // hello
    int num_connections = 0;
    std::optional<std::chrono::seconds> approximate_connection_time;
    // disconnect
    std::string reason;
    // envelope (also set on malformed/unknown frames when an envelope_id could be read)
    std::string envelope_id;
    std::string type; // events_api, slash_commands, interactive, or the unknown type
    bool accepts_response_payload = false;
    int retry_attempt = 0;
    std::string retry_reason;
    std::optional<chat_event> event;
};

frame parse_frame(std::string_view text, const parse_context& ctx);

// Slack message text (entity-encoded, with <…> tokens) → the bot's text: user mentions as
// `<@U…>` (names, when Slack gives them, go to `mentions`), channels as `#name`, links as
// `label (url)`, special mentions (<!here>…) as inert words, entities decoded.
std::string normalize_text(std::string_view slack_text, std::vector<user_ref>* mentions);

// "1767351180.000400" → milliseconds since the epoch (0 when unreadable).
sys_millis ts_to_time(std::string_view ts);

} // namespace pm::adapters::slack

// Slack Socket Mode frames: hello, disconnect and the envelopes (events_api with message,
// message_changed and app_mention; slash_commands; interactive block_actions), then the bot's
// answer quoting the text back. Checks: parsing never throws; an event has a user, a channel and
// platform "slack" and never our own user; quoting the text renders nothing that
// notifies or links.
#include <cstdint>
#include <string>

#include "adapters/slack/envelope.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pm::adapters::slack;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const parse_context contexts[] = {
        [] {
            parse_context c;
            c.self_user_id = "U0PMBOT";
            c.self_bot_id = "B0PMBOT";
            return c;
        }(),
        [] {
            parse_context c;
            c.self_user_id = "U0BOT";
            c.commands_from_app_mention = true;
            return c;
        }(),
        parse_context{}, // before auth.test answered
    };
    for (const auto& ctx : contexts) {
        frame f = parse_frame(text, ctx);
        if (!f.event) continue;
        const auto& ev = *f.event;
        pm::fuzz::check(f.k == frame::kind::envelope, "an event from a frame that is not an envelope", text);
        pm::fuzz::check(ev.platform == "slack" && !ev.user.id.empty() && !ev.where.channel.empty(),
                        "an event without a user or a channel", text);
        pm::fuzz::check(ev.user.id != ctx.self_user_id, "our own message became an event", text);
        for (const auto& m : ev.mentions)
            pm::fuzz::check(!m.id.empty(), "a mention without an id", text);
        pm::fuzz::slack_render_is_inert(ev.text);
        pm::fuzz::matrix_render_is_inert(ev.text);
        for (const auto& m : ev.mentions)
            pm::fuzz::slack_render_is_inert(m.name);
    }
    return 0;
}

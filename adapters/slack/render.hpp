// rich::message → Block Kit. Every literal text is escaped (protocols/slack.md §7.2): user text
// can never become a mention, a link, <!here>/<!channel> or mrkdwn layout; only mention spans,
// which the core creates, notify. Long messages are split within the Block Kit limits, in order.
#pragma once

#include <boost/json/array.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "conversations/richtext.hpp"

namespace pm::adapters::slack {

struct render_limits {
    std::size_t blocks_per_message = 45; // Slack: 50
    std::size_t section_chars = 2900;    // Slack: 3000 per text object
    std::size_t header_chars = 150;      // Slack: 150 (longer headings become bold sections)
    std::size_t message_chars = 11000;   // all block text of one message (limit unpublished)
    std::size_t fallback_chars = 2900;   // top-level `text`, a notification summary
};

struct rendered_part {
    boost::json::array blocks; // may be empty for a text-only message
    std::string text;          // top-level fallback `text` (escaped mrkdwn)
};

// One or more messages, in order. `notify`: user ids to mention in the first part (thread roots).
std::vector<rendered_part> render(const rich::message& m, const std::vector<std::string>& notify = {},
                                  const render_limits& limits = {});

// Escapes user text for a mrkdwn text object: &, <, > as entities; mrkdwn markers that could
// start formatting and @here/@channel/@everyone words defused with invisible joiners.
std::string escape_mrkdwn(std::string_view text);
// Escapes text for a plain_text object (entities only).
std::string escape_plain(std::string_view text);
// Cuts `s` into pieces of at most `limit` bytes, at a newline or space where possible, never
// inside an entity, a <…> token or a UTF-8 sequence. Nothing is dropped.
std::vector<std::string> split_text(std::string_view s, std::size_t limit);

} // namespace pm::adapters::slack

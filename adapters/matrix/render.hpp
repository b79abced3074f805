// The core's rich-text model → Matrix m.room.message contents (protocols/matrix.md §3, §5):
// `m.notice` with a plain `body` and an `org.matrix.custom.html` `formatted_body`. Every text span
// is escaped, so user-written text can never become markup, a link, a pill or an @room; only the
// bot's own mention spans become pills, and only `notify` fills `m.mentions`, which every event
// carries (an empty object when nobody is to be notified, so a typed "@room" never pings).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conversations/richtext.hpp"

namespace pm::adapters::matrix {

struct render_options {
    std::string own_user_id;         // never listed in m.mentions
    std::vector<std::string> notify; // user ids to notify (first event only)
    std::string thread_root;         // non-empty: every event goes into this thread
    // Budget for one event's serialized content. A whole event (ids, signatures, hashes) must be
    // at most 65536 bytes; the rest is left for those.
    std::size_t max_content_bytes = 56 * 1024;
};

// One or more event contents, in order; several only when one would exceed the budget. Text is
// split at block, item, line and finally UTF-8 character boundaries, never dropped.
std::vector<boost::json::object> render(const rich::message& msg, const render_options& opt);

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view s);
// The pill for a user: <a href="https://matrix.to/#/@id">name</a>, everything escaped.
std::string pill(std::string_view user_id, std::string_view name);

// The content of an m.file event for an uploaded attachment.
boost::json::object file_content(const std::string& file_name, const std::string& mxc_uri, std::size_t size,
                                 const std::string& mimetype, const std::string& thread_root);

} // namespace pm::adapters::matrix

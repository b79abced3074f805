// Matrix wire parsing, apart from sockets (protocols/matrix.md §2, §3, §6, §7): a /sync response
// into a validated batch, a /messages page into events, and one room event into a chat_event.
// Nothing from the wire is trusted: every field is checked for its type, and a bad field drops
// only the event it is in, with a reason a person can read.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"

namespace pm::adapters::matrix {

// One room event as received (timeline, state or /messages chunk), with the fields the adapter
// reads checked for their types. `content` is kept whole for the message conversion.
struct room_event {
    std::string event_id;
    std::string type;
    std::string sender;
    std::optional<std::string> state_key;
    std::int64_t origin_server_ts = 0;
    boost::json::object content;
    bool redacted = false; // unsigned.redacted_because present
};

struct invite {
    std::string room_id;
    std::string inviter;    // sender of the bot's invite member event ("" when not visible)
    std::string room_name;  // m.room.name from the stripped state, if any
    bool is_direct = false; // the invite member event's is_direct
};

struct joined_room {
    std::string room_id;
    bool limited = false;
    std::string prev_batch;                          // may be empty (some servers omit it)
    std::vector<room_event> state;                   // state before the timeline (never new messages)
    std::vector<room_event> timeline;                // in order
    std::optional<std::int64_t> joined_member_count; // summary m.joined_member_count
};

struct sync_batch {
    std::string next_batch;
    std::vector<std::string> left;                                         // rooms.leave
    std::vector<invite> invites;                                           // rooms.invite
    std::vector<joined_room> joined;                                       // rooms.join, in response order
    std::optional<std::map<std::string, std::vector<std::string>>> direct; // account_data m.direct
    std::vector<std::string> warnings; // events dropped for bad fields, one line each
};

template <class T> struct parsed {
    std::optional<T> value;
    std::string error; // set when value is empty
};

// The whole response body of GET /sync. A body that is not JSON, not an object, or lacks a string
// `next_batch` is an error; a malformed room or event is dropped with a warning.
parsed<sync_batch> parse_sync(std::string_view body);

// GET /rooms/{roomId}/messages: the chunk (in the order given) and `end` (empty when absent).
struct messages_page {
    std::vector<room_event> chunk;
    std::string end;
};
parsed<messages_page> parse_messages(std::string_view body);

// An m.direct account-data content: user id → room ids; entries of the wrong type are skipped.
std::map<std::string, std::vector<std::string>> parse_direct(const boost::json::object& content);

// What the converter knows about the room an event is in.
struct room_context {
    std::string room_id;
    bool is_dm = false;
    std::map<std::string, std::string> names; // user id → display name (room members)
};

struct convert_options {
    std::string own_user_id;
    std::string command = "postmortem"; // `!postmortem …` and `/postmortem …`
};

// Why a room event gives no chat_event (for logs and tests). `none` with a value: converted.
enum class skip { none, not_message, own_echo, notice, redacted, bad_event, encrypted, empty, edit_invalid };
const char* to_string(skip s);

struct converted {
    std::optional<chat_event> event;
    skip why = skip::none;
    std::string detail; // bad_event: which field
};

// One timeline event → chat_event, following protocols/matrix.md §3: text from the HTML
// formatted_body when present (pills become `<@MXID>` with the pill text as the name; a pill wins
// over the display name in body), else from body (bare MXIDs become mentions; display names of
// users in m.mentions.user_ids become mentions); legacy reply fallbacks stripped; edits carry
// edit_of and the new content and never start commands; threads give a thread place.
converted to_chat_event(const room_event& ev, const room_context& room, const convert_options& opt);

// Parses one JSON room event (as in a timeline) into room_event; error text when malformed.
parsed<room_event> parse_room_event(const boost::json::value& v);

// Helpers shared with the renderer and tests.
// Decodes the HTML of a formatted_body into text, pills → `<@MXID>`; fills `pills` id → name.
std::string html_to_text(std::string_view html, std::map<std::string, std::string>& pills);
// The MXID a matrix.to link names (percent-decoded), or "" when it is not a user link.
std::string user_from_matrix_to(std::string_view href);

} // namespace pm::adapters::matrix

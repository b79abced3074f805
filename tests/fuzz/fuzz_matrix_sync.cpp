// Matrix client-server bodies: a /sync response (rooms, invites, leaves, m.direct, timelines and
// state), the same bytes as a /messages page and as one room event, and every event so found
// converted to a chat event the way the adapter does, then quoted back. Checks: parsing never
// throws; a converted event has the sender as user, the room as channel, and mentions that are
// MXIDs other than the bot's; an edit is never a command; quoting the text renders nothing that
// notifies or links.
#include <boost/json/parse.hpp>

#include <cstdint>
#include <string>

#include "adapters/matrix/sync.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace pm::adapters::matrix;

const std::string own = "@pmbot:example.org";

void convert(const room_event& ev, const room_context& room, std::string_view input) {
    convert_options opt;
    opt.own_user_id = own;
    auto c = to_chat_event(ev, room, opt);
    if (!c.event) {
        pm::fuzz::check(c.why != skip::none, "no event but no reason", input);
        return;
    }
    const auto& ce = *c.event;
    pm::fuzz::check(ce.platform == "matrix" && ce.user.id == ev.sender && ce.where.channel == room.room_id,
                    "a converted event with the wrong user or room", input);
    pm::fuzz::check(ev.sender != own, "our own echo became an event", input);
    pm::fuzz::check(!(ce.is_command && ce.edit_of), "an edit started a command", input);
    for (const auto& m : ce.mentions)
        pm::fuzz::check(m.id.size() >= 4 && m.id[0] == '@' && m.id.find(':') != std::string::npos &&
                            m.id != own,
                        "a mention that is not another user's MXID", input);
    pm::fuzz::matrix_render_is_inert(ce.text);
    pm::fuzz::slack_render_is_inert(ce.text);
}

void convert_room(const joined_room& r, bool dm, std::string_view input) {
    room_context room;
    room.room_id = r.room_id;
    room.is_dm = dm;
    // Display names from the member events, as the adapter learns them.
    for (const auto* list : {&r.state, &r.timeline})
        for (const auto& ev : *list)
            if (ev.type == "m.room.member" && ev.state_key)
                if (auto it = ev.content.find("displayname");
                    it != ev.content.end() && it->value().is_string())
                    room.names[*ev.state_key] = std::string(it->value().get_string());
    for (const auto& ev : r.timeline)
        convert(ev, room, input);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto sync = parse_sync(text);
    pm::fuzz::check(sync.value.has_value() != !sync.error.empty(), "a sync result with both or neither",
                    text);
    if (sync.value) {
        pm::fuzz::check(!sync.value->next_batch.empty(), "a sync batch without next_batch", text);
        bool dm = true;
        for (const auto& r : sync.value->joined) {
            convert_room(r, dm, text);
            dm = !dm;
        }
    }

    auto page = parse_messages(text);
    pm::fuzz::check(page.value.has_value() != !page.error.empty(), "a messages result with both or neither",
                    text);
    if (page.value) {
        joined_room r;
        r.room_id = "!room:example.org";
        r.timeline = page.value->chunk;
        convert_room(r, false, text);
    }

    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (!ec) {
        auto ev = parse_room_event(v);
        if (ev.value) {
            joined_room r;
            r.room_id = "!room:example.org";
            r.timeline.push_back(*ev.value);
            convert_room(r, true, text);
        }
        if (v.is_object()) parse_direct(v.get_object());
    }
    return 0;
}

#include "adapters/slack/envelope.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace pm::adapters::slack {

namespace json = boost::json;

namespace {

// Field access that never throws: a missing or mistyped field reads as empty.
std::string str(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return {};
    return std::string(it->value().get_string());
}

const json::object* obj(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object()) return nullptr;
    return &it->value().get_object();
}

bool flag(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
    // Only a double that fits: converting 1e300 (or NaN) to an integer is undefined.
    if (it->value().is_double() && it->value().get_double() > -9.0e18 && it->value().get_double() < 9.0e18)
        return static_cast<std::int64_t>(it->value().get_double());
    return std::nullopt;
}

bool is_slack_id(std::string_view s) {
    return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isupper(c) || std::isdigit(c);
    });
}

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '&') {
            if (s.substr(i, 4) == "&lt;") {
                out += '<';
                i += 4;
                continue;
            }
            if (s.substr(i, 4) == "&gt;") {
                out += '>';
                i += 4;
                continue;
            }
            if (s.substr(i, 5) == "&amp;") {
                out += '&';
                i += 5;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// Place of a message: DM channels start with D; a reply has thread_ts != ts.
place place_of(const std::string& channel, const std::string& channel_type, const std::string& ts,
               const std::string& thread_ts) {
    place p;
    p.channel = channel;
    bool dm = channel_type == "im" || (!channel.empty() && channel.front() == 'D');
    if (!thread_ts.empty() && thread_ts != ts) p.thread_root = thread_ts;
    p.k = dm ? place::kind::dm : (p.thread_root.empty() ? place::kind::channel : place::kind::thread);
    return p;
}

// `<@BOT> postmortem args` → args. Returns nullopt when the text is not such a command.
std::optional<std::string_view> bot_command(std::string_view text, const parse_context& ctx) {
    if (ctx.self_user_id.empty()) return std::nullopt;
    std::string_view t = text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front())))
        t.remove_prefix(1);
    std::string m = "<@" + ctx.self_user_id;
    if (t.substr(0, m.size()) != m) return std::nullopt;
    auto close = t.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    if (close != m.size() && t[m.size()] != '|') return std::nullopt;
    t.remove_prefix(close + 1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front())))
        t.remove_prefix(1);
    if (t.size() < ctx.command_word.size()) return std::nullopt;
    for (std::size_t i = 0; i < ctx.command_word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(t[i])) != ctx.command_word[i]) return std::nullopt;
    t.remove_prefix(ctx.command_word.size());
    if (!t.empty() && !std::isspace(static_cast<unsigned char>(t.front()))) return std::nullopt;
    return t;
}

frame ignored(frame f, std::string note) {
    f.note = std::move(note);
    f.event.reset();
    return f;
}

void fill_message_text(chat_event& ev, std::string_view raw, const parse_context& ctx) {
    if (auto args = bot_command(raw, ctx)) {
        ev.is_command = true;
        ev.text = trim(normalize_text(*args, &ev.mentions));
    } else {
        ev.text = normalize_text(raw, &ev.mentions);
    }
}

frame parse_events_api(frame f, const json::object& payload, const parse_context& ctx) {
    const json::object* e = obj(payload, "event");
    if (!e) return ignored(f, "events_api payload without an event object");
    std::string type = str(*e, "type");
    std::string event_id = str(payload, "event_id");
    if (event_id.empty()) event_id = f.envelope_id;
    if (type == "app_mention" && !ctx.commands_from_app_mention)
        return ignored(f, "app_mention (commands are taken from the message event)");
    if (type != "message" && type != "app_mention") return ignored(f, "event type '" + type + "' not used");

    std::string subtype = str(*e, "subtype");
    std::string channel = str(*e, "channel");
    std::string channel_type = str(*e, "channel_type");
    chat_event ev;
    ev.platform = "slack";
    ev.event_id = event_id;

    if (subtype == "message_deleted") return ignored(f, "message_deleted (answers are kept)");
    if (subtype == "message_changed") {
        const json::object* m = obj(*e, "message");
        if (!m) return ignored(f, "message_changed without a message");
        if (!str(*m, "bot_id").empty() || str(*m, "subtype") == "bot_message")
            return ignored(f, "edit of a bot message");
        std::string user = str(*m, "user");
        if (user.empty() || user == ctx.self_user_id) return ignored(f, "edit without a user, or our own");
        if (const json::object* prev = obj(*e, "previous_message"))
            if (str(*prev, "text") == str(*m, "text"))
                return ignored(f, "message_changed with unchanged text");
        std::string ts = str(*m, "ts");
        if (ts.empty() || channel.empty()) return ignored(f, "message_changed without ts or channel");
        ev.user.id = user;
        ev.where = place_of(channel, channel_type, ts, str(*m, "thread_ts"));
        ev.message_ref = ts;
        ev.edit_of = ts;
        ev.time = ts_to_time(str(*e, "ts").empty() ? ts : str(*e, "ts"));
        fill_message_text(ev, str(*m, "text"), ctx);
        f.event = std::move(ev);
        return f;
    }
    if (!subtype.empty() && subtype != "thread_broadcast" && subtype != "file_share")
        return ignored(f, "message subtype '" + subtype + "' ignored");
    if (flag(*e, "hidden")) return ignored(f, "hidden message ignored");
    if (!str(*e, "bot_id").empty()) return ignored(f, "message from a bot");
    std::string user = str(*e, "user");
    if (user.empty()) return ignored(f, "message without a user");
    if (user == ctx.self_user_id) return ignored(f, "our own message");
    std::string ts = str(*e, "ts");
    if (ts.empty() || channel.empty()) return ignored(f, "message without ts or channel");
    ev.user.id = user;
    ev.where = place_of(channel, channel_type, ts, str(*e, "thread_ts"));
    ev.message_ref = ts;
    ev.time = ts_to_time(ts);
    fill_message_text(ev, str(*e, "text"), ctx);
    f.event = std::move(ev);
    return f;
}

frame parse_slash(frame f, const json::object& payload, const parse_context& ctx) {
    std::string command = str(payload, "command");
    if (command != ctx.command) return ignored(f, "slash command '" + command + "' is not ours");
    std::string user = str(payload, "user_id");
    std::string channel = str(payload, "channel_id");
    if (user.empty() || channel.empty()) return ignored(f, "slash command without user_id or channel_id");
    chat_event ev;
    ev.platform = "slack";
    ev.event_id = f.envelope_id;
    ev.user.id = user;
    ev.user.name = str(payload, "user_name");
    ev.where = place_of(channel, channel.front() == 'D' ? "im" : "channel", "", "");
    ev.is_command = true;
    ev.text = trim(normalize_text(str(payload, "text"), &ev.mentions));
    ev.response_url = str(payload, "response_url");
    f.event = std::move(ev);
    return f;
}

frame parse_interactive(frame f, const json::object& payload) {
    std::string type = str(payload, "type");
    if (type != "block_actions") return ignored(f, "interactive '" + type + "' not used");
    const json::object* user = obj(payload, "user");
    auto ait = payload.find("actions");
    if (!user || ait == payload.end() || !ait->value().is_array() || ait->value().get_array().empty() ||
        !ait->value().get_array().front().is_object())
        return ignored(f, "block_actions without user or actions");
    const json::object& action = ait->value().get_array().front().get_object();
    std::string action_id = str(action, "action_id");
    if (action_id.rfind("pm_", 0) != 0) return ignored(f, "action '" + action_id + "' is not ours");
    std::string value = str(action, "value");
    if (value.empty()) value = action_id.substr(3);
    // The value becomes text the bot parses: only a short plain word is accepted.
    if (value.size() > 32 || !std::all_of(value.begin(), value.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '-';
        }))
        return ignored(f, "action value is not a plain word");

    std::string channel, message_ts, thread_ts;
    if (const json::object* c = obj(payload, "container")) {
        channel = str(*c, "channel_id");
        message_ts = str(*c, "message_ts");
    }
    if (channel.empty())
        if (const json::object* c = obj(payload, "channel")) channel = str(*c, "id");
    if (const json::object* m = obj(payload, "message")) {
        thread_ts = str(*m, "thread_ts");
        if (message_ts.empty()) message_ts = str(*m, "ts");
    }
    if (channel.empty() || str(*user, "id").empty()) return ignored(f, "block_actions outside a message");
    chat_event ev;
    ev.platform = "slack";
    ev.event_id = f.envelope_id;
    ev.user.id = str(*user, "id");
    ev.user.name = str(*user, "username");
    // The press answers where the button's message is: its thread, or the channel / DM.
    ev.where = place_of(channel, "", message_ts, thread_ts);
    std::string action_ts = str(action, "action_ts");
    ev.message_ref = action_ts;
    ev.time = ts_to_time(action_ts);
    ev.text = value;
    ev.response_url = str(payload, "response_url");
    f.event = std::move(ev);
    return f;
}

} // namespace

sys_millis ts_to_time(std::string_view ts) {
    auto dot = ts.find('.');
    std::string_view secs = ts.substr(0, dot);
    if (secs.empty() || secs.size() > 12 ||
        !std::all_of(secs.begin(), secs.end(), [](unsigned char c) { return std::isdigit(c); }))
        return sys_millis{};
    long long ms = std::stoll(std::string(secs)) * 1000;
    if (dot != std::string_view::npos) {
        std::string_view frac = ts.substr(dot + 1, 3);
        long long scale = 100;
        for (char c : frac) {
            if (!std::isdigit(static_cast<unsigned char>(c))) break;
            ms += (c - '0') * scale;
            scale /= 10;
        }
    }
    return sys_millis{std::chrono::milliseconds(ms)};
}

std::string normalize_text(std::string_view s, std::vector<user_ref>* mentions) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        auto lt = s.find('<', i);
        if (lt == std::string_view::npos) {
            out += decode_entities(s.substr(i));
            break;
        }
        out += decode_entities(s.substr(i, lt - i));
        auto gt = s.find('>', lt + 1);
        auto next_lt = s.find('<', lt + 1);
        if (gt == std::string_view::npos || (next_lt != std::string_view::npos && next_lt < gt)) {
            out += '<'; // a lone '<' (Slack would have encoded it; keep it literal)
            i = lt + 1;
            continue;
        }
        std::string_view tok = s.substr(lt + 1, gt - lt - 1);
        i = gt + 1;
        std::string_view body = tok, label;
        if (auto bar = tok.find('|'); bar != std::string_view::npos) {
            body = tok.substr(0, bar);
            label = tok.substr(bar + 1);
        }
        if (!body.empty() && body.front() == '@' && is_slack_id(body.substr(1))) {
            std::string id(body.substr(1));
            out += "<@" + id + ">";
            if (mentions) {
                auto it = std::find_if(mentions->begin(), mentions->end(),
                                       [&](const user_ref& u) { return u.id == id; });
                if (it == mentions->end())
                    mentions->push_back(user_ref{id, decode_entities(label)});
                else if (it->name.empty())
                    it->name = decode_entities(label);
            }
        } else if (!body.empty() && body.front() == '#') {
            out += "#" + (label.empty() ? std::string(body.substr(1)) : decode_entities(label));
        } else if (!body.empty() && body.front() == '!') {
            // Special mentions become inert words; the renderer neutralizes them again on output.
            if (!label.empty()) {
                out += decode_entities(label);
            } else {
                std::string_view w = body.substr(1);
                out += "@" + decode_entities(w.substr(0, w.find('^')));
            }
        } else if (!label.empty() && decode_entities(label) != decode_entities(body) &&
                   "mailto:" + decode_entities(label) != decode_entities(body)) {
            out += decode_entities(label) + " (" + decode_entities(body) + ")";
        } else {
            out += decode_entities(label.empty() ? body : label);
        }
    }
    return out;
}

frame parse_frame(std::string_view text, const parse_context& ctx) {
    frame f;
    boost::system::error_code ec;
    json::parse_options po;
    po.max_depth = 64;
    // The tree lives only while the frame is read: taken from a buffer on the stack (and more
    // if a frame needs it) and dropped at once, instead of one heap block per value.
    unsigned char scratch[1024];
    unsigned char tree[8192];
    json::monotonic_resource mr(tree, sizeof tree);
    json::parser p(json::storage_ptr(), po, scratch, sizeof scratch);
    p.reset(&mr);
    p.write(text.data(), text.size(), ec);
    json::value v = ec ? json::value() : p.release();
    if (ec) {
        f.note = "not valid JSON: " + ec.message();
        return f;
    }
    if (!v.is_object()) {
        f.note = "frame is not a JSON object";
        return f;
    }
    const json::object& o = v.get_object();
    f.type = str(o, "type");
    f.envelope_id = str(o, "envelope_id");
    if (f.type == "hello") {
        f.k = frame::kind::hello;
        f.num_connections = static_cast<int>(integer(o, "num_connections").value_or(0));
        if (const json::object* d = obj(o, "debug_info"))
            if (auto t = integer(*d, "approximate_connection_time"); t && *t > 0)
                f.approximate_connection_time = std::chrono::seconds(*t);
        return f;
    }
    if (f.type == "disconnect") {
        f.k = frame::kind::disconnect;
        f.reason = str(o, "reason");
        return f;
    }
    if (f.type != "events_api" && f.type != "slash_commands" && f.type != "interactive") {
        f.k = frame::kind::unknown;
        f.note = f.type.empty() ? "frame without a type" : "unknown frame type '" + f.type + "'";
        return f;
    }
    if (f.envelope_id.empty()) {
        f.note = f.type + " envelope without envelope_id";
        return f;
    }
    f.accepts_response_payload = flag(o, "accepts_response_payload");
    f.retry_attempt = static_cast<int>(integer(o, "retry_attempt").value_or(0));
    f.retry_reason = str(o, "retry_reason");
    const json::object* payload = obj(o, "payload");
    if (!payload) {
        f.k = frame::kind::malformed;
        f.note = f.type + " envelope without a payload object";
        return f;
    }
    f.k = frame::kind::envelope;
    if (f.type == "events_api") return parse_events_api(std::move(f), *payload, ctx);
    if (f.type == "slash_commands") return parse_slash(std::move(f), *payload, ctx);
    return parse_interactive(std::move(f), *payload);
}

} // namespace pm::adapters::slack

#include "adapters/matrix/sync.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

#include "conversations/text.hpp"

namespace pm::adapters::matrix {

namespace json = boost::json;

namespace {

const json::value* field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
}

std::string str(const json::object& o, std::string_view key) {
    auto* v = field(o, key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* obj(const json::object& o, std::string_view key) {
    auto* v = field(o, key);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* arr(const json::object& o, std::string_view key) {
    auto* v = field(o, key);
    return v && v->is_array() ? &v->get_array() : nullptr;
}

std::optional<std::int64_t> integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double() && v.get_double() >= 0 && v.get_double() < 9.0e18)
        return static_cast<std::int64_t>(v.get_double());
    return std::nullopt;
}

using conv::text::lower;
using conv::text::trim;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void append_utf8(std::string& out, unsigned long cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Decodes the character references a formatted_body may use; unknown ones stay literal.
std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        auto semi = s.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out += '&';
            continue;
        }
        auto name = s.substr(i + 1, semi - i - 1);
        std::string rep;
        if (name == "amp")
            rep = "&";
        else if (name == "lt")
            rep = "<";
        else if (name == "gt")
            rep = ">";
        else if (name == "quot")
            rep = "\"";
        else if (name == "apos")
            rep = "'";
        else if (name == "nbsp")
            rep = " ";
        else if (name.size() > 1 && name[0] == '#') {
            bool hex = name[1] == 'x' || name[1] == 'X';
            auto digits = name.substr(hex ? 2 : 1);
            unsigned long cp = 0;
            bool ok = !digits.empty();
            for (char c : digits) {
                int d = std::isdigit(static_cast<unsigned char>(c))           ? c - '0'
                        : hex && std::isxdigit(static_cast<unsigned char>(c)) ? (std::tolower(c) - 'a' + 10)
                                                                              : -1;
                if (d < 0 || cp > 0x10FFFF) {
                    ok = false;
                    break;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
            }
            if (ok) append_utf8(rep, cp);
        }
        if (rep.empty()) {
            out += '&';
            continue;
        }
        out += rep;
        i = semi;
    }
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool valid_mxid(std::string_view id) {
    if (id.size() < 4 || id.size() > 255 || id[0] != '@') return false;
    auto colon = id.find(':');
    if (colon == std::string_view::npos || colon == 1 || colon + 1 == id.size()) return false;
    for (char c : id)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == '/' ||
            c == '\\')
            return false;
    return true;
}

bool localpart_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '=' || c == '-' ||
           c == '+';
}

bool server_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
}

// Bare MXIDs typed in plain text ("@alice:example.org") become mentions; existing `<@…>` stay.
std::string mark_bare_mxids(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '@') {
            auto close = s.find('>', i);
            if (close != std::string_view::npos) {
                out.append(s.substr(i, close - i + 1));
                i = close + 1;
                continue;
            }
        }
        bool word_start = i == 0 || is_space(s[i - 1]) || s[i - 1] == '(' || s[i - 1] == ',';
        if (s[i] == '@' && word_start) {
            std::size_t j = i + 1;
            while (j < s.size() && localpart_char(s[j]))
                ++j;
            if (j > i + 1 && j < s.size() && s[j] == ':') {
                std::size_t k = j + 1;
                while (k < s.size() && server_char(s[k]))
                    ++k;
                while (k > j + 1 && (s[k - 1] == '.' || s[k - 1] == ':' || s[k - 1] == '-'))
                    --k;
                if (k > j + 1) {
                    out += "<@";
                    out.append(s.substr(i, k - i));
                    out += '>';
                    i = k;
                    continue;
                }
            }
        }
        out += s[i++];
    }
    return out;
}

// Legacy rich-reply fallback: leading "> " lines, then one blank line (protocols/matrix.md §3).
std::string strip_reply_fallback(std::string_view body) {
    if (body.substr(0, 2) != "> " && body.substr(0, 1) != ">") return std::string(body);
    std::size_t pos = 0;
    while (pos < body.size() && body[pos] == '>') {
        auto nl = body.find('\n', pos);
        if (nl == std::string_view::npos) return {};
        pos = nl + 1;
    }
    if (pos < body.size() && body[pos] == '\n') ++pos;
    return std::string(body.substr(pos));
}

} // namespace

const char* to_string(skip s) {
    switch (s) {
    case skip::none:
        return "converted";
    case skip::not_message:
        return "not a text message";
    case skip::own_echo:
        return "own echo";
    case skip::notice:
        return "m.notice (bot output)";
    case skip::redacted:
        return "redacted";
    case skip::bad_event:
        return "malformed event";
    case skip::encrypted:
        return "encrypted";
    case skip::empty:
        return "empty text";
    case skip::edit_invalid:
        return "invalid edit";
    }
    return "?";
}

std::string user_from_matrix_to(std::string_view href) {
    constexpr std::string_view prefix = "https://matrix.to/#/";
    if (href.substr(0, prefix.size()) != prefix) return {};
    auto rest = href.substr(prefix.size());
    auto end = rest.find_first_of("?/");
    // "@user:server/…" is not a user link; "%40user%3Aserver" is.
    if (end != std::string_view::npos && rest[end] == '/') return {};
    auto id = percent_decode(rest.substr(0, end));
    return valid_mxid(id) ? id : std::string();
}

std::string html_to_text(std::string_view html, std::map<std::string, std::string>& pills) {
    std::string out;
    std::string pill_id;   // inside a user pill: its MXID
    std::string pill_text; // and its text so far
    int skip_depth = 0;    // inside <mx-reply>
    auto newline = [&] {
        if (!out.empty() && out.back() != '\n') out += '\n';
    };
    for (std::size_t i = 0; i < html.size();) {
        if (html[i] != '<') {
            auto next = html.find('<', i);
            auto chunk = html.substr(i, next == std::string_view::npos ? html.size() - i : next - i);
            i += chunk.size();
            if (skip_depth > 0) continue;
            if (!pill_id.empty())
                pill_text += decode_entities(chunk);
            else
                out += decode_entities(chunk);
            continue;
        }
        // A tag: find its end outside quoted attribute values.
        std::size_t j = i + 1;
        char quote = 0;
        while (j < html.size() && (quote || html[j] != '>')) {
            if (quote && html[j] == quote)
                quote = 0;
            else if (!quote && (html[j] == '"' || html[j] == '\''))
                quote = html[j];
            ++j;
        }
        auto tag = html.substr(i + 1, j - i - 1);
        i = j < html.size() ? j + 1 : j;
        bool closing = !tag.empty() && tag[0] == '/';
        if (closing) tag.remove_prefix(1);
        std::size_t n = 0;
        while (n < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[n])) || tag[n] == '-'))
            ++n;
        auto name = lower(tag.substr(0, n));
        if (name == "mx-reply") {
            skip_depth += closing ? (skip_depth > 0 ? -1 : 0) : 1;
            continue;
        }
        if (skip_depth > 0) continue;
        if (name == "a" && !closing && pill_id.empty()) {
            // href="…" (or '…'), attributes in any order.
            auto attrs = tag.substr(n);
            auto h = lower(attrs).find("href=");
            if (h != std::string::npos) {
                auto v = attrs.substr(h + 5);
                std::string href;
                if (!v.empty() && (v[0] == '"' || v[0] == '\'')) {
                    auto e = v.find(v[0], 1);
                    href = std::string(v.substr(1, e == std::string_view::npos ? v.size() - 1 : e - 1));
                } else {
                    auto e = v.find_first_of(" \t\n/");
                    href = std::string(v.substr(0, e));
                }
                auto id = user_from_matrix_to(decode_entities(href));
                if (!id.empty()) {
                    pill_id = id;
                    pill_text.clear();
                }
            }
            continue;
        }
        if (name == "a" && closing && !pill_id.empty()) {
            auto t = std::string(trim(pill_text));
            if (!t.empty() && t[0] == '@' && t.find(':') == std::string::npos) t.erase(0, 1);
            if (!pills.count(pill_id) || pills[pill_id].empty()) pills[pill_id] = t;
            out += "<@" + pill_id + ">";
            pill_id.clear();
            continue;
        }
        if (name == "br")
            newline();
        else if (closing && (name == "p" || name == "div" || name == "li" || name == "blockquote" ||
                             name == "pre" || name == "tr" || (name.size() == 2 && name[0] == 'h')))
            newline();
        else if (!closing && (name == "li" || name == "p" || name == "ul" || name == "ol"))
            newline();
    }
    if (!pill_id.empty()) out += pill_text; // an unclosed pill stays text
    return std::string(trim(out));
}

parsed<room_event> parse_room_event(const json::value& v) {
    if (!v.is_object()) return {std::nullopt, "event is not an object"};
    const auto& o = v.get_object();
    room_event e;
    auto need = [&](std::string_view key, std::string& into) -> bool {
        auto* f = field(o, key);
        if (!f || !f->is_string() || f->get_string().empty()) return false;
        into = std::string(f->get_string());
        return true;
    };
    if (!need("event_id", e.event_id)) return {std::nullopt, "event_id missing or not a string"};
    if (!need("type", e.type))
        return {std::nullopt, "event " + e.event_id + ": type missing or not a string"};
    if (!need("sender", e.sender))
        return {std::nullopt, "event " + e.event_id + ": sender missing or not a string"};
    if (auto* ts = field(o, "origin_server_ts")) {
        auto n = integer(*ts);
        if (!n) return {std::nullopt, "event " + e.event_id + ": origin_server_ts is not a number"};
        e.origin_server_ts = *n;
    }
    if (auto* sk = field(o, "state_key")) {
        if (!sk->is_string()) return {std::nullopt, "event " + e.event_id + ": state_key is not a string"};
        e.state_key = std::string(sk->get_string());
    }
    if (auto* c = field(o, "content")) {
        if (!c->is_object()) return {std::nullopt, "event " + e.event_id + ": content is not an object"};
        e.content = c->get_object();
    }
    if (auto* u = obj(o, "unsigned")) e.redacted = field(*u, "redacted_because") != nullptr;
    return {std::move(e), {}};
}

std::map<std::string, std::vector<std::string>> parse_direct(const json::object& content) {
    std::map<std::string, std::vector<std::string>> r;
    for (const auto& [user, rooms] : content) {
        if (!rooms.is_array()) continue;
        for (const auto& room : rooms.get_array())
            if (room.is_string() && !room.get_string().empty())
                r[std::string(user)].emplace_back(room.get_string());
    }
    return r;
}

namespace {

void parse_events(const json::object* holder, std::vector<room_event>& into, std::vector<std::string>& warn,
                  const std::string& where) {
    if (!holder) return;
    auto* evs = field(*holder, "events");
    if (!evs) return;
    if (!evs->is_array()) {
        warn.push_back(where + ": events is not an array");
        return;
    }
    for (const auto& v : evs->get_array()) {
        auto p = parse_room_event(v);
        if (p.value)
            into.push_back(std::move(*p.value));
        else
            warn.push_back(where + ": " + p.error);
    }
}

json::value parse_json(std::string_view body, std::string& error) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) error = "not JSON (" + ec.message() + ")";
    return v;
}

} // namespace

parsed<sync_batch> parse_sync(std::string_view body) {
    std::string err;
    auto v = parse_json(body, err);
    if (!err.empty()) return {std::nullopt, "sync response is " + err};
    if (!v.is_object()) return {std::nullopt, "sync response is not a JSON object"};
    const auto& top = v.get_object();
    sync_batch b;
    auto* nb = field(top, "next_batch");
    if (!nb || !nb->is_string() || nb->get_string().empty())
        return {std::nullopt, "sync response has no string next_batch"};
    b.next_batch = std::string(nb->get_string());

    if (auto* ad = obj(top, "account_data"))
        if (auto* evs = arr(*ad, "events"))
            for (const auto& e : *evs)
                if (e.is_object() && str(e.get_object(), "type") == "m.direct")
                    if (auto* c = obj(e.get_object(), "content")) b.direct = parse_direct(*c);

    auto* rooms_v = field(top, "rooms");
    if (!rooms_v) return {std::move(b), {}};
    if (!rooms_v->is_object()) {
        b.warnings.push_back("rooms is not an object");
        return {std::move(b), {}};
    }
    const auto& rooms = rooms_v->get_object();

    if (auto* leave = obj(rooms, "leave"))
        for (const auto& [id, r] : *leave)
            b.left.emplace_back(id);

    if (auto* inv = obj(rooms, "invite")) {
        for (const auto& [id, r] : *inv) {
            invite in;
            in.room_id = std::string(id);
            if (r.is_object())
                if (auto* st = obj(r.get_object(), "invite_state"))
                    if (auto* evs = arr(*st, "events"))
                        for (const auto& e : *evs) {
                            if (!e.is_object()) continue;
                            const auto& eo = e.get_object();
                            auto type = str(eo, "type");
                            auto* c = obj(eo, "content");
                            if (!c) continue;
                            if (type == "m.room.name") in.room_name = str(*c, "name");
                            if (type == "m.room.member" && str(*c, "membership") == "invite") {
                                in.inviter = str(eo, "sender");
                                auto* d = field(*c, "is_direct");
                                in.is_direct = d && d->is_bool() && d->get_bool();
                            }
                        }
            b.invites.push_back(std::move(in));
        }
    }

    if (auto* join_v = field(rooms, "join")) {
        if (!join_v->is_object()) {
            b.warnings.push_back("rooms.join is not an object");
        } else {
            for (const auto& [id, r] : join_v->get_object()) {
                std::string where = "room " + std::string(id);
                if (!r.is_object()) {
                    b.warnings.push_back(where + " is not an object");
                    continue;
                }
                const auto& ro = r.get_object();
                joined_room jr;
                jr.room_id = std::string(id);
                if (auto* tl = obj(ro, "timeline")) {
                    auto* lim = field(*tl, "limited");
                    jr.limited = lim && lim->is_bool() && lim->get_bool();
                    jr.prev_batch = str(*tl, "prev_batch");
                    parse_events(tl, jr.timeline, b.warnings, where + " timeline");
                }
                parse_events(obj(ro, "state"), jr.state, b.warnings, where + " state");
                // v1.16 state_after: the state at the timeline's end; fine for names and flags.
                parse_events(obj(ro, "state_after"), jr.state, b.warnings, where + " state_after");
                if (auto* sum = obj(ro, "summary"))
                    if (auto* n = field(*sum, "m.joined_member_count")) jr.joined_member_count = integer(*n);
                b.joined.push_back(std::move(jr));
            }
        }
    }
    return {std::move(b), {}};
}

parsed<messages_page> parse_messages(std::string_view body) {
    std::string err;
    auto v = parse_json(body, err);
    if (!err.empty()) return {std::nullopt, "messages response is " + err};
    if (!v.is_object()) return {std::nullopt, "messages response is not a JSON object"};
    const auto& o = v.get_object();
    messages_page p;
    auto* chunk = field(o, "chunk");
    if (!chunk || !chunk->is_array()) return {std::nullopt, "messages response has no chunk array"};
    for (const auto& e : chunk->get_array()) {
        auto ev = parse_room_event(e);
        if (ev.value) p.chunk.push_back(std::move(*ev.value));
    }
    p.end = str(o, "end");
    return {std::move(p), {}};
}

converted to_chat_event(const room_event& ev, const room_context& room, const convert_options& opt) {
    converted r;
    if (ev.type == "m.room.encrypted") {
        r.why = skip::encrypted;
        return r;
    }
    if (ev.type != "m.room.message" || ev.state_key) {
        r.why = skip::not_message;
        return r;
    }
    if (ev.sender == opt.own_user_id) {
        r.why = skip::own_echo;
        return r;
    }
    if (ev.redacted || ev.content.empty()) {
        r.why = skip::redacted;
        return r;
    }

    const json::object* content = &ev.content;
    std::optional<std::string> edit_of;
    std::optional<std::string> thread_root;
    if (auto* rel_v = field(ev.content, "m.relates_to")) {
        if (!rel_v->is_object()) {
            r.why = skip::bad_event;
            r.detail = "m.relates_to is not an object";
            return r;
        }
        const auto& rel = rel_v->get_object();
        auto rel_type = str(rel, "rel_type");
        auto target = str(rel, "event_id");
        if (rel_type == "m.replace") {
            auto* nc = obj(ev.content, "m.new_content");
            if (target.empty() || !nc) {
                r.why = skip::edit_invalid;
                r.detail = target.empty() ? "m.replace without event_id" : "m.replace without m.new_content";
                return r;
            }
            edit_of = target;
            content = nc;
        } else if (rel_type == "m.thread") {
            if (target.empty()) {
                r.why = skip::bad_event;
                r.detail = "m.thread without event_id";
                return r;
            }
            thread_root = target;
        }
    }

    auto* mt = field(*content, "msgtype");
    auto* body_v = field(*content, "body");
    if (!mt || !mt->is_string() || !body_v || !body_v->is_string()) {
        r.why = skip::bad_event;
        r.detail = "msgtype or body missing or not a string";
        return r;
    }
    std::string msgtype(mt->get_string());
    if (msgtype == "m.notice") {
        // Automated output: never answered, so two bots cannot loop (protocols/matrix.md §3).
        r.why = skip::notice;
        return r;
    }
    if (msgtype != "m.text" && msgtype != "m.emote") {
        r.why = skip::not_message;
        return r;
    }

    std::map<std::string, std::string> pills;
    std::string text;
    auto fmt = str(*content, "format");
    auto fb = str(*content, "formatted_body");
    if (fmt == "org.matrix.custom.html" && !fb.empty()) {
        text = html_to_text(fb, pills);
    } else {
        text = strip_reply_fallback(std::string(body_v->get_string()));
    }
    text = mark_bare_mxids(text);

    // m.mentions.user_ids without a pill: the display name typed in body becomes the mention.
    std::vector<std::string> mention_ids;
    if (auto* mm = obj(*content, "m.mentions"))
        if (auto* ids = arr(*mm, "user_ids"))
            for (const auto& id : *ids)
                if (id.is_string() && valid_mxid(id.get_string())) mention_ids.emplace_back(id.get_string());
    for (const auto& id : mention_ids) {
        if (text.find("<@" + id + ">") != std::string::npos) continue;
        auto it = room.names.find(id);
        if (it == room.names.end() || it->second.empty()) continue;
        for (const std::string& cand : {"@" + it->second, it->second}) {
            auto pos = text.find(cand);
            if (pos != std::string::npos) {
                text.replace(pos, cand.size(), "<@" + id + ">");
                break;
            }
        }
    }

    chat_event ce;
    ce.platform = "matrix";
    ce.event_id = ev.event_id;
    ce.message_ref = ev.event_id;
    ce.user.id = ev.sender;
    if (auto it = room.names.find(ev.sender); it != room.names.end()) ce.user.name = it->second;
    ce.where.channel = room.room_id;
    ce.where.k = room.is_dm ? place::kind::dm : place::kind::channel;
    if (thread_root) {
        ce.where.k = place::kind::thread;
        ce.where.thread_root = *thread_root;
    }
    ce.edit_of = edit_of;
    ce.time = sys_millis(millis(ev.origin_server_ts));

    // Mentions in order of appearance, each once, names from pills then room members.
    for (std::size_t pos = text.find("<@"); pos != std::string::npos; pos = text.find("<@", pos + 2)) {
        auto close = text.find('>', pos);
        if (close == std::string::npos) break;
        auto id = text.substr(pos + 2, close - pos - 2);
        if (!valid_mxid(id) || id == opt.own_user_id) continue;
        bool seen = std::any_of(ce.mentions.begin(), ce.mentions.end(), [&](auto& u) { return u.id == id; });
        if (seen) continue;
        user_ref u;
        u.id = id;
        if (auto p = pills.find(id); p != pills.end() && !p->second.empty())
            u.name = p->second;
        else if (auto n = room.names.find(id); n != room.names.end())
            u.name = n->second;
        ce.mentions.push_back(std::move(u));
    }

    auto t = trim(text);
    // Commands: `!postmortem …`, or `/postmortem …` when a client sent it as text. Edits never
    // start commands (protocols/matrix.md §3).
    if (!edit_of && (t.size() > opt.command.size()) && (t[0] == '!' || t[0] == '/')) {
        auto word = lower(t.substr(1, opt.command.size()));
        auto after = t.size() > opt.command.size() + 1 ? t[opt.command.size() + 1] : ' ';
        if (word == lower(opt.command) && is_space(after)) {
            ce.is_command = true;
            t = trim(t.substr(opt.command.size() + 1));
        }
    } else if (!edit_of && t.size() == opt.command.size() + 1 && (t[0] == '!' || t[0] == '/') &&
               lower(t.substr(1)) == lower(opt.command)) {
        ce.is_command = true;
        t = {};
    }
    ce.text = std::string(t);
    if (ce.text.empty() && !ce.is_command) {
        r.why = skip::empty;
        return r;
    }
    r.event = std::move(ce);
    return r;
}

} // namespace pm::adapters::matrix

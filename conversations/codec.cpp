#include "conversations/codec.hpp"

#include <boost/json.hpp>

namespace pm::conv {

namespace json = boost::json;

namespace {

std::string get_str(const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::value line_json(const rich::line& l) {
    json::array a;
    for (auto& s : l) {
        json::object o;
        o["t"] = s.text;
        if (s.k == rich::span::kind::mention) o["u"] = s.user_id;
        if (s.bold) o["b"] = true;
        if (s.italic) o["i"] = true;
        if (s.code) o["c"] = true;
        a.push_back(std::move(o));
    }
    return a;
}

rich::line line_from(const json::value& v) {
    rich::line l;
    if (!v.is_array()) return l;
    for (auto& x : v.get_array()) {
        if (!x.is_object()) continue;
        const auto& o = x.get_object();
        rich::span s;
        s.text = get_str(o, "t");
        if (o.contains("u")) s.k = rich::span::kind::mention, s.user_id = get_str(o, "u");
        s.bold = o.contains("b");
        s.italic = o.contains("i");
        s.code = o.contains("c");
        l.push_back(std::move(s));
    }
    return l;
}

constexpr const char* kinds[] = {"p", "h", "ul", "code", "hr"};
constexpr const char* dest_kinds[] = {"channel", "thread", "dm", "private_to"};

} // namespace

json::value to_json(const rich::message& m) {
    json::array blocks;
    for (auto& b : m.blocks) {
        json::object o;
        o["k"] = kinds[static_cast<int>(b.k)];
        if (!b.text.empty()) o["text"] = line_json(b.text);
        if (!b.items.empty()) {
            json::array items;
            for (auto& it : b.items)
                items.push_back(line_json(it));
            o["items"] = std::move(items);
        }
        if (!b.code.empty()) o["code"] = b.code;
        blocks.push_back(std::move(o));
    }
    json::object o{{"blocks", std::move(blocks)}, {"fallback", m.fallback}};
    if (!m.actions.empty()) {
        json::array acts;
        for (auto& a : m.actions)
            acts.push_back(json::object{{"id", a.id}, {"label", a.label}});
        o["actions"] = std::move(acts);
    }
    return o;
}

std::optional<rich::message> message_from_json(const json::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    rich::message m;
    m.fallback = get_str(o, "fallback");
    auto* bs = o.if_contains("blocks");
    if (!bs || !bs->is_array()) return std::nullopt;
    for (auto& x : bs->get_array()) {
        if (!x.is_object()) return std::nullopt;
        const auto& bo = x.get_object();
        rich::block b;
        const std::string k = get_str(bo, "k");
        bool known = false;
        for (int i = 0; i < 5; ++i)
            if (k == kinds[i]) b.k = static_cast<rich::block::kind>(i), known = true;
        if (!known) return std::nullopt;
        if (auto* t = bo.if_contains("text")) b.text = line_from(*t);
        if (auto* it = bo.if_contains("items"); it && it->is_array())
            for (auto& l : it->get_array())
                b.items.push_back(line_from(l));
        b.code = get_str(bo, "code");
        m.blocks.push_back(std::move(b));
    }
    if (auto* as = o.if_contains("actions"); as && as->is_array())
        for (auto& a : as->get_array())
            if (a.is_object())
                m.actions.push_back({get_str(a.get_object(), "id"), get_str(a.get_object(), "label")});
    return m;
}

json::value to_json(const send& s) {
    json::object o;
    o["to"] = {{"k", dest_kinds[static_cast<int>(s.to.k)]},
               {"platform", s.to.platform},
               {"channel", s.to.channel},
               {"thread_key", s.to.thread_key},
               {"user", s.to.user}};
    o["body"] = to_json(s.body);
    json::array n;
    for (auto& u : s.notify)
        n.push_back(json::string(u));
    o["notify"] = std::move(n);
    if (!s.file_name.empty()) {
        o["file_name"] = s.file_name;
        o["file_content"] = s.file_content;
    }
    return o;
}

std::optional<send> send_from_json(const json::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    send s;
    auto* to = o.if_contains("to");
    if (!to || !to->is_object()) return std::nullopt;
    const auto& t = to->get_object();
    const std::string k = get_str(t, "k");
    bool known = false;
    for (int i = 0; i < 4; ++i)
        if (k == dest_kinds[i]) s.to.k = static_cast<destination::kind>(i), known = true;
    if (!known) return std::nullopt;
    s.to.platform = get_str(t, "platform");
    s.to.channel = get_str(t, "channel");
    s.to.thread_key = get_str(t, "thread_key");
    s.to.user = get_str(t, "user");
    auto* b = o.if_contains("body");
    if (!b) return std::nullopt;
    auto m = message_from_json(*b);
    if (!m) return std::nullopt;
    s.body = std::move(*m);
    if (auto* n = o.if_contains("notify"); n && n->is_array())
        for (auto& u : n->get_array())
            if (u.is_string()) s.notify.emplace_back(u.get_string());
    s.file_name = get_str(o, "file_name");
    s.file_content = get_str(o, "file_content");
    return s;
}

} // namespace pm::conv

#include "adapters/matrix/render.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace pm::adapters::matrix {

namespace json = boost::json;

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

namespace {

// Invalid UTF-8 (from a terminal, say) would make the homeserver refuse the whole event as not
// JSON: each bad byte becomes U+FFFD.
std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k)
            ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok && len > 1) {
            // Overlong forms, surrogates and values above U+10FFFF are invalid too.
            auto c1 = static_cast<unsigned char>(s[i + 1]);
            if ((len == 2 && c < 0xC2) || (len == 3 && c == 0xE0 && c1 < 0xA0) ||
                (len == 3 && c == 0xED && c1 >= 0xA0) || (len == 4 && c == 0xF0 && c1 < 0x90) ||
                (len == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90))))
                ok = false;
        }
        if (!ok) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        out.append(s.substr(i, len));
        i += len;
    }
    return out;
}

// "@room" typed by a user: a word joiner after the "@" keeps it from reading as a room mention in
// clients that still match the body, while it looks the same. (m.mentions is what notifies.)
std::string defang(std::string_view raw) {
    const std::string s = valid_utf8(raw);
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        out += s[i];
        if (s[i] == '@' && i + 5 <= s.size()) {
            std::string w(s.substr(i + 1, 4));
            for (auto& c : w)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (w == "room") out += "\u2060";
        }
    }
    return out;
}

std::string url_component(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '@' || c == ':' || c == '.' || c == '_' || c == '-' || c == '=' ||
            c == '~' || c == '+') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// One piece of output that is never split further unless it alone exceeds the budget.
struct unit {
    std::string plain;
    std::string html;
};

struct rendered_line {
    std::string plain;
    std::string html;
};

rendered_line render_line(const rich::line& l) {
    rendered_line r;
    for (const auto& s : l) {
        if (s.k == rich::span::kind::mention && !s.user_id.empty()) {
            auto name = valid_utf8(s.text.empty() ? s.user_id : s.text);
            r.plain += name;
            r.html += pill(s.user_id, name);
            continue;
        }
        auto t = defang(s.text);
        std::string h = html_escape(t);
        // Newlines inside a span stay line breaks.
        for (std::size_t p = h.find('\n'); p != std::string::npos; p = h.find('\n', p + 4))
            h.replace(p, 1, "<br>");
        if (s.code) h = "<code>" + h + "</code>";
        if (s.italic) h = "<i>" + h + "</i>";
        if (s.bold) h = "<b>" + h + "</b>";
        r.plain += t;
        r.html += h;
    }
    return r;
}

// The length a string takes inside a JSON string literal.
std::size_t json_len(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

std::size_t unit_len(const unit& u) {
    return json_len(u.plain) + json_len(u.html) + 4;
}

// Cuts `s` into pieces of at most `max` bytes (as JSON), at newlines when possible, else at UTF-8
// character boundaries.
std::vector<std::string> cut_text(std::string_view s, std::size_t max) {
    std::vector<std::string> out;
    max = std::max<std::size_t>(max, 64);
    while (!s.empty()) {
        std::size_t used = 0, i = 0, last_nl = 0;
        while (i < s.size()) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            std::size_t clen = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
            std::size_t cost = json_len(s.substr(i, clen));
            if (used + cost > max) break;
            used += cost;
            i += std::min(clen, s.size() - i);
            if (c == '\n') last_nl = i;
        }
        if (i < s.size() && last_nl > i / 2) i = last_nl;
        out.emplace_back(s.substr(0, i));
        s.remove_prefix(i);
    }
    return out;
}

// A block as units; a block too large alone is split into several of its own kind.
void block_units(const rich::block& b, std::size_t max, std::vector<unit>& out) {
    // HTML of escaped text is up to 6x the plain text; leave room for both within `max`.
    const std::size_t text_max = max / 8;
    switch (b.k) {
    case rich::block::kind::paragraph:
    case rich::block::kind::heading: {
        auto r = render_line(b.text);
        const char* open = b.k == rich::block::kind::heading ? "<h3>" : "<p>";
        const char* close = b.k == rich::block::kind::heading ? "</h3>" : "</p>";
        unit u{r.plain, open + r.html + close};
        if (unit_len(u) <= max) {
            out.push_back(std::move(u));
            return;
        }
        // Too long: fall back to plain pieces (formatting of this one block is lost, text is not).
        std::string all;
        for (const auto& s : b.text)
            all += s.k == rich::span::kind::mention ? valid_utf8(s.text.empty() ? s.user_id : s.text)
                                                    : defang(s.text);
        for (auto& piece : cut_text(all, text_max))
            out.push_back({piece, open + html_escape(piece) + close});
        return;
    }
    case rich::block::kind::bullets: {
        // Items grouped into lists as they fit; a huge item is cut like a paragraph.
        unit cur{"", "<ul>"};
        auto flush = [&] {
            if (cur.html != "<ul>") {
                cur.html += "</ul>";
                if (!cur.plain.empty() && cur.plain.back() == '\n') cur.plain.pop_back();
                out.push_back(std::move(cur));
            }
            cur = unit{"", "<ul>"};
        };
        for (const auto& item : b.items) {
            auto r = render_line(item);
            std::vector<unit> pieces;
            unit whole{"- " + r.plain + "\n", "<li>" + r.html + "</li>"};
            if (unit_len(whole) + 16 <= max) {
                pieces.push_back(std::move(whole));
            } else {
                for (auto& piece : cut_text(r.plain, text_max))
                    pieces.push_back({"- " + piece + "\n", "<li>" + html_escape(piece) + "</li>"});
            }
            for (auto& p : pieces) {
                if (unit_len(cur) + unit_len(p) + 16 > max) flush();
                cur.plain += p.plain;
                cur.html += p.html;
            }
        }
        flush();
        return;
    }
    case rich::block::kind::code: {
        for (auto& piece : cut_text(defang(b.code), text_max)) {
            auto plain = piece;
            while (!plain.empty() && plain.back() == '\n')
                plain.pop_back();
            out.push_back({plain, "<pre><code>" + html_escape(piece) + "</code></pre>"});
        }
        if (b.code.empty()) out.push_back({"", "<pre><code></code></pre>"});
        return;
    }
    case rich::block::kind::divider:
        out.push_back({"---", "<hr>"});
        return;
    }
}

json::object make_content(const std::string& plain, const std::string& html,
                          const std::vector<std::string>& ids, const std::string& thread_root) {
    json::object c;
    c["msgtype"] = "m.notice";
    c["body"] = plain;
    c["format"] = "org.matrix.custom.html";
    c["formatted_body"] = html;
    json::object mentions;
    if (!ids.empty()) {
        json::array a;
        for (const auto& id : ids)
            a.emplace_back(id);
        mentions["user_ids"] = std::move(a);
    }
    c["m.mentions"] = std::move(mentions);
    if (!thread_root.empty()) {
        json::object rel;
        rel["rel_type"] = "m.thread";
        rel["event_id"] = thread_root;
        rel["is_falling_back"] = true;
        rel["m.in_reply_to"] = json::object{{"event_id", thread_root}};
        c["m.relates_to"] = std::move(rel);
    }
    return c;
}

} // namespace

std::string pill(std::string_view user_id, std::string_view name) {
    return "<a href=\"https://matrix.to/#/" + html_escape(url_component(user_id)) + "\">" +
           html_escape(name) + "</a>";
}

std::vector<json::object> render(const rich::message& msg, const render_options& opt) {
    std::vector<std::string> ids;
    for (const auto& id : opt.notify)
        if (!id.empty() && id != opt.own_user_id && std::find(ids.begin(), ids.end(), id) == ids.end())
            ids.push_back(id);

    // The fixed part of a content (keys, relation, mentions) with empty texts, measured once.
    const std::size_t fixed = json::serialize(make_content("", "", ids, opt.thread_root)).size();
    const std::size_t max = opt.max_content_bytes > fixed + 256 ? opt.max_content_bytes - fixed : 256;

    std::vector<unit> units;
    for (const auto& b : msg.blocks)
        block_units(b, max, units);
    if (units.empty()) {
        std::string fb = msg.fallback.empty() ? std::string("(empty message)") : defang(msg.fallback);
        for (auto& piece : cut_text(fb, max / 8))
            units.push_back({piece, "<p>" + html_escape(piece) + "</p>"});
    }

    // Greedy packing in order: as few events as possible.
    std::vector<json::object> out;
    std::string plain, html;
    std::size_t used = 0;
    auto emit = [&] {
        if (plain.empty() && html.empty()) return;
        out.push_back(
            make_content(plain, html, out.empty() ? ids : std::vector<std::string>{}, opt.thread_root));
        plain.clear();
        html.clear();
        used = 0;
    };
    for (auto& u : units) {
        auto len = unit_len(u);
        if (used > 0 && used + len > max) emit();
        if (!plain.empty()) plain += "\n\n";
        plain += u.plain;
        html += u.html;
        used += len;
    }
    emit();
    return out;
}

json::object file_content(const std::string& file_name, const std::string& mxc_uri, std::size_t size,
                          const std::string& mimetype, const std::string& thread_root) {
    json::object c;
    c["msgtype"] = "m.file";
    c["body"] = file_name;
    c["filename"] = file_name;
    c["url"] = mxc_uri;
    c["info"] = json::object{{"mimetype", mimetype}, {"size", size}};
    c["m.mentions"] = json::object{};
    if (!thread_root.empty()) {
        json::object rel;
        rel["rel_type"] = "m.thread";
        rel["event_id"] = thread_root;
        rel["is_falling_back"] = true;
        rel["m.in_reply_to"] = json::object{{"event_id", thread_root}};
        c["m.relates_to"] = std::move(rel);
    }
    return c;
}

} // namespace pm::adapters::matrix

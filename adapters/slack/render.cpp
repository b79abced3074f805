#include "adapters/slack/render.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace pm::adapters::slack {

namespace json = boost::json;

namespace {

constexpr std::string_view zwsp = "\u200B"; // zero-width space: breaks a mrkdwn marker
constexpr std::string_view zwj = "\u200D";  // zero-width joiner: breaks "@here"

bool is_slack_id(std::string_view s) {
    return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isupper(c) || std::isdigit(c);
    });
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) >= 0x80);
}

bool special_word_after(std::string_view s, std::size_t at) {
    for (std::string_view w : {"here", "channel", "everyone"}) {
        if (s.size() - at < w.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; i < w.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(s[at + i])) != w[i]) eq = false;
        if (eq) return true;
    }
    return false;
}

// "@here", "@channel" and "@everyone" made inert with a zero-width joiner. Also for plain_text
// objects: whether those can ever ping is unconfirmed (protocols/slack.md §7.2).
std::string defuse_specials(std::string_view in) {
    std::string out;
    out.reserve(in.size() + 8);
    for (std::size_t i = 0; i < in.size(); ++i) {
        out += in[i];
        if (in[i] == '@' && special_word_after(in, i + 1)) out += zwj;
    }
    return out;
}

json::object text_obj(std::string_view type, std::string text, bool verbatim) {
    json::object o;
    o["type"] = type;
    o["text"] = std::move(text);
    if (type == "mrkdwn" && verbatim) o["verbatim"] = true;
    if (type == "plain_text") o["emoji"] = false;
    return o;
}

json::object section(std::string text) {
    json::object b;
    b["type"] = "section";
    b["text"] = text_obj("mrkdwn", std::move(text), true);
    return b;
}

// Code spans cannot hold a backtick: it would end the span.
std::string code_safe(std::string_view escaped, bool block) {
    std::string out;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '`') {
            if (block) {
                out += '`';
                out += zwsp;
            } else {
                out += "\u02CB"; // modifier letter grave accent, a look-alike
            }
        } else {
            out += escaped[i];
        }
    }
    return out;
}

std::string render_span(const rich::span& s) {
    if (s.k == rich::span::kind::mention) {
        if (is_slack_id(s.user_id)) return "<@" + s.user_id + ">";
        return escape_mrkdwn("@" + s.text);
    }
    // Formatting markers must touch the text: keep surrounding spaces outside them.
    std::string_view t = s.text;
    auto b = t.find_first_not_of(" \t\n");
    if (b == std::string_view::npos) return std::string(t);
    auto e = t.find_last_not_of(" \t\n");
    std::string lead(t.substr(0, b)), core_text(t.substr(b, e - b + 1)), trail(t.substr(e + 1));
    std::string body;
    if (s.code) {
        body = "`" + code_safe(escape_plain(core_text), false) + "`";
    } else {
        body = escape_mrkdwn(core_text);
        if (s.italic) body = "_" + body + "_";
        if (s.bold) body = "*" + body + "*";
    }
    return lead + body + trail;
}

std::string render_line(const rich::line& l) {
    std::string out;
    for (const auto& s : l)
        out += render_span(s);
    return out;
}

std::size_t block_chars(const json::object& b) {
    std::size_t n = 0;
    if (auto it = b.find("text"); it != b.end() && it->value().is_object())
        if (auto t = it->value().get_object().find("text");
            t != it->value().get_object().end() && t->value().is_string())
            n += t->value().get_string().size();
    return n;
}

std::string plain_first_line(const rich::message& m) {
    std::string p = rich::plain(m);
    return p.substr(0, p.find('\n'));
}

} // namespace

std::string escape_plain(std::string_view in) {
    std::string out;
    out.reserve(in.size() + 8);
    for (char c : in) {
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
        default:
            out += c;
        }
    }
    return out;
}

std::string escape_mrkdwn(std::string_view in) {
    std::string out;
    out.reserve(in.size() + 16);
    // The characters that may need more than themselves; everything else is copied in runs.
    static constexpr auto special = [] {
        std::array<bool, 256> t{};
        for (unsigned char c : std::string_view("&<>*_~`@"))
            t[c] = true;
        return t;
    }();
    for (std::size_t i = 0; i < in.size(); ++i) {
        std::size_t run = i;
        while (run < in.size() && !special[static_cast<unsigned char>(in[run])])
            ++run;
        out.append(in, i, run - i);
        if (run == in.size()) break;
        i = run;
        char c = in[i];
        char prev = i ? in[i - 1] : '\n';
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            if (prev == '\n') out += zwsp; // a '>' starting a line would make a quote
            out += "&gt;";
            break;
        case '*':
        case '_':
        case '~':
        case '`':
            // Markers only open formatting at a word start; an invisible character there keeps
            // them literal without touching snake_case or 2*3.
            if (!word_char(prev)) out += zwsp;
            out += c;
            break;
        case '@':
            out += c;
            if (special_word_after(in, i + 1)) out += zwj;
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::vector<std::string> split_text(std::string_view s, std::size_t limit) {
    std::vector<std::string> out;
    if (limit < 16) limit = 16;
    while (s.size() > limit) {
        std::size_t cut = limit;
        auto nl = s.rfind('\n', limit);
        auto sp = s.rfind(' ', limit);
        if (nl != std::string_view::npos && nl > limit / 2)
            cut = nl + 1;
        else if (sp != std::string_view::npos && sp > limit / 2)
            cut = sp + 1;
        // Never inside an entity (&amp;), a <…> token or a UTF-8 sequence.
        auto amp = s.rfind('&', cut - 1);
        if (amp != std::string_view::npos && cut - amp < 6 && s.find(';', amp) >= cut) cut = amp;
        auto lt = s.rfind('<', cut - 1);
        if (lt != std::string_view::npos && s.find('>', lt) >= cut && cut - lt < 40) cut = lt;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
            --cut;
        if (cut == 0) cut = limit; // pathological: take the bytes as they are
        out.emplace_back(s.substr(0, cut));
        s.remove_prefix(cut);
    }
    if (!s.empty() || out.empty()) out.emplace_back(s);
    return out;
}

std::vector<rendered_part> render(const rich::message& m, const std::vector<std::string>& notify,
                                  const render_limits& lim) {
    // 1. Every rich block → one or more Block Kit blocks within the per-block limits.
    std::vector<json::object> blocks;
    auto add_sections = [&](const std::string& text) {
        for (auto& piece : split_text(text, lim.section_chars))
            if (!piece.empty()) blocks.push_back(section(std::move(piece)));
    };
    for (const auto& b : m.blocks) {
        switch (b.k) {
        case rich::block::kind::heading: {
            std::string text = defuse_specials(escape_plain(rich::plain(b.text)));
            if (text.empty()) break;
            if (text.size() <= lim.header_chars) {
                json::object h;
                h["type"] = "header";
                h["text"] = text_obj("plain_text", std::move(text), false);
                blocks.push_back(std::move(h));
            } else {
                rich::line l = b.text;
                for (auto& s : l)
                    s.bold = true;
                add_sections(render_line(l));
            }
            break;
        }
        case rich::block::kind::paragraph:
            add_sections(render_line(b.text));
            break;
        case rich::block::kind::bullets: {
            std::string acc;
            for (const auto& item : b.items) {
                std::string line = "\u2022 " + render_line(item);
                if (!acc.empty() && acc.size() + 1 + line.size() > lim.section_chars) {
                    add_sections(acc);
                    acc.clear();
                }
                acc += (acc.empty() ? "" : "\n") + line;
            }
            if (!acc.empty()) add_sections(acc);
            break;
        }
        case rich::block::kind::code: {
            std::string escaped = code_safe(escape_plain(b.code), true);
            for (auto& piece : split_text(escaped, lim.section_chars - 8))
                blocks.push_back(section("```" + piece + "```"));
            break;
        }
        case rich::block::kind::divider: {
            json::object d;
            d["type"] = "divider";
            blocks.push_back(std::move(d));
            break;
        }
        }
    }

    // 2. Group into messages: block count and total text per message bounded.
    std::vector<rendered_part> parts(1);
    std::size_t chars = 0;
    for (auto& b : blocks) {
        std::size_t n = block_chars(b);
        if (!parts.back().blocks.empty() &&
            (parts.back().blocks.size() + 1 > lim.blocks_per_message || chars + n > lim.message_chars)) {
            parts.emplace_back();
            chars = 0;
        }
        chars += n;
        parts.back().blocks.push_back(std::move(b));
    }

    // 3. Who to notify (first part) and the buttons (last part).
    std::string mentions;
    for (const auto& u : notify)
        if (is_slack_id(u)) mentions += (mentions.empty() ? "<@" : " <@") + u + ">";
    if (!mentions.empty()) {
        json::object s;
        s["type"] = "section";
        s["text"] = text_obj("mrkdwn", mentions, false);
        auto& first = parts.front().blocks;
        if (first.size() >= lim.blocks_per_message) parts.insert(parts.begin(), rendered_part{});
        parts.front().blocks.push_back(std::move(s));
    }
    if (!m.actions.empty()) {
        json::array elements;
        for (const auto& a : m.actions) {
            if (a.id.empty() || a.id.size() > 32 || elements.size() >= 5) continue;
            json::object btn;
            btn["type"] = "button";
            btn["action_id"] = "pm_" + a.id;
            btn["value"] = a.id;
            std::string label = escape_plain(a.label.empty() ? a.id : a.label);
            if (label.size() > 75) label = split_text(label, 72).front() + "...";
            btn["text"] = text_obj("plain_text", std::move(label), false);
            elements.push_back(std::move(btn));
        }
        if (!elements.empty()) {
            json::object act;
            act["type"] = "actions";
            act["elements"] = std::move(elements);
            if (parts.back().blocks.size() >= lim.blocks_per_message) parts.emplace_back();
            parts.back().blocks.push_back(std::move(act));
        }
    }

    // 4. Fallback text: a notification summary; the blocks carry the full content.
    std::string summary = escape_mrkdwn(m.fallback.empty() ? plain_first_line(m) : m.fallback);
    if (summary.size() > lim.fallback_chars)
        summary = split_text(summary, lim.fallback_chars - 3).front() + "...";
    if (parts.front().blocks.empty() && parts.size() == 1 && summary.empty()) summary = " ";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        parts[i].text = summary;
        if (parts.size() > 1)
            parts[i].text += " (" + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + ")";
    }
    if (!mentions.empty()) parts.front().text = mentions + " " + parts.front().text;
    return parts;
}

} // namespace pm::adapters::slack

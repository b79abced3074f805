#include "conversations/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace pm::conv::text {

namespace {
char lo(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
std::size_t utf8_len(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0)
        n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp > 0x10FFFF) return 0;
    return n;
}
} // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lo(a[i]) != lo(b[i])) return false;
    return true;
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        c = lo(c);
    return r;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string> split_ws(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i]))
            ++i;
        std::size_t j = i;
        while (j < s.size() && !is_space(s[j]))
            ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::vector<std::string> split_lines(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i <= s.size()) {
        auto j = s.find('\n', i);
        if (j == std::string_view::npos) j = s.size();
        auto line = s.substr(i, j - i);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.emplace_back(line);
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string r;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) r += sep;
        r += parts[i];
    }
    return r;
}

std::string strip_quotes(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\'')))
        s = s.substr(1, s.size() - 2);
    else if (s.size() >= 6 && s.starts_with("\xE2\x80\x9C") && s.ends_with("\xE2\x80\x9D")) // “ ”
        s = s.substr(3, s.size() - 6);
    return std::string(trim(s));
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_len(s, i);
        if (!n) return false;
        i += n;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_len(s, i);
        if (!n) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\n' && c != '\t') {
            i += 1;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    return out;
}

std::string clip(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return std::string(s);
    std::size_t cut = max_bytes >= 3 ? max_bytes - 3 : 0;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(s.substr(0, cut)) + "\xE2\x80\xA6";
}

std::string slug(std::string_view title) {
    std::string out;
    bool dash = false;
    for (char c : title) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80 && std::isalnum(u)) {
            if (dash && !out.empty()) out += '-';
            dash = false;
            out += lo(c);
        } else {
            dash = true;
        }
    }
    if (out.size() > 40) {
        out.resize(40);
        while (!out.empty() && out.back() == '-')
            out.pop_back();
    }
    if (out.empty()) out = "postmortem";
    return out;
}

namespace {
// Inline markup: emphasis, code, links, autolinks and raw HTML, tables, strikethrough.
bool is_inline_markup(char c) {
    switch (c) {
    case '\\':
    case '`':
    case '*':
    case '_':
    case '[':
    case ']':
    case '<':
    case '>':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_plain(char c) {
    return !is_inline_markup(c) && c != '&' && c != '\n';
}
} // namespace

std::string markdown_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    bool line_start = true;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!line_start) {
            // Inside a line, text up to the next markup character is copied as it is.
            const auto plain =
                static_cast<std::size_t>(std::find_if_not(s.begin() + i, s.end(), is_plain) - s.begin());
            out.append(s.substr(i, plain - i));
            i = plain;
            if (i == s.size()) break;
        }
        const char c = s[i];
        if (is_inline_markup(c)) {
            out += '\\';
            out += c;
        } else if (c == '&') {
            out += "&amp;";
        } else if (c == '\n') {
            out += "  \n"; // a hard line break keeps the writer's lines
            line_start = true;
            continue;
        } else {
            // Block markup only counts at the start of a line: headings, lists, rules, quotes.
            if (line_start && (c == '#' || c == '+' || c == '-' || c == '='))
                out += '\\';
            else if (line_start && std::isdigit(static_cast<unsigned char>(c))) {
                std::size_t j = i;
                while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])))
                    ++j;
                if (j < s.size() && (s[j] == '.' || s[j] == ')')) {
                    out.append(s.substr(i, j - i));
                    out += '\\';
                    i = j - 1;
                    line_start = false;
                    continue;
                }
            }
            out += c;
        }
        if (c != ' ' && c != '\t') line_start = false;
    }
    return out;
}

} // namespace pm::conv::text

// Property checks shared by the fuzz targets. A failed check aborts, which libFuzzer reports as a
// crash and the replay tests as a failed test.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/matrix/render.hpp"
#include "adapters/slack/render.hpp"
#include "conversations/richtext.hpp"

namespace pm::fuzz {

namespace slack = adapters::slack;
namespace matrix = adapters::matrix;

[[noreturn]] inline void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz property failed: %s\n  in: %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
    if (!ok) fail(what, detail);
}

inline bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        if (len > 1) {
            auto c1 = static_cast<unsigned char>(s[i + 1]);
            if ((len == 2 && c < 0xC2) || (len == 3 && c == 0xE0 && c1 < 0xA0) ||
                (len == 3 && c == 0xED && c1 >= 0xA0) || (len == 4 && c == 0xF0 && c1 < 0x90) ||
                (len == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90))))
                return false;
        }
        i += len;
    }
    return true;
}

// User text in every kind of literal span, block, fallback and button label: what the bot does
// when it quotes a participant (summaries, timelines, confirmations).
inline rich::message quoting(const std::string& text) {
    using namespace rich;
    message m;
    m.blocks.push_back(heading(text));
    m.blocks.push_back(para({txt("said: "), txt(text), bold(text), ital(text), code(text)}));
    m.blocks.push_back(bullets({{txt(text)}, {bold(text), txt(" / "), ital(text)}}));
    m.blocks.push_back(code_block(text));
    m.blocks.push_back(divider());
    m.fallback = text;
    m.actions.push_back(action{"skip", text});
    return m;
}

// Slack: user text never becomes a <…> token (mention, <!channel>, link) in any text object; only
// `notify` (none here) adds mentions. Valid UTF-8 in, valid UTF-8 out (split points included).
inline void slack_render_is_inert(const std::string& text) {
    const bool utf8_in = valid_utf8(text);
    for (std::size_t section : {std::size_t{2900}, std::size_t{40}}) {
        slack::render_limits lim;
        lim.section_chars = section;
        lim.message_chars = section * 4;
        lim.fallback_chars = section;
        for (const auto& part : slack::render(quoting(text), {}, lim)) {
            std::string all = boost::json::serialize(part.blocks) + part.text;
            for (char c : part.text)
                check(c != '<' && c != '>', "slack fallback text holds a raw < or >", text);
            for (const auto& b : part.blocks) {
                std::string s = boost::json::serialize(b);
                // Serialized JSON escapes nothing of < and >, so a raw one is a raw one.
                check(s.find('<') == std::string::npos && s.find('>') == std::string::npos,
                      "slack block holds a raw < or >", text);
            }
            if (utf8_in) check(valid_utf8(all), "slack render broke UTF-8", text);
        }
    }
}

// Matrix: user text never becomes a tag that notifies or links (a pill, an <a>), m.mentions stays
// empty, and body / formatted_body are valid UTF-8 whatever the input.
inline void matrix_render_is_inert(const std::string& text) {
    matrix::render_options opt;
    opt.own_user_id = "@pmbot:example.org";
    for (std::size_t budget : {std::size_t{56 * 1024}, std::size_t{600}}) {
        opt.max_content_bytes = budget;
        for (const auto& c : matrix::render(quoting(text), opt)) {
            auto body = c.find("body");
            auto html = c.find("formatted_body");
            auto mentions = c.find("m.mentions");
            check(body != c.end() && body->value().is_string(), "matrix event without a body", text);
            check(valid_utf8(body->value().get_string()), "matrix body is not UTF-8", text);
            if (html != c.end()) {
                check(html->value().is_string(), "matrix formatted_body is not a string", text);
                std::string_view h = html->value().get_string();
                check(valid_utf8(h), "matrix formatted_body is not UTF-8", text);
                check(h.find("<a") == std::string_view::npos && h.find("<A") == std::string_view::npos,
                      "matrix formatted_body holds a link or pill made of user text", text);
                check(h.find("<script") == std::string_view::npos &&
                          h.find("<img") == std::string_view::npos &&
                          h.find("<mx-reply") == std::string_view::npos,
                      "matrix formatted_body holds markup made of user text", text);
            }
            check(mentions != c.end() && mentions->value().is_object() &&
                      mentions->value().get_object().empty(),
                  "matrix m.mentions not empty for a message that notifies nobody", text);
        }
    }
}

} // namespace pm::fuzz

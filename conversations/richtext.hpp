// The core's output vocabulary: a small rich-text model every adapter renders for its platform.
// Text in a span is always literal: renderers escape it, so user-written text can never become
// markup, a link or a mention. Only a `mention` span, which the core creates itself, notifies.
#pragma once

#include <string>
#include <vector>

namespace pm::rich {

struct span {
    enum class kind { text, mention };
    kind k = kind::text;
    std::string text;    // literal text; for a mention, the display name used as fallback
    std::string user_id; // mention only: the platform user id
    bool bold = false;
    bool italic = false;
    bool code = false;
};

using line = std::vector<span>;

struct block {
    enum class kind { paragraph, heading, bullets, code, divider };
    kind k = kind::paragraph;
    line text;               // paragraph, heading
    std::vector<line> items; // bullets
    std::string code;        // code block (literal)
};

// A reply button the platform may show under a prompt (Slack: a Block Kit button). Pressing it
// arrives as a chat_event whose text is `id` ("skip", "back", "done"), in the place the button
// was in; typed replies keep working. Platforms without buttons ignore them.
struct action {
    std::string id;    // short ASCII word: the text the press stands for
    std::string label; // literal button text
};

struct message {
    std::vector<block> blocks;
    // Plain one-line summary for notifications and platform fallbacks (Slack `text`).
    std::string fallback;
    std::vector<action> actions; // optional buttons under the message (added last: aggregate init)
};

// Builders, so call sites read like the message they make.
inline span txt(std::string s) {
    return span{span::kind::text, std::move(s)};
}
inline span bold(std::string s) {
    span x = txt(std::move(s));
    x.bold = true;
    return x;
}
inline span ital(std::string s) {
    span x = txt(std::move(s));
    x.italic = true;
    return x;
}
inline span code(std::string s) {
    span x = txt(std::move(s));
    x.code = true;
    return x;
}
inline span mention(std::string user_id, std::string name) {
    return span{span::kind::mention, std::move(name), std::move(user_id)};
}
inline block para(line l) {
    return block{block::kind::paragraph, std::move(l)};
}
inline block heading(std::string s) {
    return block{block::kind::heading, {txt(std::move(s))}};
}
inline block bullets(std::vector<line> items) {
    block b{block::kind::bullets};
    b.items = std::move(items);
    return b;
}
inline block code_block(std::string s) {
    block b{block::kind::code};
    b.code = std::move(s);
    return b;
}
inline block divider() {
    return block{block::kind::divider};
}

// Plain text of a line / message (mentions as "@name"), used by the shell and for fallbacks.
std::string plain(const line& l);
std::string plain(const message& m);

} // namespace pm::rich

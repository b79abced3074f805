#include "conversations/richtext.hpp"

namespace pm::rich {

std::string plain(const line& l) {
    std::string out;
    for (const auto& s : l) {
        if (s.k == span::kind::mention) out += "@";
        out += s.text;
    }
    return out;
}

std::string plain(const message& m) {
    std::string out;
    for (const auto& b : m.blocks) {
        if (!out.empty()) out += "\n";
        switch (b.k) {
        case block::kind::paragraph:
        case block::kind::heading:
            out += plain(b.text);
            break;
        case block::kind::bullets:
            for (std::size_t i = 0; i < b.items.size(); ++i) {
                if (i) out += "\n";
                out += "- " + plain(b.items[i]);
            }
            break;
        case block::kind::code:
            out += b.code;
            break;
        case block::kind::divider:
            out += "---";
            break;
        }
    }
    return out;
}

} // namespace pm::rich

#include "conversations/commands.hpp"

#include <array>
#include <cctype>

#include "conversations/text.hpp"

namespace pm::conv {

namespace {

struct verb_info {
    command::verb v;
    const char* name;
    const char* args;
    const char* what;
};

constexpr std::array<verb_info, 13> verbs{{
    {command::verb::start, "start", "<title> [@user …] [--dm] [--anonymous] [--no-self] [--at <time>]",
     "open a postmortem in this channel; you lead it"},
    {command::verb::join, "join", "[id]", "take part and give your account"},
    {command::verb::add, "add", "@user … [id]", "lead: add participants"},
    {command::verb::remove, "remove", "@user [id]", "lead: remove a participant"},
    {command::verb::status, "status", "[id]", "who has answered what"},
    {command::verb::preview, "preview", "[id]", "lead: see the summary before it is posted"},
    {command::verb::finish, "finish", "[id]", "lead: compile and post the summary"},
    {command::verb::cancel, "cancel", "[id]", "lead: close without a summary"},
    {command::verb::remind, "remind", "[id]", "lead: nudge everyone who has not finished"},
    {command::verb::export_, "export", "[id]", "the Markdown document"},
    {command::verb::list, "list", "", "open postmortems in this channel"},
    {command::verb::tz, "tz", "<IANA zone>", "set your time zone, e.g. Europe/Berlin or UTC"},
    {command::verb::help, "help", "", "this message"},
}};

const verb_info* find_verb(std::string_view w) {
    for (auto& v : verbs)
        if (text::iequals(w, v.name)) return &v;
    return nullptr;
}

const verb_info& info(command::verb v) {
    for (auto& x : verbs)
        if (x.v == v) return x;
    return verbs.back();
}

// `<@U123>` or `<@U123|name>` -> "U123".
std::optional<std::string> mention_id(std::string_view tok) {
    if (tok.size() < 4 || tok.substr(0, 2) != "<@" || tok.back() != '>') return std::nullopt;
    auto inner = tok.substr(2, tok.size() - 3);
    if (auto bar = inner.find('|'); bar != std::string_view::npos) inner = inner.substr(0, bar);
    if (inner.empty()) return std::nullopt;
    return std::string(inner);
}

// Chat clients turn "--" into an em or en dash; accept those spellings of a flag too.
std::optional<std::string> flag_name(std::string_view tok) {
    if (tok.starts_with("--") && tok.size() > 2) return std::string(tok.substr(2));
    for (std::string_view dash : {"\xE2\x80\x94", "\xE2\x80\x93"}) // — –
        if (tok.starts_with(dash) && tok.size() > dash.size()) return std::string(tok.substr(dash.size()));
    return std::nullopt;
}

} // namespace

std::optional<std::string> normalize_id(std::string_view t) {
    if (t.size() > 3 && (t[0] == 'P' || t[0] == 'p') && (t[1] == 'M' || t[1] == 'm') && t[2] == '-')
        t.remove_prefix(3);
    if (t.empty() || t.size() > 9) return std::nullopt;
    for (char c : t)
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    return "PM-" + std::string(t);
}

std::string usage_line(command::verb v, std::string_view cw) {
    const auto& i = info(v);
    std::string s = "Usage: " + std::string(cw) + " " + i.name;
    if (*i.args) s += std::string(" ") + i.args;
    return s;
}

std::string help_text(std::string_view cw) {
    std::string s = "Blameless postmortems, one account at a time. Commands:";
    for (auto& v : verbs) {
        s.append("\n").append(cw).append(" ").append(v.name);
        if (*v.args) s.append(" ").append(v.args);
        s.append(" — ").append(v.what);
    }
    s += "\nIn an interview reply with your answer, or: skip, back, done (ends the timeline), stop, "
         "private: <answer>.";
    return s;
}

command_parse parse_command(std::string_view args, std::string_view cw) {
    command_parse r;
    auto toks = text::split_ws(args);
    const std::string general =
        "Usage: " + std::string(cw) + " <command> (" + std::string(cw) + " help lists them)";
    if (toks.empty()) {
        r.cmd = command{command::verb::help};
        return r;
    }
    const verb_info* vi = find_verb(toks[0]);
    if (!vi) {
        r.error = "I don't know the command `" + text::clip(toks[0], 40) + "`.";
        r.usage = general;
        return r;
    }
    command c;
    c.v = vi->v;
    r.usage = usage_line(c.v, cw);
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };

    std::vector<std::string> words; // positional words that are neither mentions nor flags
    for (std::size_t i = 1; i < toks.size(); ++i) {
        const std::string& t = toks[i];
        if (auto m = mention_id(t)) {
            c.users.push_back(*m);
            continue;
        }
        if (auto f = flag_name(t)) {
            if (c.v != command::verb::start)
                return fail("`--" + text::clip(*f, 20) + "` is not an option here.");
            if (*f == "dm")
                c.dm = true;
            else if (*f == "anonymous")
                c.anonymous = true;
            else if (*f == "no-self")
                c.no_self = true;
            else if (*f == "at") {
                std::string at;
                while (i + 1 < toks.size() && !flag_name(toks[i + 1]) && !mention_id(toks[i + 1])) {
                    if (!at.empty()) at += " ";
                    at += toks[++i];
                }
                if (at.empty())
                    return fail("`--at` needs a time, such as `--at 14:05` or `--at yesterday 23:50`.");
                c.at = at;
            } else
                return fail("`--" + text::clip(*f, 20) + "` is not an option of start.");
            continue;
        }
        words.push_back(t);
    }

    switch (c.v) {
    case command::verb::start: {
        std::string title = text::join(words, " ");
        title = text::strip_quotes(title);
        if (title.empty()) return fail("A postmortem needs a title.");
        c.title = title;
        break;
    }
    case command::verb::tz:
        if (words.size() != 1 || !c.users.empty()) return fail("Give one IANA zone name.");
        c.zone = words[0];
        break;
    case command::verb::add:
    case command::verb::remove:
        if (c.users.empty()) return fail("Name at least one person with @.");
        if (c.v == command::verb::remove && c.users.size() > 1) return fail("Remove one person at a time.");
        [[fallthrough]];
    default:
        if (c.v != command::verb::add && c.v != command::verb::remove && !c.users.empty())
            return fail("This command takes no people.");
        if (c.v == command::verb::list || c.v == command::verb::help) {
            if (!words.empty()) return fail("This command takes no arguments.");
            break;
        }
        if (words.size() > 1) return fail("Too many arguments.");
        if (words.size() == 1) {
            auto id = normalize_id(words[0]);
            if (!id) return fail("`" + text::clip(words[0], 40) + "` is not a postmortem id (like PM-12).");
            c.id = *id;
        }
    }
    r.cmd = std::move(c);
    return r;
}

} // namespace pm::conv

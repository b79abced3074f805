// The `postmortem …` command language (SPEC §3): parsing the arguments after the command word.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pm::conv {

struct command {
    enum class verb {
        start,
        join,
        add,
        remove,
        status,
        preview,
        finish,
        cancel,
        remind,
        export_,
        list,
        tz,
        help
    };
    verb v = verb::help;
    std::string id;                 // "PM-12" when given
    std::string title;              // start
    std::vector<std::string> users; // mentioned user ids, in order
    bool dm = false;
    bool anonymous = false;
    bool no_self = false;
    std::string at;   // start --at <time>
    std::string zone; // tz
};

struct command_parse {
    std::optional<command> cmd;
    std::string error; // one readable sentence when cmd is empty
    std::string usage; // the usage line of the verb, or the general one
};

// `args` is the text after the command word, mentions written `<@ID>` (or `<@ID|name>`).
command_parse parse_command(std::string_view args, std::string_view command_word);

// "/postmortem start <title> [@user …] …" for one verb; `help_text` lists them all.
std::string usage_line(command::verb v, std::string_view command_word);
std::string help_text(std::string_view command_word);

// "PM-12", "pm-12", "12" -> "PM-12"; anything else -> nullopt.
std::optional<std::string> normalize_id(std::string_view token);

} // namespace pm::conv

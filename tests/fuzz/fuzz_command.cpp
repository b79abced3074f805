// The `postmortem …` argument parser, and the whole engine behind it, on arbitrary bytes.
#include "bot/config.hpp"
#include "bot/rules_config.hpp"
#include "conversations/commands.hpp"
#include "conversations/engine.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const pm::conv::engine eng = [] {
        pm::conv::settings s;
        s.questions = pm::bot::default_questions();
        s.rules = pm::bot::load_default_rules();
        return pm::conv::engine(s);
    }();
    const std::string text(reinterpret_cast<const char*>(data), size);
    pm::conv::parse_command(text, "/postmortem");
    pm::conv::world w;
    pm::conv::message_in m;
    m.platform = "fuzz";
    m.user = "alice";
    m.channel = "#c";
    m.is_command = true;
    m.text = "start t <@bob>";
    m.time = pm::conv::sys_seconds{std::chrono::seconds{1795186800}};
    eng.on_message(w, m);
    m.text = text;
    eng.on_message(w, m);
    m.user = "bob";
    m.is_command = false;
    m.answers_anywhere = true;
    eng.on_message(w, m); // the same bytes as an answer
    return 0;
}

// A small driver for the core: feeds messages with a fake clock and renders the effects as the
// shell would print them, so tests assert exact text.
#pragma once

#include <date/date.h>

#include <string>
#include <vector>

#include "adapters/shell/shell.hpp"
#include "bot/config.hpp"
#include "bot/rules_config.hpp"
#include "conversations/engine.hpp"
#include "conversations/events.hpp"

namespace pm::test {

// "2026-11-20 15:00:00" (UTC) as an instant.
inline conv::sys_seconds at(const char* iso) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    std::sscanf(iso, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
    return date::sys_days{date::year{y} / mo / d} + std::chrono::hours{h} + std::chrono::minutes{mi} +
           std::chrono::seconds{s};
}

inline conv::settings default_settings() {
    conv::settings s;
    s.questions = bot::default_questions();
    s.rules = bot::load_default_rules();
    return s;
}

struct harness {
    conv::engine eng;
    conv::world w;
    conv::sys_seconds now = at("2026-11-20 15:00:00");
    std::string channel = "#incident";
    std::string platform = "shell";
    std::vector<boost::json::object> log; // every event, for replay checks
    int seq = 0;

    explicit harness(conv::settings s = default_settings()) : eng(std::move(s)) {}

    conv::outcome feed(conv::message_in m) {
        m.platform = platform;
        if (m.channel.empty()) m.channel = channel;
        if (m.message_ref.empty()) m.message_ref = "m" + std::to_string(++seq);
        m.time = now;
        auto out = eng.on_message(w, m);
        for (auto& e : out.events)
            log.push_back(e);
        now += std::chrono::seconds{10};
        return out;
    }
    // `alice: text` in the channel (a shell user: plain lines answer open prompts).
    conv::outcome say(const std::string& user, const std::string& text) {
        conv::message_in m;
        m.user = user;
        m.user_name = user;
        m.answers_anywhere = true;
        if (text.starts_with("/postmortem")) {
            m.is_command = true;
            m.text = text.substr(11);
        } else {
            m.text = text;
        }
        // `@name` -> `<@name>` as the shell adapter does.
        std::string out;
        for (std::size_t i = 0; i < m.text.size(); ++i) {
            if (m.text[i] == '@' && (i == 0 || m.text[i - 1] == ' ')) {
                std::size_t j = i + 1;
                while (j < m.text.size() && m.text[j] != ' ')
                    ++j;
                out += "<@" + m.text.substr(i + 1, j - i - 1) + ">";
                i = j - 1;
            } else {
                out += m.text[i];
            }
        }
        m.text = out;
        return feed(m);
    }
    conv::outcome timer(const std::string& pm, conv::timer_in::kind k) {
        auto out = eng.on_timer(w, conv::timer_in{pm, k}, now);
        for (auto& e : out.events)
            log.push_back(e);
        return out;
    }
};

// Each send as the shell prints it: "[place] text…".
inline std::vector<std::string> printed(const conv::outcome& o) {
    std::vector<std::string> r;
    for (auto& s : o.sends) {
        std::string place;
        using k = conv::destination::kind;
        switch (s.to.k) {
        case k::channel:
            place = s.to.channel;
            break;
        case k::thread:
            place = "thread " + s.to.user;
            break;
        case k::dm:
        case k::private_to:
            place = "dm " + s.to.user;
            break;
        }
        auto text = adapters::shell::print(place, s.body);
        text.pop_back();
        r.push_back(text);
    }
    return r;
}

inline std::string joined(const conv::outcome& o) {
    std::string s;
    for (auto& x : printed(o))
        s += x + "\n";
    return s;
}

} // namespace pm::test

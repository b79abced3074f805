// pm_summary_bench: how long compiling the summary of a large postmortem takes.
//
//   pm_summary_bench [--participants 50] [--steps 40] [--reps 30]
//
// Builds, through the core's public API only (conv::engine::on_message, as the bot feeds it), one
// postmortem with P participants who each answer every default question and give S timeline steps
// (times in the window, some approximate, spans, unknown times, some out of order), then times,
// over R repetitions: compile_summary alone; render_summary (compile + the channel message); and
// what `finish` builds in all (render_summary + render_markdown + render_json). Prints one JSON
// object with the medians in milliseconds.
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bot/config.hpp"
#include "bot/rules_config.hpp"
#include "conversations/engine.hpp"
#include "conversations/summary.hpp"

using namespace pm;
using steady = std::chrono::steady_clock;

namespace {

std::string user(std::size_t i) {
    char b[32];
    std::snprintf(b, sizeof b, "U0P%03zu", i);
    return b;
}

std::string hhmm(int minutes) {
    char b[16];
    std::snprintf(b, sizeof b, "%02d:%02d", (minutes / 60) % 24, minutes % 60);
    return b;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    std::size_t participants = 50, steps = 40, reps = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        std::size_t v = std::stoul(argv[i + 1]);
        if (a == "--participants")
            participants = std::max<std::size_t>(1, v);
        else if (a == "--steps")
            steps = v;
        else if (a == "--reps")
            reps = std::max<std::size_t>(1, v);
    }

    conv::settings s;
    s.questions = bot::default_questions();
    s.rules = bot::load_default_rules();
    s.auto_finish = false; // the summary is compiled below, on an open postmortem
    s.max_participants = std::max(s.max_participants, participants);
    s.max_steps = std::max(s.max_steps, steps + 1);
    conv::engine eng(s);
    conv::world w;
    // The incident: 2026-11-20 10:00–15:00 UTC; the lead starts the postmortem at 15:00.
    conv::sys_seconds now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + std::chrono::hours{15};
    int ref = 0;
    auto feed = [&](const std::string& who, const std::string& text, bool command) {
        conv::message_in m;
        m.platform = "slack";
        m.user = who;
        m.user_name = "Person " + who.substr(3);
        m.user_tz = "UTC";
        m.place = conv::message_in::where::channel;
        m.channel = "C0INCIDENT";
        m.text = text;
        m.is_command = command;
        m.answers_anywhere = true;
        m.message_ref = "m" + std::to_string(++ref);
        m.time = now;
        now += std::chrono::seconds{1};
        return eng.on_message(w, m);
    };

    std::string start = "start Primary database failover --at 10:00";
    for (std::size_t i = 1; i < participants; ++i)
        start += " <@" + user(i) + ">";
    feed(user(0), start, true);
    if (w.postmortems.empty()) {
        std::cerr << "pm_summary_bench: the postmortem was not started\n";
        return 1;
    }
    conv::postmortem& p = w.postmortems.begin()->second;

    // Steps read like real ones: an action on a named host or service, so that a few steps by
    // different people look like the same event (and are flagged), most do not.
    static const char* const action[] = {
        "restarted",
        "saw errors on",
        "paged the on-call for",
        "rolled back the deploy of",
        "drained",
        "failed over",
        "scaled up",
        "checked the dashboards of",
        "silenced",
        "rebuilt",
        "watched the queues of",
        "opened a ticket for",
    };
    static const char* const target[] = {"api",     "db-primary", "db-replica", "checkout", "payments",
                                         "search",  "cache",      "queue",      "gateway",  "auth",
                                         "billing", "ledger",     "cdn",        "mailer",   "scheduler"};
    static const char* const detail[] = {
        "(error budget)",     "(latency climbing)",    "(pager quiet)",       "(replica lagging)",
        "(retry storm)",      "(traffic peak)",        "(disk full)",         "(runbook step)",
        "(platform team)",    "(connections stuck)",   "(health flapping)",   "(commander asked)",
        "(metrics normal)",   "(workers stuck)",       "(customer reports)",  "(memory leak)",
        "(failover pending)", "(certificate renewal)", "(network partition)", "(queue doubled)",
        "(rollback running)", "(cron pileup)",         "(feature flags)",     "(dashboards blank)",
        "(canary red)",       "(vendor outage)",       "(alerts green)",      "(background load)",
        "(schema migration)", "(tokens expired)",      "(backups running)",   "(dns propagation)",
    };
    for (std::size_t i = 0; i < participants; ++i) {
        const std::string u = user(i);
        for (int guard = 0; guard < 64; ++guard) {
            const conv::participant* who = p.find(u);
            if (!who || who->st != conv::participant::stage::active) break;
            const auto& q = s.questions.questions[who->pos];
            if (who->in_followup) {
                feed(u, "It was the graph on the second screen, the p99 panel.", false);
            } else if (q.timeline) {
                std::string lines;
                for (std::size_t k = 0; k < steps; ++k) {
                    // 10:00–14:59, spread per person, with the odd step out of order.
                    int minute =
                        600 + static_cast<int>((k * 277 / std::max<std::size_t>(steps, 1) + i * 3) % 280);
                    if (k % 13 == 12) minute -= 20;
                    std::string t = hhmm(minute);
                    if (k % 11 == 5)
                        t = "?";
                    else if (k % 7 == 3)
                        t = "~" + t;
                    else if (k % 9 == 4)
                        t += "-" + hhmm(minute + 6);
                    // A fixed pseudo-random pick per (person, step): no pattern shared across people.
                    std::uint64_t h = (i * 1000003u + k) * 0x9E3779B97F4A7C15ull;
                    h ^= h >> 29;
                    lines += t + " " + action[h % 12] + " " + target[(h >> 8) % 15] + "-" +
                             std::to_string(i * 100 + k) + " " + detail[(h >> 16) % 32] + "\n";
                }
                feed(u, lines, false);
                feed(u, "done", false);
            } else if (q.ideas) {
                feed(u, "An alert on replica lag that pages before the pool runs out; a runbook step for it.",
                     false);
            } else {
                feed(u,
                     "I was looking at the dashboards for the checkout service when the first page came in.",
                     false);
            }
        }
    }
    std::size_t timed = 0;
    for (auto& x : p.participants)
        timed += x.steps.size();

    std::vector<double> t_compile, t_render, t_finish;
    std::size_t sink = 0, conflicts = 0, gaps = 0, blocks = 0;
    for (std::size_t r = 0; r < reps; ++r) {
        auto t0 = steady::now();
        auto model = conv::compile_summary(w, p, s, false);
        auto t1 = steady::now();
        auto msg = conv::render_summary(w, p, s, false);
        auto t2 = steady::now();
        auto md = conv::render_markdown(w, p, s, true);
        auto js = conv::render_json(w, p, s);
        auto t3 = steady::now();
        sink += model.timed.size() + msg.blocks.size() + md.size() + js.size();
        conflicts = model.conflicts.size();
        gaps = model.gaps.size();
        blocks = msg.blocks.size();
        auto ms = [](steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
        t_compile.push_back(ms(t1 - t0));
        t_render.push_back(ms(t2 - t1));
        t_finish.push_back(ms(t3 - t1));
    }

    boost::json::object o;
    o["participants"] = p.participants.size();
    o["timeline_entries"] = timed;
    o["conflicts_flagged"] = conflicts;
    o["gaps"] = gaps;
    o["blocks"] = blocks;
    o["reps"] = reps;
    o["compile_ms"] = median(t_compile);
    o["summary_ms"] = median(t_render);
    o["finish_ms"] = median(t_finish);
    o["check"] = sink;
    std::cout << boost::json::serialize(o) << std::endl;
    return timed == participants * steps ? 0 : 1;
}

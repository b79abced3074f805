#include "conversations/engine.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "conversations/commands.hpp"
#include "conversations/events.hpp"
#include "conversations/summary.hpp"
#include "conversations/text.hpp"
#include "conversations/times.hpp"

namespace pm::conv {

namespace json = boost::json;
using rich::txt;

namespace {

std::int64_t secs(sys_seconds t) {
    return t.time_since_epoch().count();
}

const char* const time_examples =
    "Start each line with a time, for example `14:05 restarted api-3`, `2:05pm saw alerts`, "
    "`~14:10 paged the db team`, `yesterday 23:50 deploy began`, or `? asked #db for help` when "
    "you don't know the time.";

// One call's working context: folds every event at once so later steps see the new state.
struct run {
    const settings& s;
    world& w;
    outcome out;

    void emit(json::object e) {
        fold(w, e);
        out.events.push_back(std::move(e));
    }

    std::string name(const postmortem& p, const std::string& user) const {
        return w.name_of(p.platform, user);
    }

    void say(destination to, rich::message body, std::vector<std::string> notify = {}) {
        if (body.fallback.empty()) body.fallback = text::clip(rich::plain(body), 300);
        out.sends.push_back(send{std::move(to), std::move(body), std::move(notify)});
    }

    static rich::message msg(std::vector<rich::block> blocks) { return rich::message{std::move(blocks), {}}; }
    static rich::message line(std::string s) { return msg({rich::para({txt(std::move(s))})}); }

    // Where a reply meant for one person goes, given where they spoke.
    static destination private_reply(const message_in& m) {
        if (m.place == message_in::where::dm)
            return destination{destination::kind::dm, m.platform, "", "", m.user};
        return destination{destination::kind::private_to, m.platform, m.channel, m.thread_key, m.user};
    }

    static destination channel_of(const postmortem& p) {
        return destination{destination::kind::channel, p.platform, p.channel, "", ""};
    }

    static destination interview_place(const postmortem& p, const std::string& user) {
        if (p.dm) return destination{destination::kind::dm, p.platform, "", "", user};
        return destination{destination::kind::thread, p.platform, p.channel, thread_key(p.id, user), user};
    }

    // A message for one participant about their interview: nudges, hints.
    static destination private_in_interview(const postmortem& p, const std::string& user) {
        if (p.dm) return destination{destination::kind::dm, p.platform, "", "", user};
        return destination{destination::kind::private_to, p.platform, p.channel, thread_key(p.id, user),
                           user};
    }

    // ---- the interview ------------------------------------------------------------------------

    void open_interview(postmortem& p, participant& who) {
        const std::string nm = name(p, who.user);
        rich::message hello = msg({
            rich::para({rich::mention(who.user, nm), txt(" — your account of "), rich::bold(p.title),
                        txt(" (" + p.id + ")")}),
            rich::para({txt(s.questions.opening)}),
        });
        hello.fallback = nm + " — your account of " + p.title;
        if (p.dm)
            say(interview_place(p, who.user), std::move(hello), {who.user});
        else
            say(destination{destination::kind::channel, p.platform, p.channel, thread_key(p.id, who.user),
                            ""},
                std::move(hello), {who.user});
        auto e = ev::make("opened", p.id);
        e["user"] = who.user;
        emit(std::move(e));
        ask(p, p.find(who.user)->user, 0);
    }

    void ask(postmortem& p, const std::string& user, std::size_t pos) {
        const auto& qs = s.questions.questions;
        if (pos >= qs.size()) {
            complete(p, user);
            return;
        }
        auto e = ev::make("asked", p.id);
        e["user"] = user;
        e["pos"] = pos;
        emit(std::move(e));
        const auto& q = qs[pos];
        rich::message m = msg({rich::para(
            {rich::bold("Question " + std::to_string(pos + 1) + " of " + std::to_string(qs.size())),
             txt(" — " + q.prompt)})});
        // Buttons where the platform has them; the typed words keep working everywhere.
        if (q.timeline) m.actions.push_back({"done", "Done"});
        m.actions.push_back({"skip", "Skip"});
        if (pos > 0) m.actions.push_back({"back", "Back"});
        say(interview_place(p, user), std::move(m));
    }

    void ask_followup(postmortem& p, const std::string& user, std::size_t pos, const std::string& prompt) {
        auto e = ev::make("asked", p.id);
        e["user"] = user;
        e["pos"] = pos;
        e["followup"] = prompt;
        emit(std::move(e));
        rich::message m =
            msg({rich::para({rich::ital("A follow-up, if you like (`skip` passes it): "), txt(prompt)})});
        m.actions.push_back({"skip", "Skip"});
        say(interview_place(p, user), std::move(m));
    }

    void complete(postmortem& p, const std::string& user) {
        auto e = ev::make("completed", p.id);
        e["user"] = user;
        emit(std::move(e));
        say(interview_place(p, user),
            line("Thank you — that's every question. Your account is in. If you remember something "
                 "later, edit your message; the lead can re-post the summary."));
        maybe_auto_finish(p);
    }

    void maybe_auto_finish(postmortem& p) {
        if (!s.auto_finish || p.st != postmortem::state::open || p.participants.empty()) return;
        for (auto& x : p.participants)
            if (x.st != participant::stage::completed && x.st != participant::stage::stopped) return;
        finish(p, "Everyone has given their account, so here is the summary.");
    }

    void finish(postmortem& p, const std::string& why) {
        emit(ev::make("finished", p.id));
        rich::message m = render_summary(w, p, s, false);
        if (!why.empty()) m.blocks.insert(m.blocks.begin(), rich::para({rich::ital(why)}));
        say(channel_of(p), std::move(m));
        out.exports.push_back(write_exports{p.id});
    }

    void advance(postmortem& p, participant& who) { ask(p, who.user, who.pos + 1); }

    // ---- replies in an interview --------------------------------------------------------------

    void nudge(const postmortem& p, const std::string& user, const nudges::finding& f) {
        say(private_in_interview(p, user),
            msg({rich::para({txt("Just for you, and your answer is kept exactly as written: “" + f.phrase +
                                 "” can read as a judgement made after the fact. " + f.reframe)})}));
    }

    // A step line's reading problem, quoted, for the re-ask.
    static std::string quote(const std::string& line) { return "“" + text::clip(line, 200) + "”"; }

    void timeline_answer(postmortem& p, participant& who, const message_in& m, std::string body, bool priv,
                         bool replace) {
        times::context ctx{w.zone_of(p.platform, who.user, s), p.window_start, p.window_end, m.time};
        json::array steps;
        std::vector<std::string> problems;
        bool done = false;
        std::int64_t seq = who.next_step_seq;
        if (replace) {
            for (auto& st : who.steps)
                if (st.message_ref == *m.edit_of) {
                    seq = st.seq; // an edit keeps its place in the order given
                    break;
                }
        }
        std::size_t count = who.steps.size();
        for (auto& raw : text::split_lines(body)) {
            auto ln = std::string(text::trim(raw));
            if (ln.empty()) continue;
            if (text::iequals(ln, "done")) {
                done = true;
                continue;
            }
            auto r = times::read_step(ln, ctx);
            using st = times::reading::status;
            if (r.st != st::ok && r.st != st::untimed) {
                problems.push_back(quote(ln) + " — " + r.problem);
                continue;
            }
            if (count >= s.max_steps) {
                problems.push_back(quote(ln) + " — your timeline already has " + std::to_string(s.max_steps) +
                                   " steps, the most one account can hold.");
                continue;
            }
            ++count;
            json::object o;
            o["seq"] = seq++;
            if (r.at) o["at"] = secs(*r.at);
            if (r.end) o["end"] = secs(*r.end);
            if (r.approximate) o["approx"] = true;
            o["text"] = r.rest;
            o["original"] = ln;
            if (priv) o["private"] = true;
            steps.push_back(std::move(o));
        }
        if (!steps.empty() || replace) {
            auto e = ev::make("steps", p.id);
            e["user"] = who.user;
            e["ref"] = replace ? *m.edit_of : m.message_ref;
            if (replace) e["replace"] = true;
            e["steps"] = std::move(steps);
            emit(std::move(e));
        }
        if (!problems.empty()) {
            std::vector<rich::line> items;
            for (auto& x : problems)
                items.push_back({txt(x)});
            say(interview_place(p, who.user),
                msg({rich::para(
                         {txt(problems.size() == 1 ? "I couldn't place this line in time; please send it "
                                                     "again:"
                                                   : "I couldn't place these lines in time; please send "
                                                     "them again:")}),
                     rich::bullets(std::move(items)), rich::para({txt(time_examples)})}));
        }
        if (auto f = nudges::first(body, s.rules)) nudge(p, who.user, *f);
        if (done && !replace) advance(p, *p.find(who.user));
    }

    void on_reply(const message_in& m, const std::string& body_in) {
        // Which interview does this message answer?
        postmortem* p = nullptr;
        participant* who = nullptr;
        auto consider = [&](postmortem& x, bool need_open_prompt) {
            if (x.st == postmortem::state::cancelled) return;
            participant* q = x.find(m.user);
            if (!q) return;
            if (need_open_prompt && q->st != participant::stage::active) return;
            if (!p || x.started_at >= p->started_at) p = &x, who = q;
        };
        if (!m.thread_key.empty()) {
            auto slash = m.thread_key.rfind('/');
            auto it = w.postmortems.find(m.thread_key.substr(0, slash));
            if (it == w.postmortems.end() || m.thread_key.substr(slash + 1) != m.user)
                return; // not their thread
            consider(it->second, false);
        } else if (m.edit_of) {
            for (auto& [id, x] : w.postmortems)
                consider(x, false);
        } else if (m.place == message_in::where::dm || m.answers_anywhere) {
            for (auto& [id, x] : w.postmortems)
                consider(x, true);
        }
        if (!p) return; // ordinary chat: not for the bot

        if (body_in.size() > s.max_answer_bytes) {
            say(private_in_interview(*p, who->user),
                line("That message is " + std::to_string(body_in.size() / 1024) + " KB; an answer can hold " +
                     std::to_string(s.max_answer_bytes / 1024) +
                     " KB. Nothing was recorded — please send it in shorter parts."));
            return;
        }

        std::string body = std::string(text::trim(body_in));
        bool priv = false;
        if (body.size() >= 8 && text::iequals(body.substr(0, 8), "private:")) {
            priv = true;
            body = std::string(text::trim(body.substr(8)));
        }

        const auto& qs = s.questions.questions;
        if (m.edit_of) {
            edit(*p, *who, m, body, priv);
            return;
        }
        if (who->st != participant::stage::active) {
            say(private_in_interview(*p, who->user),
                line(who->st == participant::stage::completed
                         ? "Your account of " + p->id +
                               " is complete — thank you. To change an answer, edit "
                               "the message that carried it."
                         : "You left this interview with `stop`; your answers are kept. Use `join " + p->id +
                               "` to pick up where you left off."));
            return;
        }
        if (who->pos >= qs.size()) return;
        const question& q = qs[who->pos];
        const std::string word = text::lower(body);

        if (!priv && word == "skip") {
            auto e = ev::make("skipped", p->id);
            e["user"] = who->user;
            e["qid"] = q.id;
            if (who->in_followup) {
                e["followup"] = true;
                e["prompt"] = who->followup_prompt;
            }
            // Skipping a question answered before (reached again with `back`) keeps that answer.
            if (who->in_followup || !who->answers.contains(q.id)) emit(std::move(e));
            advance(*p, *who);
            return;
        }
        if (!priv && word == "back") {
            if (who->in_followup)
                ask(*p, who->user, who->pos);
            else
                ask(*p, who->user, who->pos == 0 ? 0 : who->pos - 1);
            return;
        }
        if (!priv && word == "stop") {
            auto e = ev::make("stopped", p->id);
            e["user"] = who->user;
            emit(std::move(e));
            say(interview_place(*p, who->user),
                line("Stopped. Everything you wrote is kept. If you want to continue later, use `join " +
                     p->id + "`."));
            maybe_auto_finish(*p);
            return;
        }
        if (q.timeline && !who->in_followup) {
            if (body.empty()) {
                say(private_in_interview(*p, who->user),
                    line("That message was empty. " + std::string(time_examples)));
                return;
            }
            timeline_answer(*p, *who, m, body, priv, false);
            return;
        }
        if (!priv && word == "done") {
            say(private_in_interview(*p, who->user),
                line("`done` ends the timeline question. To leave this question, reply `skip`; to leave the "
                     "interview, `stop`."));
            return;
        }
        if (body.empty()) {
            say(private_in_interview(*p, who->user),
                line("That answer was empty. Write your answer, or `skip` to leave this question."));
            return;
        }
        auto e = ev::make("answered", p->id);
        e["user"] = who->user;
        e["qid"] = q.id;
        e["text"] = body;
        e["ref"] = m.message_ref;
        if (priv) e["private"] = true;
        const bool was_followup = who->in_followup;
        if (was_followup) {
            e["followup"] = true;
            e["prompt"] = who->followup_prompt;
        }
        emit(std::move(e));
        if (auto f = nudges::first(body, s.rules)) {
            nudge(*p, who->user, *f);
            advance(*p, *p->find(m.user));
            return;
        }
        if (!was_followup) {
            if (auto fu = nudges::followup(body, s.rules)) {
                ask_followup(*p, m.user, p->find(m.user)->pos, *fu);
                return;
            }
        }
        advance(*p, *p->find(m.user));
    }

    void edit(postmortem& p, participant& who, const message_in& m, const std::string& body, bool priv) {
        const std::string& ref = *m.edit_of;
        for (bool fu : {false, true}) {
            auto& map = fu ? who.followups : who.answers;
            for (auto& [qid, a] : map) {
                if (a.message_ref != ref || a.skipped) continue;
                auto e = ev::make("answered", p.id);
                e["user"] = who.user;
                e["qid"] = qid;
                e["text"] = body;
                e["ref"] = ref;
                if (priv) e["private"] = true;
                if (fu) {
                    e["followup"] = true;
                    e["prompt"] = a.prompt;
                }
                emit(std::move(e));
                if (auto f = nudges::first(body, s.rules)) nudge(p, who.user, *f);
                return;
            }
        }
        for (auto& st : who.steps)
            if (st.message_ref == ref) {
                timeline_answer(p, who, m, body, priv, true);
                return;
            }
        out.log.push_back("edit of " + ref + " matches no answer; ignored");
    }

    // ---- commands -----------------------------------------------------------------------------

    postmortem* resolve(const command& c, const message_in& m, std::string& error) {
        if (!c.id.empty()) {
            auto it = w.postmortems.find(c.id);
            if (it == w.postmortems.end() || it->second.platform != m.platform) {
                error = "There is no postmortem " + c.id + ".";
                return nullptr;
            }
            return &it->second;
        }
        std::vector<postmortem*> open, finished;
        for (auto& [id, p] : w.postmortems) {
            if (p.platform != m.platform || p.st == postmortem::state::cancelled) continue;
            const bool mine = p.lead == m.user || p.find(m.user);
            const bool here = m.place == message_in::where::dm ? mine : p.channel == m.channel;
            if (!here) continue;
            (p.st == postmortem::state::open ? open : finished).push_back(&p);
        }
        if (open.size() == 1) return open[0];
        if (open.size() > 1) {
            std::string ids;
            for (auto* p : open)
                ids += (ids.empty() ? "" : ", ") + p->id;
            error = "Several postmortems are open here (" + ids + "); name one, e.g. `" + m.command_word +
                    " status " + open[0]->id + "`.";
            return nullptr;
        }
        if (!finished.empty())
            return *std::max_element(finished.begin(), finished.end(),
                                     [](auto* a, auto* b) { return a->started_at < b->started_at; });
        error = m.place == message_in::where::dm
                    ? "You are not part of an open postmortem; name one by its id."
                    : "There is no open postmortem in this channel.";
        return nullptr;
    }

    bool lead_only(const postmortem& p, const message_in& m, const char* what) {
        if (p.lead == m.user) return true;
        say(private_reply(m), msg({rich::para({txt("Only the lead of " + p.id + ", " + name(p, p.lead) +
                                                   ", can " + what + ". Nothing was changed.")})}));
        return false;
    }

    void refuse(const message_in& m, const std::string& error, const std::string& usage) {
        std::vector<rich::block> b{rich::para({txt(error)})};
        if (!usage.empty()) b.push_back(rich::para({rich::code(usage)}));
        say(private_reply(m), msg(std::move(b)));
        out.log.push_back("refused command from " + m.user + ": " + error);
    }

    void seen(const std::string& platform, const std::string& user, const std::string& nm,
              const std::optional<std::string>& tz) {
        auto it = w.users.find(platform + "/" + user);
        const bool name_new = !nm.empty() && (it == w.users.end() || it->second.name != nm);
        const bool tz_new = tz && !tz->empty() && (it == w.users.end() || it->second.platform_tz != tz);
        if (!name_new && !tz_new) return;
        auto e = ev::make("user_seen", "");
        e["platform"] = platform;
        e["user"] = user;
        if (!nm.empty()) e["name"] = nm;
        if (tz_new) e["tz"] = *tz;
        emit(std::move(e));
    }

    std::string names(const postmortem& p, const std::vector<std::string>& users) const {
        std::vector<std::string> n;
        for (auto& u : users)
            n.push_back(name(p, u));
        return text::join(n, ", ");
    }

    void on_command(const message_in& m, const std::string& args) {
        auto parsed = parse_command(args, m.command_word);
        if (!parsed.cmd) {
            refuse(m, parsed.error, parsed.usage);
            return;
        }
        const command& c = *parsed.cmd;
        const std::string usage = usage_line(c.v, m.command_word);
        using v = command::verb;
        switch (c.v) {
        case v::help:
            say(private_reply(m), msg({rich::para({txt(help_text(m.command_word))})}));
            return;
        case v::tz: {
            if (!times::valid_zone(c.zone)) {
                refuse(m,
                       "`" + text::clip(c.zone, 60) +
                           "` is not a time zone I know. Use an IANA name such as "
                           "Europe/Berlin, America/New_York or UTC.",
                       usage);
                return;
            }
            auto e = ev::make("tz_set", "");
            e["platform"] = m.platform;
            e["user"] = m.user;
            e["tz"] = c.zone;
            emit(std::move(e));
            say(private_reply(m),
                line("Your time zone is now " + c.zone + ". Times you write are read in it."));
            return;
        }
        case v::start:
            start(m, c, usage);
            return;
        case v::list: {
            std::vector<rich::line> items;
            for (auto& [id, p] : w.postmortems)
                if (p.platform == m.platform && p.channel == m.channel && p.st == postmortem::state::open)
                    items.push_back(
                        {rich::bold(p.id), txt(" " + p.title + " — lead " + name(p, p.lead) + ", " +
                                               std::to_string(p.participants.size()) + " participants")});
            if (items.empty())
                say(private_reply(m), line("No postmortem is open in this channel."));
            else
                say(private_reply(m),
                    msg({rich::para({txt("Open postmortems here:")}), rich::bullets(items)}));
            return;
        }
        default:
            break;
        }
        std::string error;
        postmortem* p = resolve(c, m, error);
        if (!p) {
            refuse(m, error, usage);
            return;
        }
        if (p->st == postmortem::state::cancelled) {
            refuse(m, p->id + " was cancelled.", "");
            return;
        }
        switch (c.v) {
        case v::join: {
            if (participant* who = p->find(m.user)) {
                if (who->st == participant::stage::stopped) {
                    say(private_reply(m),
                        line("Welcome back — picking up " + p->id + " where you left off."));
                    ask(*p, m.user, who->pos);
                } else {
                    say(private_reply(m), line("You are already taking part in " + p->id + "."));
                }
                return;
            }
            if (p->participants.size() >= s.max_participants) {
                refuse(m, p->id + " already has " + std::to_string(s.max_participants) + " participants.",
                       "");
                return;
            }
            add_participant(*p, m.user);
            say(channel_of(*p), line(name(*p, m.user) + " joined " + p->id + "."));
            return;
        }
        case v::add: {
            if (!lead_only(*p, m, "add people")) return;
            std::vector<std::string> added;
            for (auto& u : c.users) {
                if (p->find(u)) continue;
                if (p->participants.size() >= s.max_participants) {
                    refuse(m, p->id + " already has " + std::to_string(s.max_participants) + " participants.",
                           "");
                    break;
                }
                add_participant(*p, u);
                added.push_back(u);
            }
            if (added.empty())
                say(private_reply(m), line("Everyone named is already taking part in " + p->id + "."));
            else
                say(channel_of(*p), line("Added " + names(*p, added) + " to " + p->id + "."));
            return;
        }
        case v::remove: {
            if (!lead_only(*p, m, "remove people")) return;
            const std::string& u = c.users[0];
            if (!p->find(u)) {
                refuse(m, name(*p, u) + " is not taking part in " + p->id + ".", usage);
                return;
            }
            const std::string nm = name(*p, u);
            auto e = ev::make("participant_removed", p->id);
            e["user"] = u;
            emit(std::move(e));
            say(channel_of(*p), line("Removed " + nm + " from " + p->id + "."));
            maybe_auto_finish(*p);
            return;
        }
        case v::status:
            say(private_reply(m), status(*p));
            return;
        case v::preview: {
            if (!lead_only(*p, m, "preview the summary")) return;
            rich::message pv = render_summary(w, *p, s, true);
            pv.blocks.insert(
                pv.blocks.begin(),
                rich::para({rich::ital("Preview, only for you; private answers are marked and will "
                                       "not be posted.")}));
            say(private_reply(m), std::move(pv));
            return;
        }
        case v::finish:
            if (!lead_only(*p, m, "finish it")) return;
            finish(*p, "");
            return;
        case v::cancel:
            if (!lead_only(*p, m, "cancel it")) return;
            emit(ev::make("cancelled", p->id));
            say(channel_of(*p), line(p->id + " (" + p->title + ") was cancelled by " + name(*p, m.user) +
                                     "; no summary will be posted."));
            return;
        case v::remind: {
            if (!lead_only(*p, m, "send reminders")) return;
            const int n = remind(*p);
            say(private_reply(m),
                line(n == 0 ? "Everyone has finished; nobody to remind."
                            : "Reminded " + std::to_string(n) + (n == 1 ? " person." : " people.")));
            return;
        }
        case v::export_: {
            const bool lead = p->lead == m.user;
            send x;
            x.file_name = p->id + "-" + text::slug(p->title) + (lead ? ".md" : ".channel.md");
            x.file_content = render_markdown(w, *p, s, lead);
            x.body = line(lead ? "The full record of " + p->id + ", private answers included and marked."
                               : "The summary document of " + p->id + ".");
            x.body.fallback = rich::plain(x.body);
            x.to = lead ? destination{destination::kind::dm, m.platform, "", "", m.user} : channel_of(*p);
            out.sends.push_back(std::move(x));
            out.exports.push_back(write_exports{p->id});
            return;
        }
        default:
            return;
        }
    }

    void add_participant(postmortem& p, const std::string& user) {
        auto e = ev::make("participant_added", p.id);
        e["user"] = user;
        emit(std::move(e));
        open_interview(p, *p.find(user));
    }

    int remind(postmortem& p) {
        int n = 0;
        for (auto& x : p.participants) {
            if (x.st == participant::stage::completed || x.st == participant::stage::stopped) continue;
            ++n;
            const auto& qs = s.questions.questions;
            std::string where = x.pos < qs.size()
                                    ? " We were at question " + std::to_string(x.pos + 1) + ": " +
                                          (x.in_followup ? x.followup_prompt : qs[x.pos].prompt)
                                    : "";
            say(interview_place(p, x.user),
                msg({rich::para({rich::mention(x.user, name(p, x.user)),
                                 txt(" — a gentle reminder: your account of "), rich::bold(p.title),
                                 txt(" still helps, however short." + where)})}),
                {x.user});
        }
        return n;
    }

    rich::message status(const postmortem& p) {
        const auto& qs = s.questions.questions;
        std::vector<rich::line> items;
        for (auto& x : p.participants) {
            std::vector<std::string> answered;
            for (auto& q : qs) {
                if (q.timeline) {
                    if (!x.steps.empty())
                        answered.push_back(q.id + " (" + std::to_string(x.steps.size()) + ")");
                } else if (auto it = x.answers.find(q.id); it != x.answers.end() && !it->second.skipped) {
                    answered.push_back(q.id);
                }
            }
            const std::string st = participant_status(x, qs.size());
            std::string line = name(p, x.user) + ": " + st;
            if (!answered.empty()) line += " — " + text::join(answered, ", ");
            if (x.st == participant::stage::active && x.pos < qs.size())
                line += "; now at question " + std::to_string(x.pos + 1) + " of " + std::to_string(qs.size());
            if (x.st == participant::stage::stopped) line += " (stopped)";
            items.push_back({txt(line)});
        }
        const char* state = p.st == postmortem::state::open ? "open" : "finished";
        return msg({rich::para({rich::bold(p.id + " " + p.title),
                                txt(" — " + std::string(state) + ", lead " + name(p, p.lead))}),
                    rich::bullets(items)});
    }

    void start(const message_in& m, const command& c, const std::string& usage) {
        if (c.title.size() > s.max_title_bytes) {
            refuse(m,
                   "That title is too long; keep it under " + std::to_string(s.max_title_bytes) + " bytes.",
                   usage);
            return;
        }
        if (m.place == message_in::where::dm) {
            refuse(m, "Start a postmortem in the incident channel, so the summary has a home.", usage);
            return;
        }
        sys_seconds window_start = m.time - 24h;
        if (!c.at.empty()) {
            times::context ctx{w.zone_of(m.platform, m.user, s), m.time - 24h, m.time, m.time};
            auto r = times::read_time(c.at, ctx);
            using st = times::reading::status;
            if ((r.st != st::ok && r.st != st::outside_window) || !r.at) {
                refuse(m,
                       "I can't use `--at " + text::clip(c.at, 60) +
                           "`: " + (r.problem.empty() ? "it has no time." : r.problem),
                       usage);
                return;
            }
            window_start = *r.at;
        }
        std::vector<std::string> people;
        if (!c.no_self) people.push_back(m.user);
        for (auto& u : c.users)
            if (std::find(people.begin(), people.end(), u) == people.end()) people.push_back(u);
        if (people.size() > s.max_participants) {
            refuse(m, "At most " + std::to_string(s.max_participants) + " participants.", usage);
            return;
        }
        const std::string id = "PM-" + std::to_string(w.next_number);
        auto e = ev::make("started", id);
        e["number"] = w.next_number;
        e["title"] = c.title;
        e["platform"] = m.platform;
        e["channel"] = m.channel;
        e["lead"] = m.user;
        e["dm"] = c.dm || s.interview_dm;
        e["anonymous"] = c.anonymous;
        e["window_start"] = secs(window_start);
        e["window_end"] = secs(m.time);
        e["at"] = secs(m.time);
        e["participants"] = json::array{};
        emit(std::move(e));
        postmortem& p = w.postmortems.at(id);
        say(channel_of(p),
            msg({rich::para({rich::bold(id), txt(" "), rich::bold(p.title),
                             txt(" — a blameless postmortem, led by " + name(p, m.user) + ".")}),
                 rich::para({txt(
                     people.empty()
                         ? "Nobody is taking part yet: `" + m.command_word + " join` to give your account."
                         : "Each participant gets their own " +
                               std::string(p.dm ? "direct message" : "thread") +
                               " with a few questions. Anyone can `" + m.command_word + " join`.")})}));
        for (auto& u : people)
            add_participant(p, u);
        out.schedules.push_back(schedule{m.time + s.remind_after, timer_in{id, timer_in::kind::remind}});
        out.schedules.push_back(schedule{m.time + s.deadline, timer_in{id, timer_in::kind::deadline}});
    }
};

} // namespace

outcome engine::on_message(world& w, const message_in& in) const {
    run r{s_, w, {}};
    message_in m = in;
    m.text = text::sanitize_utf8(m.text);
    m.user_name = text::clip(text::sanitize_utf8(m.user_name), 80);
    r.seen(m.platform, m.user, m.user_name, m.user_tz);
    for (auto& x : m.mentions)
        r.seen(m.platform, x.id, text::clip(text::sanitize_utf8(x.name), 80), std::nullopt);
    if (m.is_command) {
        if (m.text.size() > 4096) {
            r.refuse(m, "That command is too long.", "");
            return std::move(r.out);
        }
        r.on_command(m, m.text);
    } else {
        r.on_reply(m, m.text);
    }
    return std::move(r.out);
}

outcome engine::on_timer(world& w, const timer_in& t, sys_seconds now) const {
    (void)now;
    run r{s_, w, {}};
    auto it = w.postmortems.find(t.pm);
    if (it == w.postmortems.end() || it->second.st != postmortem::state::open) return std::move(r.out);
    postmortem& p = it->second;
    if (t.what == timer_in::kind::remind) {
        if (p.reminded) return std::move(r.out);
        r.emit(ev::make("reminded", p.id));
        r.remind(p);
    } else {
        r.finish(p, "The deadline has passed, so here is the summary with the accounts given so far.");
    }
    return std::move(r.out);
}

std::string participant_status(const participant& x, std::size_t nquestions) {
    if (x.st == participant::stage::completed) return "answered";
    const bool any = !x.steps.empty() || std::any_of(x.answers.begin(), x.answers.end(),
                                                     [](auto& a) { return !a.second.skipped; });
    (void)nquestions;
    return any ? "partial" : "none";
}

} // namespace pm::conv

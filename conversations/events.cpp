#include "conversations/events.hpp"

#include <boost/json.hpp>

namespace pm::conv {

namespace json = boost::json;

namespace {

std::string str(const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_string()) return {};
    return std::string(v->get_string());
}

std::int64_t num(const json::object& o, const char* k, std::int64_t def = 0) {
    auto* v = o.if_contains(k);
    if (!v) return def;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return def;
}

bool flag(const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    return v && v->is_bool() && v->get_bool();
}

std::optional<sys_seconds> instant(const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_int64()) return std::nullopt;
    return sys_seconds{std::chrono::seconds{v->get_int64()}};
}

std::optional<std::string> opt_str(const json::object& o, const char* k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
}

} // namespace

namespace ev {
json::object make(const char* type, const std::string& pm) {
    json::object o;
    o["type"] = type;
    if (!pm.empty()) o["pm"] = pm;
    return o;
}
} // namespace ev

bool fold(world& w, const json::object& e) {
    const std::string type = str(e, "type");
    if (type == "user_seen") {
        auto& u = w.users[str(e, "platform") + "/" + str(e, "user")];
        if (auto n = opt_str(e, "name"); n && !n->empty()) u.name = *n;
        if (auto tz = opt_str(e, "tz")) u.platform_tz = *tz;
        return true;
    }
    if (type == "tz_set") {
        w.users[str(e, "platform") + "/" + str(e, "user")].tz = str(e, "tz");
        return true;
    }
    if (type == "started") {
        postmortem p;
        p.id = str(e, "pm");
        p.title = str(e, "title");
        p.platform = str(e, "platform");
        p.channel = str(e, "channel");
        p.lead = str(e, "lead");
        p.dm = flag(e, "dm");
        p.anonymous = flag(e, "anonymous");
        p.window_start = instant(e, "window_start").value_or(sys_seconds{});
        p.window_end = instant(e, "window_end").value_or(sys_seconds{});
        p.started_at = instant(e, "at").value_or(p.window_end);
        if (auto* ps = e.if_contains("participants"); ps && ps->is_array())
            for (auto& u : ps->get_array())
                if (u.is_string()) p.participants.push_back(participant{std::string(u.get_string())});
        w.next_number = std::max(w.next_number, num(e, "number") + 1);
        if (p.id.empty()) return false;
        w.postmortems[p.id] = std::move(p);
        return true;
    }
    auto it = w.postmortems.find(str(e, "pm"));
    if (it == w.postmortems.end()) return false;
    postmortem& p = it->second;
    if (type == "finished") {
        p.st = postmortem::state::finished;
        ++p.summaries_posted;
        return true;
    }
    if (type == "cancelled") {
        p.st = postmortem::state::cancelled;
        return true;
    }
    if (type == "reminded") {
        p.reminded = true;
        return true;
    }
    const std::string user = str(e, "user");
    if (type == "participant_added") {
        if (!p.find(user)) p.participants.push_back(participant{user});
        return true;
    }
    if (type == "participant_removed") {
        std::erase_if(p.participants, [&](const participant& x) { return x.user == user; });
        return true;
    }
    participant* who = p.find(user);
    if (!who) return false;
    if (type == "opened") {
        who->opened = true;
        return true;
    }
    if (type == "asked") {
        who->pos = static_cast<std::size_t>(num(e, "pos"));
        who->st = participant::stage::active;
        auto f = opt_str(e, "followup");
        who->in_followup = f.has_value();
        who->followup_prompt = f.value_or("");
        return true;
    }
    if (type == "answered" || type == "skipped") {
        answer a;
        a.text = str(e, "text");
        a.is_private = flag(e, "private");
        a.message_ref = str(e, "ref");
        a.skipped = type == "skipped";
        a.prompt = str(e, "prompt");
        auto& into = flag(e, "followup") ? who->followups : who->answers;
        into[str(e, "qid")] = std::move(a);
        return true;
    }
    if (type == "steps") {
        const std::string ref = str(e, "ref");
        if (flag(e, "replace") && !ref.empty())
            std::erase_if(who->steps, [&](const step& s) { return s.message_ref == ref; });
        if (auto* ss = e.if_contains("steps"); ss && ss->is_array()) {
            for (auto& v : ss->get_array()) {
                if (!v.is_object()) continue;
                const auto& o = v.get_object();
                step s;
                s.seq = num(o, "seq", who->next_step_seq);
                s.at = instant(o, "at");
                s.end = instant(o, "end");
                s.approximate = flag(o, "approx");
                s.text = str(o, "text");
                s.original = str(o, "original");
                s.is_private = flag(o, "private");
                s.message_ref = ref;
                who->next_step_seq = std::max(who->next_step_seq, s.seq + 1);
                who->steps.push_back(std::move(s));
            }
            std::stable_sort(who->steps.begin(), who->steps.end(),
                             [](const step& a, const step& b) { return a.seq < b.seq; });
        }
        return true;
    }
    if (type == "stopped") {
        who->st = participant::stage::stopped;
        who->in_followup = false;
        return true;
    }
    if (type == "completed") {
        who->st = participant::stage::completed;
        who->in_followup = false;
        return true;
    }
    return false;
}

participant* postmortem::find(const std::string& user) {
    for (auto& x : participants)
        if (x.user == user) return &x;
    return nullptr;
}

const participant* postmortem::find(const std::string& user) const {
    for (auto& x : participants)
        if (x.user == user) return &x;
    return nullptr;
}

std::string world::zone_of(const std::string& platform, const std::string& user, const settings& s) const {
    auto it = users.find(platform + "/" + user);
    if (it != users.end()) {
        if (it->second.tz) return *it->second.tz;
        if (it->second.platform_tz && !it->second.platform_tz->empty()) return *it->second.platform_tz;
    }
    return s.default_tz;
}

std::string world::name_of(const std::string& platform, const std::string& user) const {
    auto it = users.find(platform + "/" + user);
    if (it != users.end() && !it->second.name.empty()) return it->second.name;
    return user;
}

std::string thread_key(const std::string& pm, const std::string& user) {
    return pm + "/" + user;
}

} // namespace pm::conv

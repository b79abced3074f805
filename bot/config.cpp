#include "bot/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "bot/rules_config.hpp"
#include "conversations/times.hpp"

namespace pm::bot {

namespace embedded {
extern const char* const questions_toml;
}

namespace {

std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

struct reporter {
    std::string file;
    std::vector<std::string>& errors;
    void at(const toml::node* n, const std::string& key, const std::string& msg) {
        const auto line = n ? n->source().begin.line : 0;
        errors.push_back(file + ":" + std::to_string(line) + ": " + key + ": " + msg);
    }
    // Unknown keys are rejected, naming the nearest valid one.
    void known(const toml::table& t, const std::string& prefix, std::initializer_list<const char*> keys) {
        for (auto& [k, v] : t) {
            bool ok = false;
            for (auto* x : keys)
                ok = ok || k.str() == x;
            if (ok) continue;
            std::string best;
            std::size_t bd = 4;
            for (auto* x : keys)
                if (auto d = distance(k.str(), x); d < bd) bd = d, best = x;
            at(&v, prefix + std::string(k.str()),
               "unknown key" + (best.empty() ? std::string() : "; did you mean `" + prefix + best + "`?"));
        }
    }
};

template <class T>
void get(reporter& r, const toml::table& t, const char* key, const std::string& prefix, T& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (auto v = n->value<T>())
        out = *v;
    else
        r.at(n, prefix + key, "has the wrong type");
}

void get_duration(reporter& r, const toml::table& t, const char* key, const std::string& prefix,
                  std::chrono::seconds& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    auto s = n->value<std::string>();
    auto d = s ? parse_duration(*s) : std::nullopt;
    if (!d || d->count() <= 0)
        r.at(n, prefix + key, "expects a duration such as \"30m\", \"24h\" or \"3d\"");
    else
        out = *d;
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::optional<conv::question_set> parse_questions(const toml::table& t, reporter& r) {
    conv::question_set qs;
    r.known(t, "", {"opening", "question"});
    get(r, t, "opening", "", qs.opening);
    const toml::array* arr = t["question"].as_array();
    if (!arr || arr->empty()) {
        r.at(&t, "question", "at least one [[question]] is needed");
        return std::nullopt;
    }
    std::set<std::string> ids;
    int timelines = 0;
    const auto before = r.errors.size();
    for (auto& n : *arr) {
        const toml::table* q = n.as_table();
        if (!q) continue;
        conv::question x;
        r.known(*q, "question.", {"id", "label", "prompt", "timeline", "ideas"});
        get(r, *q, "id", "question.", x.id);
        get(r, *q, "label", "question.", x.label);
        get(r, *q, "prompt", "question.", x.prompt);
        get(r, *q, "timeline", "question.", x.timeline);
        get(r, *q, "ideas", "question.", x.ideas);
        if (x.id.empty() ||
            x.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            r.at(q, "question.id", "needs lowercase letters, digits and _");
        else if (!ids.insert(x.id).second)
            r.at(q, "question.id", "`" + x.id + "` is used twice");
        if (x.prompt.empty()) r.at(q, "question.prompt", "is required");
        timelines += x.timeline;
        qs.questions.push_back(std::move(x));
    }
    if (timelines > 1) r.at(arr, "question.timeline", "only one question can be the timeline");
    if (r.errors.size() != before) return std::nullopt;
    return qs;
}

std::optional<toml::table> parse_toml(const std::string& text, const std::string& name,
                                      std::vector<std::string>& e) {
    try {
        return toml::parse(text, name);
    } catch (const toml::parse_error& err) {
        e.push_back(name + ":" + std::to_string(err.source().begin.line) + ": " +
                    std::string(err.description()));
        return std::nullopt;
    }
}

} // namespace

std::optional<std::string> process_env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
}

std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
    if (s.size() < 2) return std::nullopt;
    const char unit = s.back();
    long long n = 0;
    for (char c : s.substr(0, s.size() - 1)) {
        if (c < '0' || c > '9' || n > 100000000) return std::nullopt;
        n = n * 10 + (c - '0');
    }
    switch (unit) {
    case 's':
        return std::chrono::seconds{n};
    case 'm':
        return std::chrono::seconds{n * 60};
    case 'h':
        return std::chrono::seconds{n * 3600};
    case 'd':
        return std::chrono::seconds{n * 86400};
    default:
        return std::nullopt;
    }
}

conv::question_set default_questions() {
    std::vector<std::string> e;
    reporter r{"config/questions.toml", e};
    auto t =
        toml::parse(std::string_view(embedded::questions_toml), std::string_view("config/questions.toml"));
    return *parse_questions(t, r);
}

std::optional<config> load_config(const std::optional<std::filesystem::path>& file, const env_fn& env,
                                  std::vector<std::string>& errors) {
    config c;
    c.settings.questions = default_questions();
    c.settings.rules = load_default_rules();
    const std::string name = file ? file->string() : "<defaults>";
    reporter r{name, errors};
    std::filesystem::path base = file ? file->parent_path() : std::filesystem::path(".");

    auto secret = [&](const toml::table* t, const char* key, const std::string& prefix, std::string& out) {
        if (!t) return;
        get(r, *t, key, prefix, out);
        std::string path;
        get(r, *t, (std::string(key) + "_file").c_str(), prefix, path);
        if (!path.empty()) {
            if (auto v = read_file(base / path))
                out = *v;
            else
                r.at(t->get(std::string(key) + "_file"), prefix + key + "_file", "cannot read " + path);
        }
    };

    if (file) {
        auto text = read_file(*file);
        if (!text) {
            errors.push_back(name + ":0: cannot read the config file");
            return std::nullopt;
        }
        auto tbl = parse_toml(*text, name, errors);
        if (!tbl) return std::nullopt;
        const toml::table& t = *tbl;
        r.known(t, "",
                {"adapters", "defaults", "summary", "storage", "admin", "log", "questions", "nudges", "shell",
                 "slack", "matrix", "limits"});
        if (const toml::node* a = t.get("adapters")) {
            if (auto* arr = a->as_array()) {
                for (auto& x : *arr) {
                    auto s = x.value<std::string>();
                    if (!s || (*s != "shell" && *s != "slack" && *s != "matrix"))
                        r.at(&x, "adapters", "each adapter is \"shell\", \"slack\" or \"matrix\"");
                    else
                        c.adapters.push_back(*s);
                }
            } else
                r.at(a, "adapters", "expects a list such as [\"slack\"]");
        }
        if (auto* d = t["defaults"].as_table()) {
            r.known(*d, "defaults.", {"timezone", "interview", "auto_finish", "remind_after", "deadline"});
            get(r, *d, "timezone", "defaults.", c.settings.default_tz);
            if (!conv::times::valid_zone(c.settings.default_tz))
                r.at(d->get("timezone"), "defaults.timezone",
                     "`" + c.settings.default_tz + "` is not an IANA zone");
            std::string interview = "thread";
            get(r, *d, "interview", "defaults.", interview);
            if (interview != "thread" && interview != "dm")
                r.at(d->get("interview"), "defaults.interview", "is \"thread\" or \"dm\"");
            c.settings.interview_dm = interview == "dm";
            get(r, *d, "auto_finish", "defaults.", c.settings.auto_finish);
            get_duration(r, *d, "remind_after", "defaults.", c.settings.remind_after);
            get_duration(r, *d, "deadline", "defaults.", c.settings.deadline);
        }
        if (auto* s = t["summary"].as_table()) {
            r.known(*s, "summary.", {"timezone", "gap_minutes", "conflict_minutes"});
            get(r, *s, "timezone", "summary.", c.settings.summary_tz);
            if (!conv::times::valid_zone(c.settings.summary_tz))
                r.at(s->get("timezone"), "summary.timezone",
                     "`" + c.settings.summary_tz + "` is not an IANA zone");
            std::int64_t gap = c.settings.gap_minutes, conflict = c.settings.conflict_minutes;
            get(r, *s, "gap_minutes", "summary.", gap);
            get(r, *s, "conflict_minutes", "summary.", conflict);
            if (gap < 1 || gap > 10080)
                r.at(s->get("gap_minutes"), "summary.gap_minutes", "expects 1 to 10080");
            if (conflict < 1 || conflict > 1440)
                r.at(s->get("conflict_minutes"), "summary.conflict_minutes", "expects 1 to 1440");
            c.settings.gap_minutes = static_cast<int>(gap);
            c.settings.conflict_minutes = static_cast<int>(conflict);
        }
        if (auto* s = t["storage"].as_table()) {
            r.known(*s, "storage.", {"data_dir"});
            std::string d;
            get(r, *s, "data_dir", "storage.", d);
            if (!d.empty())
                c.data_dir = std::filesystem::path(d).is_absolute() ? std::filesystem::path(d) : base / d;
        }
        if (auto* s = t["admin"].as_table()) {
            r.known(*s, "admin.", {"listen", "enabled"});
            get(r, *s, "listen", "admin.", c.admin_listen);
            get(r, *s, "enabled", "admin.", c.admin_enabled);
        }
        if (auto* s = t["log"].as_table()) {
            r.known(*s, "log.", {"level", "format", "file"});
            get(r, *s, "level", "log.", c.log_level);
            get(r, *s, "format", "log.", c.log_format);
            get(r, *s, "file", "log.", c.log_file);
            static const std::set<std::string> levels{"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off"};
            if (!c.log_level.empty() && !levels.contains(c.log_level))
                r.at(s->get("level"), "log.level",
                     "is one of trace, debug, info, warn, error, critical, off");
            if (c.log_format != "text" && c.log_format != "json")
                r.at(s->get("format"), "log.format", "is \"text\" or \"json\"");
        }
        if (auto* s = t["limits"].as_table()) {
            r.known(*s, "limits.", {"max_answer_bytes", "max_participants", "max_steps"});
            std::int64_t a = static_cast<std::int64_t>(c.settings.max_answer_bytes);
            std::int64_t p = static_cast<std::int64_t>(c.settings.max_participants);
            std::int64_t st = static_cast<std::int64_t>(c.settings.max_steps);
            get(r, *s, "max_answer_bytes", "limits.", a);
            get(r, *s, "max_participants", "limits.", p);
            get(r, *s, "max_steps", "limits.", st);
            if (a < 256 || a > 1 << 20)
                r.at(s->get("max_answer_bytes"), "limits.max_answer_bytes", "expects 256 to 1048576");
            if (p < 1 || p > 1000)
                r.at(s->get("max_participants"), "limits.max_participants", "expects 1 to 1000");
            if (st < 1 || st > 10000) r.at(s->get("max_steps"), "limits.max_steps", "expects 1 to 10000");
            c.settings.max_answer_bytes = static_cast<std::size_t>(a);
            c.settings.max_participants = static_cast<std::size_t>(p);
            c.settings.max_steps = static_cast<std::size_t>(st);
        }
        auto sub_file = [&](const char* section, auto&& fn) {
            auto* s = t[section].as_table();
            if (!s) return;
            r.known(*s, std::string(section) + ".", {"file"});
            std::string f;
            get(r, *s, "file", std::string(section) + ".", f);
            if (f.empty()) return;
            auto path = std::filesystem::path(f).is_absolute() ? std::filesystem::path(f) : base / f;
            auto text = read_file(path);
            if (!text) {
                r.at(s->get("file"), std::string(section) + ".file", "cannot read " + path.string());
                return;
            }
            if (auto sub = parse_toml(*text, path.string(), errors)) fn(*sub, path.string());
        };
        sub_file("questions", [&](const toml::table& q, const std::string& n) {
            reporter qr{n, errors};
            if (auto qs = parse_questions(q, qr)) c.settings.questions = std::move(*qs);
        });
        sub_file("nudges", [&](const toml::table& q, const std::string& n) {
            std::vector<std::string> rule_errors;
            if (auto rs = parse_rules(q, rule_errors)) c.settings.rules = std::move(*rs);
            for (auto& e : rule_errors)
                errors.push_back(n + ": " + e);
        });
        if (auto* s = t["shell"].as_table()) {
            r.known(*s, "shell.", {"channel"});
            get(r, *s, "channel", "shell.", c.shell_channel);
        }
        if (auto* s = t["slack"].as_table()) {
            r.known(*s, "slack.",
                    {"api_url", "bot_token", "bot_token_file", "app_token", "app_token_file", "ca_file",
                     "client_rate_limits"});
            get(r, *s, "api_url", "slack.", c.slack.api_url);
            get(r, *s, "client_rate_limits", "slack.", c.slack.client_rate_limits);
            get(r, *s, "ca_file", "slack.", c.slack.ca_file);
            secret(s, "bot_token", "slack.", c.slack.bot_token);
            secret(s, "app_token", "slack.", c.slack.app_token);
        }
        if (auto* s = t["matrix"].as_table()) {
            r.known(*s, "matrix.",
                    {"homeserver", "user_id", "access_token", "access_token_file", "password",
                     "password_file", "ca_file"});
            get(r, *s, "homeserver", "matrix.", c.matrix.homeserver);
            get(r, *s, "user_id", "matrix.", c.matrix.user_id);
            get(r, *s, "ca_file", "matrix.", c.matrix.ca_file);
            secret(s, "access_token", "matrix.", c.matrix.access_token);
            secret(s, "password", "matrix.", c.matrix.password);
        }
    }

    // The environment wins over the file; `X_FILE` names a file holding X.
    auto from_env = [&](const char* name, std::string& out) {
        if (auto v = env(name); v && !v->empty()) out = *v;
        const std::string fname = std::string(name) + "_FILE";
        if (auto f = env(fname.c_str()); f && !f->empty()) {
            if (auto v = read_file(*f))
                out = *v;
            else
                errors.push_back("environment:0: " + fname + ": cannot read " + *f);
        }
    };
    from_env("SLACK_BOT_TOKEN", c.slack.bot_token);
    from_env("SLACK_APP_TOKEN", c.slack.app_token);
    from_env("SLACK_API_URL", c.slack.api_url);
    from_env("MATRIX_HOMESERVER", c.matrix.homeserver);
    from_env("MATRIX_USER_ID", c.matrix.user_id);
    from_env("MATRIX_ACCESS_TOKEN", c.matrix.access_token);
    from_env("MATRIX_PASSWORD", c.matrix.password);
    from_env("POSTMORTEM_ADMIN_LISTEN", c.admin_listen);
    if (!errors.empty()) return std::nullopt;
    return c;
}

} // namespace pm::bot

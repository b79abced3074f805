#include "bot/rules_config.hpp"

#include <set>
#include <stdexcept>
#include <string_view>

namespace pm::bot {

namespace embedded {
extern const char* const nudges_toml; // generated from config/nudges.toml
}

namespace {

namespace nd = conv::nudges;

std::string at_line(const toml::node& n) {
    return "line " + std::to_string(n.source().begin.line) + ": ";
}

std::string at_line(const toml::key& k) {
    return "line " + std::to_string(k.source().begin.line) + ": ";
}

struct reader {
    std::vector<std::string>& errors;

    void fail(const toml::node& n, const std::string& key, const std::string& what) {
        errors.push_back(at_line(n) + key + ": " + what);
    }

    std::optional<std::string> string(const toml::node& n, const std::string& key) {
        if (const auto* s = n.as_string()) return s->get();
        fail(n, key, "expected a string");
        return std::nullopt;
    }

    // A non-empty string; used for ids, reframes and prompts, where blank text is a mistake.
    std::optional<std::string> text(const toml::node& n, const std::string& key) {
        auto s = string(n, key);
        if (s && s->find_first_not_of(" \t\r\n") == std::string::npos) {
            fail(n, key, "must not be empty");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::vector<std::string>> strings(const toml::node& n, const std::string& key) {
        const auto* a = n.as_array();
        if (a == nullptr) {
            fail(n, key, "expected an array of strings");
            return std::nullopt;
        }
        std::vector<std::string> out;
        bool ok = true;
        for (std::size_t i = 0; i < a->size(); ++i) {
            const auto& e = *a->get(i);
            const auto k = key + "[" + std::to_string(i) + "]";
            auto s = string(e, k);
            if (!s) {
                ok = false;
                continue;
            }
            if (s->find_first_not_of(" \t\r\n") == std::string::npos) {
                fail(e, k, "must not be empty");
                ok = false;
                continue;
            }
            out.push_back(std::move(*s));
        }
        if (!ok) return std::nullopt;
        return out;
    }

    std::optional<bool> boolean(const toml::node& n, const std::string& key) {
        if (const auto* b = n.as_boolean()) return b->get();
        fail(n, key, "expected true or false");
        return std::nullopt;
    }

    // Every `{class}` a phrase names must be defined in [words], or it would silently match
    // nothing.
    void check_classes(const toml::node& n, const std::string& key, const std::vector<std::string>& phrases,
                       const std::set<std::string>& classes) {
        for (const auto& p : phrases) {
            for (auto open = p.find('{'); open != std::string::npos; open = p.find('{', open + 1)) {
                const auto close = p.find('}', open);
                if (close == std::string::npos) {
                    fail(n, key, "unclosed '{' in \"" + p + "\"");
                    break;
                }
                const auto name = p.substr(open + 1, close - open - 1);
                if (name != "@person" && name != "@system" && classes.count(name) == 0)
                    fail(n, key, "unknown word class {" + name + "} in \"" + p + "\"");
            }
        }
    }
};

std::optional<nd::subject_mode> subject_from(std::string_view s) {
    if (s == "none") return nd::subject_mode::none;
    if (s == "before") return nd::subject_mode::before;
    if (s == "clause") return nd::subject_mode::clause;
    if (s == "next") return nd::subject_mode::next;
    return std::nullopt;
}

} // namespace

std::optional<conv::nudges::ruleset> parse_rules(const toml::table& t, std::vector<std::string>& errors) {
    const auto errors_before = errors.size();
    reader rd{errors};
    nd::ruleset rules;
    std::set<std::string> classes;

    // [words] first: the phrases of the rules refer to its classes.
    if (const auto* w = t.get("words")) {
        if (const auto* tbl = w->as_table()) {
            for (auto&& [k, v] : *tbl) {
                const auto name = std::string(k.str());
                if (auto list = rd.strings(v, "words." + name)) rules.words[name] = std::move(*list);
                classes.insert(name);
            }
        } else {
            rd.fail(*w, "words", "expected a table");
        }
    }

    std::set<std::string> ids;
    auto each_table = [&](const char* name, auto&& body) {
        const auto* n = t.get(name);
        if (n == nullptr) return;
        const auto* arr = n->as_array();
        if (arr == nullptr || !arr->is_array_of_tables()) {
            rd.fail(*n, name, "expected [[" + std::string(name) + "]] tables");
            return;
        }
        for (std::size_t i = 0; i < arr->size(); ++i)
            body(*arr->get(i)->as_table(), std::string(name) + "[" + std::to_string(i + 1) + "]");
    };
    auto check_id = [&](const toml::node& n, const std::string& key, const std::string& id) {
        if (!ids.insert(id).second) rd.fail(n, key, "duplicate id \"" + id + "\"");
    };

    each_table("nudge", [&](const toml::table& tbl, const std::string& where) {
        nd::rule r;
        bool has_id = false, has_phrases = false, has_reframe = false;
        for (auto&& [k, v] : tbl) {
            const auto key = std::string(k.str());
            const auto full = where + "." + key;
            if (key == "id") {
                if (auto s = rd.text(v, full)) {
                    r.id = *s;
                    has_id = true;
                    check_id(v, full, r.id);
                }
            } else if (key == "phrases") {
                if (auto s = rd.strings(v, full)) {
                    if (s->empty()) rd.fail(v, full, "must list at least one phrase");
                    rd.check_classes(v, full, *s, classes);
                    r.phrases = std::move(*s);
                    has_phrases = true;
                }
            } else if (key == "reframe") {
                if (auto s = rd.text(v, full)) {
                    r.reframe = *s;
                    has_reframe = true;
                }
            } else if (key == "exceptions") {
                if (auto s = rd.strings(v, full)) {
                    rd.check_classes(v, full, *s, classes);
                    r.exceptions = std::move(*s);
                }
            } else if (key == "subject") {
                if (auto s = rd.string(v, full)) {
                    if (auto m = subject_from(*s))
                        r.subject = *m;
                    else
                        rd.fail(v, full,
                                "expected \"none\", \"before\", \"clause\" or \"next\", not \"" + *s + "\"");
                }
            } else if (key == "passive") {
                if (auto b = rd.boolean(v, full)) r.passive = *b;
            } else if (key == "forward_ok") {
                if (auto b = rd.boolean(v, full)) r.forward_ok = *b;
            } else {
                errors.push_back(at_line(k) + full + ": unknown key");
            }
        }
        if (!has_id && !tbl.contains("id")) rd.fail(tbl, where + ".id", "missing");
        if (!has_phrases && !tbl.contains("phrases")) rd.fail(tbl, where + ".phrases", "missing");
        if (!has_reframe && !tbl.contains("reframe")) rd.fail(tbl, where + ".reframe", "missing");
        rules.nudges.push_back(std::move(r));
    });

    each_table("followup", [&](const toml::table& tbl, const std::string& where) {
        nd::followup_rule r;
        for (auto&& [k, v] : tbl) {
            const auto key = std::string(k.str());
            const auto full = where + "." + key;
            if (key == "id") {
                if (auto s = rd.text(v, full)) {
                    r.id = *s;
                    check_id(v, full, r.id);
                }
            } else if (key == "phrases") {
                if (auto s = rd.strings(v, full)) {
                    if (s->empty()) rd.fail(v, full, "must list at least one phrase");
                    rd.check_classes(v, full, *s, classes);
                    r.phrases = std::move(*s);
                }
            } else if (key == "prompt") {
                if (auto s = rd.text(v, full)) r.prompt = *s;
            } else {
                errors.push_back(at_line(k) + full + ": unknown key");
            }
        }
        for (const char* required : {"id", "phrases", "prompt"})
            if (!tbl.contains(required)) rd.fail(tbl, where + "." + required, "missing");
        rules.followups.push_back(std::move(r));
    });

    for (auto&& [k, v] : t) {
        const auto key = std::string(k.str());
        if (key != "words" && key != "nudge" && key != "followup")
            errors.push_back(at_line(k) + key + ": unknown key");
    }

    if (errors.size() != errors_before) return std::nullopt;
    return rules;
}

conv::nudges::ruleset load_default_rules() {
    // The embedded file is checked by the tests; a failure here is a build defect, not input.
    const auto parsed =
        toml::parse(std::string_view(embedded::nudges_toml), std::string_view("config/nudges.toml"));
    std::vector<std::string> errors;
    auto rules = parse_rules(parsed, errors);
    if (!rules) throw std::logic_error("embedded config/nudges.toml: " + errors.front());
    return std::move(*rules);
}

} // namespace pm::bot

#include "conversations/nudges.hpp"

#include <algorithm>
#include <unordered_set>

namespace pm::conv::nudges {
namespace {

// ---------------------------------------------------------------------------------------------
// Evidence: quotes, code spans, code blocks and `>` lines. Marked byte by byte so that the
// tokenizer can drop what is inside and the matcher never joins words across them.

bool is_space(std::string_view s, std::size_t i) {
    const char c = s[i];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The length of the UTF-8 sequence starting at i (1 for ASCII and for stray bytes).
std::size_t seq_len(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 1;
    if (c >= 0xF0)
        n = 4;
    else if (c >= 0xE0)
        n = 3;
    else if (c >= 0xC0)
        n = 2;
    return std::min(n, s.size() - i);
}

bool at(std::string_view s, std::size_t i, std::string_view what) {
    return s.substr(i, what.size()) == what;
}

constexpr std::string_view right_single = "\xE2\x80\x99"; // ’ (also the typographic apostrophe)
constexpr std::string_view left_single = "\xE2\x80\x98";  // ‘
constexpr std::string_view left_double = "\xE2\x80\x9C";  // “
constexpr std::string_view right_double = "\xE2\x80\x9D"; // ”
constexpr std::string_view nbsp = "\xC2\xA0";

// A letter or digit for the purpose of words: ASCII alphanumerics and any non-ASCII character
// outside the punctuation blocks (so "café" is one word but “ and — are not part of words).
bool is_word_char(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c == 0xE2 && i + 1 < s.size()) {
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        return c1 != 0x80 && c1 != 0x81; // U+2000–U+207F: spaces, dashes, quotes, ellipsis
    }
    if (c == 0xC2) return false; // U+0080–U+00BF: nbsp, «, », ¿, …
    return c >= 0xC3;
}

bool word_char_before(std::string_view s, std::size_t i) {
    if (i == 0) return false;
    std::size_t j = i - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80)
        --j;
    return is_word_char(s, j);
}

bool word_char_at(std::string_view s, std::size_t i) {
    return i < s.size() && is_word_char(s, i);
}

std::size_t line_end(std::string_view s, std::size_t i) {
    const auto e = s.find('\n', i);
    return e == std::string_view::npos ? s.size() : e;
}

// The end of the paragraph containing i: quotes never run past a blank line, so a stray quote
// mark cannot hide the rest of a long answer.
std::size_t paragraph_end(std::string_view s, std::size_t i) {
    for (std::size_t e = s.find('\n', i); e != std::string_view::npos; e = s.find('\n', e + 1)) {
        std::size_t k = e + 1;
        while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            ++k;
        if (k >= s.size() || s[k] == '\n') return e;
    }
    return s.size();
}

void mark(std::vector<bool>& m, std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to && k < m.size(); ++k)
        m[k] = true;
}

std::vector<bool> evidence_mask(std::string_view s) {
    std::vector<bool> m(s.size(), false);
    std::size_t i = 0;
    bool line_start = true;
    while (i < s.size()) {
        if (line_start) {
            line_start = false;
            std::size_t k = i;
            while (k < s.size() && (s[k] == ' ' || s[k] == '\t'))
                ++k;
            if (at(s, k, "```") || at(s, k, "~~~")) {
                // A fenced block runs to the closing fence line, or to the end when unclosed.
                const auto fence = s.substr(k, 3);
                std::size_t e = line_end(s, k);
                std::size_t close = s.size();
                while (e < s.size()) {
                    std::size_t b = e + 1;
                    while (b < s.size() && (s[b] == ' ' || s[b] == '\t'))
                        ++b;
                    if (at(s, b, fence)) {
                        close = line_end(s, b);
                        break;
                    }
                    e = line_end(s, e + 1);
                }
                mark(m, i, close);
                i = close;
                continue;
            }
            if (k < s.size() && s[k] == '>') {
                const auto e = line_end(s, k);
                mark(m, i, e);
                i = e;
                continue;
            }
        }
        const char c = s[i];
        if (c == '\n') {
            line_start = true;
            ++i;
            continue;
        }
        if (c == '`') {
            std::size_t n = 0;
            while (i + n < s.size() && s[i + n] == '`')
                ++n;
            const auto ticks = s.substr(i, n);
            // A span closes on a run of exactly as many backticks; unclosed, it is a plain mark.
            std::size_t close = std::string_view::npos;
            for (std::size_t f = s.find(ticks, i + n); f != std::string_view::npos; f = s.find(ticks, f)) {
                std::size_t r = 0;
                while (f + r < s.size() && s[f + r] == '`')
                    ++r;
                if (r == n) {
                    close = f;
                    break;
                }
                f += r;
            }
            if (close != std::string_view::npos) {
                mark(m, i, close + n);
                i = close + n;
            } else {
                i += n;
            }
            continue;
        }
        if (c == '"') {
            const auto end = paragraph_end(s, i);
            const auto close = s.substr(0, end).find('"', i + 1);
            if (close != std::string_view::npos) {
                mark(m, i, close + 1);
                i = close + 1;
                continue;
            }
        }
        if (at(s, i, left_double)) {
            const auto end = paragraph_end(s, i);
            const auto close = s.substr(0, end).find(right_double, i + 3);
            if (close != std::string_view::npos) {
                mark(m, i, close + 3);
                i = close + 3;
                continue;
            }
        }
        // Single quotes: an opening mark starts a word and a closing mark ends one, so the
        // apostrophes in "didn't" or "users' sessions" never open or close a quotation.
        const bool straight = c == '\'';
        if ((straight || at(s, i, left_single)) && !word_char_before(s, i)) {
            const std::size_t w = straight ? 1 : 3;
            if (word_char_at(s, i + w) || (i + w < s.size() && !is_space(s, i + w))) {
                const auto end = line_end(s, i);
                std::size_t close = std::string_view::npos;
                for (std::size_t k = i + w; k < end; k += seq_len(s, k)) {
                    const bool mark_here = straight ? s[k] == '\'' : at(s, k, right_single);
                    if (!mark_here) continue;
                    const std::size_t kw = straight ? 1 : 3;
                    if (k > i + w && !is_space(s, k - 1) && !word_char_at(s, k + kw)) {
                        close = k + kw;
                        break;
                    }
                }
                if (close != std::string_view::npos) {
                    mark(m, i, close);
                    i = close;
                    continue;
                }
            }
        }
        i += seq_len(s, i);
    }
    return m;
}

// ---------------------------------------------------------------------------------------------
// Words.

enum class gap {
    space, // whitespace only: the words of a phrase may be separated by this
    other, // other marks ("/", "*", "&"): not inside a phrase, but still the same clause
    line,  // whitespace with one line break: inside a phrase, but a clause may end here
    soft,  // comma, dash, bracket, line break: a clause may end here
    hard,  // sentence end, blank line, evidence in between: a clause ends here
};

struct token {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string norm; // lower case, typographic apostrophes made straight
    gap before = gap::hard;
    bool capitalized = false;
    bool all_caps = false;
    bool camel = false;
    bool has_digit = false;
    bool has_alpha = false;
    bool person_like = false; // a person word or a name, for `{@person}` in phrases
    bool system_like = false; // a system word, host, version or acronym, for `{@system}`
};

gap classify_gap(std::string_view s, const std::vector<bool>& m, std::size_t from, std::size_t to) {
    gap g = gap::space;
    std::size_t newlines = 0;
    auto raise = [&g](gap x) {
        if (static_cast<int>(x) > static_cast<int>(g)) g = x;
    };
    for (std::size_t k = from; k < to; k += seq_len(s, k)) {
        if (m[k]) return gap::hard;
        const char c = s[k];
        if (c == '\n') {
            ++newlines;
            raise(gap::line);
        } else if (is_space(s, k) || at(s, k, nbsp)) {
            continue;
        } else if (c == '.' || c == '!' || c == '?' || c == ';' || c == ':') {
            raise(gap::hard);
        } else if (c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == '-' ||
                   at(s, k, "\xE2\x80\x94") || at(s, k, "\xE2\x80\x93")) {
            raise(gap::soft);
        } else {
            raise(gap::other);
        }
    }
    if (newlines >= 2) return gap::hard;
    return g;
}

bool is_joiner(std::string_view s, std::size_t i, std::size_t& width) {
    if (s[i] == '\'' || s[i] == '-') {
        width = 1;
        return true;
    }
    if (at(s, i, right_single)) {
        width = 3;
        return true;
    }
    return false;
}

std::string normalize(std::string_view w) {
    std::string out;
    out.reserve(w.size());
    for (std::size_t i = 0; i < w.size();) {
        if (at(w, i, right_single)) {
            out += '\'';
            i += 3;
            continue;
        }
        const char c = w[i];
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        ++i;
    }
    return out;
}

// Words outside evidence, each with the kind of gap that precedes it.
std::vector<token> tokenize(std::string_view s, const std::vector<bool>& m) {
    std::vector<token> out;
    std::size_t prev_end = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        if (m[i] || !is_word_char(s, i)) {
            i += seq_len(s, i);
            continue;
        }
        const std::size_t start = i;
        while (i < s.size() && !m[i]) {
            if (is_word_char(s, i)) {
                i += seq_len(s, i);
                continue;
            }
            // Apostrophes and hyphens join letters: "didn't", "on-call", "fat-fingered".
            std::size_t w = 0;
            if (is_joiner(s, i, w) && i + w < s.size() && !m[i + w] && is_word_char(s, i + w)) {
                i += w;
                continue;
            }
            break;
        }
        std::size_t end = i;
        // A trailing apostrophe marks a plural possessive ("users'"); keep it with the word.
        if (end < s.size() && !m[end] && s[end] == '\'' && !word_char_at(s, end + 1) && end > start &&
            s[end - 1] == 's')
            end += 1;
        token t;
        t.offset = start;
        t.length = end - start;
        const auto raw = s.substr(start, end - start);
        t.norm = normalize(raw);
        t.before = out.empty() ? gap::hard : classify_gap(s, m, prev_end, start);
        std::size_t upper = 0, lower = 0;
        for (std::size_t k = 0; k < raw.size(); ++k) {
            const char c = raw[k];
            if (c >= 'A' && c <= 'Z') {
                ++upper;
                if (k > 0 && lower > 0) t.camel = true;
            } else if (c >= 'a' && c <= 'z') {
                ++lower;
            } else if (c >= '0' && c <= '9') {
                t.has_digit = true;
            }
        }
        t.has_alpha = upper + lower > 0;
        t.capitalized = !raw.empty() && raw[0] >= 'A' && raw[0] <= 'Z';
        t.all_caps = upper >= 2 && lower == 0;
        out.push_back(std::move(t));
        prev_end = end;
        i = end;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Word classes and phrase patterns.

struct word_class {
    std::unordered_set<std::string> words;
    std::vector<std::string> suffixes; // from entries written "*ed"

    bool contains(const std::string& w) const {
        if (words.count(w) != 0) return true;
        for (const auto& suf : suffixes)
            if (w.size() > suf.size() + 1 && w.compare(w.size() - suf.size(), suf.size(), suf) == 0)
                return true;
        return false;
    }
};

struct pattern_word {
    enum kind { literal, any, cls, person_like, system_like } k = literal;
    std::string text;               // the word, for literals
    const word_class* wc = nullptr; // for classes
};

using pattern = std::vector<pattern_word>;

struct compiled {
    std::map<std::string, word_class> classes;

    const word_class& get(const std::string& name) const {
        static const word_class empty;
        const auto it = classes.find(name);
        return it == classes.end() ? empty : it->second;
    }
};

std::vector<std::string> split_words(std::string_view phrase) {
    // Phrases are tokenized like the text, so "fat-fingered" and "didn’t" stay one word each.
    std::vector<std::string> out;
    const std::vector<bool> none(phrase.size(), false);
    std::size_t i = 0;
    while (i < phrase.size()) {
        if (phrase[i] == '{') {
            const auto close = phrase.find('}', i);
            if (close != std::string_view::npos) {
                out.emplace_back(phrase.substr(i, close - i + 1));
                i = close + 1;
                continue;
            }
        }
        if (phrase[i] == '*' && (i + 1 == phrase.size() || is_space(phrase, i + 1))) {
            out.emplace_back("*");
            ++i;
            continue;
        }
        if (!is_word_char(phrase, i)) {
            i += seq_len(phrase, i);
            continue;
        }
        const std::size_t start = i;
        while (i < phrase.size()) {
            if (is_word_char(phrase, i)) {
                i += seq_len(phrase, i);
                continue;
            }
            std::size_t w = 0;
            if (is_joiner(phrase, i, w) && i + w < phrase.size() && is_word_char(phrase, i + w)) {
                i += w;
                continue;
            }
            break;
        }
        out.push_back(normalize(phrase.substr(start, i - start)));
    }
    return out;
}

pattern compile_pattern(std::string_view phrase, const compiled& c) {
    pattern p;
    for (auto& w : split_words(phrase)) {
        pattern_word pw;
        if (w == "*") {
            pw.k = pattern_word::any;
        } else if (w == "{@person}") {
            pw.k = pattern_word::person_like;
        } else if (w == "{@system}") {
            pw.k = pattern_word::system_like;
        } else if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
            pw.k = pattern_word::cls;
            pw.wc = &c.get(w.substr(1, w.size() - 2));
        } else {
            pw.text = std::move(w);
        }
        p.push_back(std::move(pw));
    }
    return p;
}

compiled compile_classes(const ruleset& rules) {
    compiled c;
    for (const auto& [name, list] : rules.words) {
        auto& wc = c.classes[name];
        for (const auto& w : list) {
            if (w.size() > 1 && w.front() == '*')
                wc.suffixes.push_back(normalize(w.substr(1)));
            else
                wc.words.insert(normalize(w));
        }
    }
    return c;
}

bool word_matches(const pattern_word& pw, const token& t) {
    switch (pw.k) {
    case pattern_word::any:
        return true;
    case pattern_word::cls:
        return pw.wc->contains(t.norm);
    case pattern_word::person_like:
        return t.person_like;
    case pattern_word::system_like:
        return t.system_like;
    case pattern_word::literal:
        break;
    }
    return pw.text == t.norm;
}

// Does `p` match the tokens starting at i? Words of a phrase are separated by whitespace only.
bool match_at(const pattern& p, const std::vector<token>& toks, std::size_t i) {
    if (p.empty() || i + p.size() > toks.size()) return false;
    for (std::size_t k = 0; k < p.size(); ++k) {
        if (k > 0 && toks[i + k].before != gap::space && toks[i + k].before != gap::line) return false;
        if (!word_matches(p[k], toks[i + k])) return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Who or what a match is said of.

enum class who { none, person, system };

struct context {
    const std::vector<token>& toks;
    const compiled& c;
    const word_class& person;
    const word_class& possessive;
    const word_class& system;
    const word_class& determiner;
    const word_class& be;
    const word_class& skip;
    const word_class& subordinator;
    const word_class& coordinator;

    context(const std::vector<token>& t, const compiled& cc)
        : toks(t), c(cc), person(cc.get("person")), possessive(cc.get("possessive")),
          system(cc.get("system")), determiner(cc.get("determiner")), be(cc.get("be")), skip(cc.get("skip")),
          subordinator(cc.get("subordinator")), coordinator(cc.get("coordinator")) {}

    bool is_possessive_form(const token& t) const {
        return t.norm.size() > 2 && (t.norm.ends_with("'s") || t.norm.back() == '\'');
    }

    // What a single word refers to. `own` says whether possessives count as their owner
    // ("Bob's fault" is about Bob) or are skipped as modifiers ("Bob's script failed").
    who classify(const token& t, bool own) const {
        if (possessive.contains(t.norm)) return own ? who::person : who::none;
        if (person.contains(t.norm)) return who::person;
        if (system.contains(t.norm)) return who::system;
        if (is_possessive_form(t)) {
            if (!own) return who::none;
            const auto base = t.norm.substr(0, t.norm.rfind('\''));
            if (person.contains(base)) return who::person;
            if (system.contains(base)) return who::system;
            return t.capitalized ? who::person : who::none;
        }
        if (person.contains(t.norm)) return who::person;
        if (system.contains(t.norm)) return who::system;
        // Function words are capitalized at the start of a sentence; they are not names.
        if (skip.contains(t.norm) || determiner.contains(t.norm) || be.contains(t.norm) ||
            subordinator.contains(t.norm) || coordinator.contains(t.norm))
            return who::none;
        // Host names, versions and acronyms are things; a capitalized word is most often a name.
        if (t.has_digit && t.has_alpha) return who::system;
        if (t.all_caps || t.camel) return who::system;
        if (t.capitalized) return who::person;
        return who::none;
    }

    bool is_function_word(const token& t) const {
        return skip.contains(t.norm) || determiner.contains(t.norm) || be.contains(t.norm) ||
               (t.has_digit && !t.has_alpha);
    }

    // The words of the clause before token i, nearest last. Stops at a sentence end, at a
    // subordinator ("because the job failed"), and at a comma or "and" once the clause has
    // words of its own; an empty clause continues past "and" to the subject it shares.
    std::vector<std::size_t> clause_before(std::size_t i, bool& shared) const {
        std::vector<std::size_t> out;
        bool content = false;
        shared = false;
        for (std::size_t j = i; j-- > 0;) {
            const gap g = toks[j + 1].before;
            if (g == gap::hard) break;
            const bool soft = g == gap::soft || g == gap::line;
            if (soft && content) break;
            if (soft) shared = true;
            const token& t = toks[j];
            if (subordinator.contains(t.norm)) break;
            if (coordinator.contains(t.norm)) {
                if (content) break;
                shared = true;
                continue;
            }
            out.push_back(j);
            if (!is_function_word(t)) content = true;
        }
        if (!content) shared = false;
        return out;
    }

    std::vector<std::size_t> clause_after(std::size_t i) const {
        std::vector<std::size_t> out;
        bool content = false;
        for (std::size_t j = i; j < toks.size(); ++j) {
            const gap g = toks[j].before;
            if (g == gap::hard) break;
            if (j > i && (g == gap::soft || g == gap::line) && content) break;
            const token& t = toks[j];
            if (subordinator.contains(t.norm)) break;
            if (coordinator.contains(t.norm) && content) break;
            out.push_back(j);
            if (!is_function_word(t)) content = true;
        }
        return out;
    }

    // The subject of a verb at token i: the nearest person or thing before it in its clause,
    // or, for a second verb sharing a subject ("Bob restarted the pod and forgot to drain it"),
    // the first one of the clause it continues.
    who subject_before(std::size_t i) const {
        bool shared = false;
        const auto clause = clause_before(i, shared);
        if (shared) {
            for (auto it = clause.rbegin(); it != clause.rend(); ++it)
                if (const auto w = classify(toks[*it], false); w != who::none) return w;
            return who::none;
        }
        for (const auto j : clause)
            if (const auto w = classify(toks[j], false); w != who::none) return w;
        return who::none;
    }

    // A noun such as "fault" or "culprit": anyone in its clause makes it about a person; failing
    // that, a system there makes it about the system.
    who clause_owner(std::size_t first, std::size_t last) const {
        bool shared = false;
        auto before = clause_before(first, shared);
        const auto after = clause_after(last + 1);
        before.insert(before.end(), after.begin(), after.end());
        bool sys = false;
        for (const auto j : before) {
            // A possessive counts only for the noun it owns: "Bob's fault", but not "the
            // vendor's status page blamed …".
            const auto w = classify(toks[j], j + 1 == first);
            if (w == who::person) return who::person;
            if (w == who::system) sys = true;
        }
        return sys ? who::system : who::none;
    }

    // The first person or thing in the noun phrase that follows: articles are passed over, any
    // other function word ("lazy about …", "was missed at …") ends the search.
    who next_noun(std::size_t i, std::size_t limit) const {
        for (std::size_t j = i; j < toks.size() && j < i + limit; ++j) {
            if (toks[j].before != gap::space && toks[j].before != gap::other) break;
            const token& t = toks[j];
            if (const auto w = classify(t, false); w != who::none) return w;
            if (determiner.contains(t.norm)) continue;
            if (is_function_word(t) || subordinator.contains(t.norm) || coordinator.contains(t.norm)) break;
        }
        return who::none;
    }

    // The agent of a passive ("was missed by the secondary on-call"): the clause after "by".
    who agent(std::size_t i) const {
        bool sys = false;
        for (const auto j : clause_after(i)) {
            const auto w = classify(toks[j], false);
            if (w == who::person) return who::person;
            if (w == who::system) sys = true;
        }
        return sys ? who::system : who::none;
    }
};

void mark_people(std::vector<token>& toks, const context& cx) {
    for (auto& t : toks) {
        const auto w = cx.classify(t, false);
        t.person_like = w == who::person;
        t.system_like = w == who::system;
    }
}

struct compiled_rule {
    const rule* r = nullptr;
    std::vector<pattern> phrases;
    std::vector<pattern> exceptions;
};

// Is the match [i, i+n) inside an occurrence of one of the exceptions?
bool excepted(const compiled_rule& cr, const std::vector<token>& toks, std::size_t i, std::size_t n) {
    for (const auto& ex : cr.exceptions) {
        if (ex.size() < n) continue;
        const std::size_t lo = i + n >= ex.size() ? i + n - ex.size() : 0;
        for (std::size_t s = lo; s <= i; ++s)
            if (s + ex.size() >= i + n && match_at(ex, toks, s)) return true;
    }
    return false;
}

// Does the sentence around token i propose something for the future? The sentence ends at a
// line break too: in chat each line is its own statement, and a proposal on one line ("we
// should add an alert") says nothing about the blame on the next.
bool forward_looking(const std::vector<token>& toks, const std::vector<pattern>& markers, std::size_t i) {
    auto ends_sentence = [](gap g) { return g == gap::hard || g == gap::line; };
    std::size_t from = i;
    while (from > 0 && !ends_sentence(toks[from].before))
        --from;
    std::size_t to = i + 1;
    while (to < toks.size() && !ends_sentence(toks[to].before))
        ++to;
    for (std::size_t s = from; s < to; ++s)
        for (const auto& m : markers)
            if (s + m.size() <= to && match_at(m, toks, s)) return true;
    return false;
}

// Decide whether a match of a rule is blame, using the words around it.
bool flagged(const rule& r, const context& cx, std::size_t i, std::size_t n) {
    const auto& toks = cx.toks;
    // "why didn't anyone …", "who broke …": the phrase names its person itself.
    for (std::size_t k = i; k < i + n; ++k)
        if (toks[k].person_like) return true;
    if (r.passive) {
        // Step back over adverbs to the word governing the participle.
        std::size_t j = i;
        while (j > 0 && toks[j].before != gap::hard && cx.skip.contains(toks[j - 1].norm) &&
               !cx.be.contains(toks[j - 1].norm))
            --j;
        if (j > 0 && toks[j].before != gap::hard) {
            const token& prev = toks[j - 1];
            if (cx.be.contains(prev.norm)) {
                // "the page was missed": someone missed it, unless a system did ("by the proxy").
                for (const auto k : cx.clause_after(i + n))
                    if (toks[k].norm == "by") return cx.agent(k + 1) != who::system;
                return true;
            }
            if (cx.determiner.contains(prev.norm) || (prev.has_digit && !prev.has_alpha)) {
                // "three missed heartbeats" is about heartbeats; "the missed page" about a person.
                return cx.next_noun(i + n, 3) != who::system;
            }
        }
    }
    switch (r.subject) {
    case subject_mode::none:
        return true;
    case subject_mode::before:
        return cx.subject_before(i) != who::system;
    case subject_mode::clause:
        return cx.clause_owner(i, i + n - 1) != who::system;
    case subject_mode::next:
        return cx.next_noun(i + n, 4) != who::system;
    }
    return true;
}

struct position {
    std::size_t line = 1;
    std::size_t column = 1;
};

position locate(std::string_view s, std::size_t offset) {
    position p;
    const auto nl = s.substr(0, offset).rfind('\n');
    p.line = 1 + static_cast<std::size_t>(std::count(s.begin(), s.begin() + static_cast<long>(offset), '\n'));
    p.column = nl == std::string_view::npos ? offset + 1 : offset - nl;
    return p;
}

} // namespace

std::vector<finding> scan(std::string_view text, const ruleset& rules) {
    const auto mask = evidence_mask(text);
    auto toks = tokenize(text, mask);
    if (toks.empty()) return {};
    const auto classes = compile_classes(rules);
    const context cx(toks, classes);
    mark_people(toks, cx);

    std::vector<pattern> forward;
    if (const auto it = rules.words.find("forward"); it != rules.words.end())
        for (const auto& f : it->second)
            forward.push_back(compile_pattern(f, classes));

    std::vector<compiled_rule> crs;
    crs.reserve(rules.nudges.size());
    for (const auto& r : rules.nudges) {
        compiled_rule cr;
        cr.r = &r;
        for (const auto& p : r.phrases)
            cr.phrases.push_back(compile_pattern(p, classes));
        for (const auto& e : r.exceptions)
            cr.exceptions.push_back(compile_pattern(e, classes));
        crs.push_back(std::move(cr));
    }

    struct hit {
        std::size_t first = 0;
        std::size_t count = 0;
        const rule* r = nullptr;
    };
    std::vector<hit> hits;
    for (std::size_t i = 0; i < toks.size(); ++i) {
        for (const auto& cr : crs) {
            for (const auto& p : cr.phrases) {
                if (!match_at(p, toks, i)) continue;
                const std::size_t n = p.size();
                if (excepted(cr, toks, i, n)) continue;
                if (cr.r->forward_ok && forward_looking(toks, forward, i)) continue;
                if (!flagged(*cr.r, cx, i, n)) continue;
                hits.push_back({i, n, cr.r});
            }
        }
    }
    // One finding per occurrence: where matches overlap, the earliest and then longest wins.
    std::stable_sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
        return a.first != b.first ? a.first < b.first : a.count > b.count;
    });
    std::vector<finding> out;
    std::size_t covered = 0;
    for (const auto& h : hits) {
        if (!out.empty() && h.first < covered) continue;
        covered = h.first + h.count;
        const token& a = toks[h.first];
        const token& b = toks[h.first + h.count - 1];
        finding f;
        f.offset = a.offset;
        f.length = b.offset + b.length - a.offset;
        const auto pos = locate(text, f.offset);
        f.line = pos.line;
        f.column = pos.column;
        f.phrase = std::string(text.substr(f.offset, f.length));
        f.reframe = h.r->reframe;
        f.rule_id = h.r->id;
        out.push_back(std::move(f));
    }
    return out;
}

std::optional<finding> first(std::string_view text, const ruleset& rules) {
    auto all = scan(text, rules);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

std::optional<std::string> followup(std::string_view text, const ruleset& rules) {
    const auto mask = evidence_mask(text);
    auto toks = tokenize(text, mask);
    if (toks.empty()) return std::nullopt;
    const auto classes = compile_classes(rules);
    mark_people(toks, context(toks, classes));
    for (const auto& r : rules.followups) {
        for (const auto& phrase : r.phrases) {
            const auto p = compile_pattern(phrase, classes);
            for (std::size_t i = 0; i < toks.size(); ++i)
                if (match_at(p, toks, i)) return r.prompt;
        }
    }
    return std::nullopt;
}

} // namespace pm::conv::nudges

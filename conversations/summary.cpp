#include "conversations/summary.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <numeric>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "conversations/text.hpp"
#include "conversations/times.hpp"

namespace pm::conv {

namespace json = boost::json;
using rich::txt;

namespace {

std::string lane_label(std::size_t i) {
    std::string s = "Responder ";
    if (i < 26) return s + static_cast<char>('A' + i);
    return s + static_cast<char>('A' + (i / 26) - 1) + static_cast<char>('A' + i % 26);
}

// Who is called what in this summary: display names, or "Responder A…" in anonymous mode
// (participants in order, then the lead if not a participant).
std::map<std::string, std::string> make_labels(const world& w, const postmortem& p) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    for (auto& x : p.participants)
        out[x.user] = p.anonymous ? lane_label(i++) : w.name_of(p.platform, x.user);
    if (!out.contains(p.lead)) out[p.lead] = p.anonymous ? lane_label(i++) : w.name_of(p.platform, p.lead);
    return out;
}

// `<@ID>` mentions in user text become readable names; nothing else in the text changes.
std::string humanize(std::string_view s, const world& w, const postmortem& p,
                     const std::map<std::string, std::string>& labels) {
    std::string out;
    std::size_t i = 0;
    for (auto open = s.find("<@"); open != std::string_view::npos; open = s.find("<@", i)) {
        out += s.substr(i, open - i);
        i = open + 1;
        auto close = s.find('>', open);
        if (close == std::string_view::npos || close - open >= 200) {
            out += '<';
            continue;
        }
        std::string id(s.substr(open + 2, close - open - 2));
        if (auto bar = id.find('|'); bar != std::string::npos) id.resize(bar);
        auto it = labels.find(id);
        out += "@" + (it != labels.end() ? it->second : p.anonymous ? "someone" : w.name_of(p.platform, id));
        i = close + 1;
    }
    out += s.substr(i);
    return out;
}

bool is_stopword(std::string_view w) {
    static const std::unordered_set<std::string_view> s{
        "the",     "and",     "for",   "that",  "this", "with",   "from", "was",    "were",
        "saw",     "did",     "had",   "has",   "have", "then",   "when", "into",   "onto",
        "our",     "out",     "but",   "not",   "all",  "its",    "it's", "they",   "them",
        "their",   "you",     "your",  "are",   "been", "being",  "got",  "get",    "about",
        "after",   "before",  "again", "still", "just", "some",   "any",  "who",    "what",
        "which",   "there",   "here",  "also",  "very", "too",    "over", "under",  "while",
        "because", "started", "start", "see",   "seen", "looked", "look", "noticed"};
    return s.contains(w);
}

// ASCII letters and digits, and every byte of a non-ASCII character.
bool is_word_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

// Calls `on_word` with each lowercase word of three letters or more, without stop words and
// plural/past endings (a word may come more than once).
template <class F> void for_each_significant(std::string_view s, F on_word) {
    std::string cur;
    for (std::size_t i = 0, end = 0; i < s.size(); i = end) {
        end = std::find_if_not(s.begin() + i, s.end(), is_word_char) - s.begin();
        if (end - i < 3) {
            end += end == i; // not a word character: skip it
            continue;
        }
        cur = text::lower(s.substr(i, end - i));
        if (is_stopword(cur)) continue;
        for (std::string_view suf : {"ing", "ed", "es", "s"})
            if (cur.size() > suf.size() + 3 && cur.ends_with(suf)) {
                cur.resize(cur.size() - suf.size());
                break;
            }
        on_word(cur);
    }
}

// How many words two entries must have in common to be likely the same event, when the smaller
// of their sets of significant words has `smaller` words: at least two, and most of them.
std::size_t words_needed(std::size_t smaller) {
    return std::max<std::size_t>({1, std::min<std::size_t>(2, smaller), (smaller * 2 + 2) / 3});
}

// Lists of ids stored back to back: list k is items[starts[k]] up to items[starts[k + 1]].
struct id_lists {
    std::vector<std::uint32_t> starts{0}, items;
    std::size_t size() const { return starts.size() - 1; }
    std::span<const std::uint32_t> operator[](std::size_t k) const {
        return {items.data() + starts[k], items.data() + starts[k + 1]};
    }
};

// Inverts `lists`: for each of `nkeys` ids, the lists (ascending) having it among their first
// `first(k)` items.
template <class F> id_lists invert(const id_lists& lists, std::size_t nkeys, F first) {
    id_lists out;
    out.starts.assign(nkeys + 1, 0);
    for (std::size_t k = 0; k < lists.size(); ++k)
        for (auto id : lists[k].first(first(k)))
            ++out.starts[id + 1];
    std::partial_sum(out.starts.begin(), out.starts.end(), out.starts.begin());
    out.items.resize(out.starts.back());
    auto next = out.starts;
    for (std::size_t k = 0; k < lists.size(); ++k)
        for (auto id : lists[k].first(first(k)))
            out.items[next[id]++] = static_cast<std::uint32_t>(k);
    return out;
}

// Whether two sorted lists have at least `need` ids in common. Each list may have only so many
// ids the other lacks: the walk stops as soon as one has more.
bool share_at_least(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b, std::size_t need) {
    if (need == 0) return true;
    if (a.size() < need || b.size() < need) return false;
    std::size_t a_only = a.size() - need, b_only = b.size() - need;
    for (auto i = a.begin(), j = b.begin();;) {
        if (*i < *j) {
            if (a_only-- == 0) return false;
            ++i;
        } else if (*j < *i) {
            if (b_only-- == 0) return false;
            ++j;
        } else {
            if (--need == 0) return true;
            ++i;
            ++j;
        }
    }
}

// Entries (sorted by time) likely to be the same event placed more than `apart` minutes apart by
// different people, as pairs in index order.
//
// Words are numbered rarest first, so an entry's sorted ids start with its rarest words. Two
// entries sharing k words share one among the first |W| - k + 1 of each set W: the first shared
// word comes no later, the other k - 1 all follow it. So a matching pair shares one of the
// smaller set's rarest words, and only pairs found through those words (few entries have them)
// are counted, not every pair sharing a common word. The pairs found, and their order, are the
// same as comparing every pair.
std::vector<conflict> likely_same_events(const std::vector<timeline_entry>& timed, long apart) {
    const std::size_t n = timed.size();
    std::unordered_map<std::string, std::uint32_t> word_ids;
    std::map<std::string_view, std::uint32_t> lane_ids;
    std::vector<std::uint32_t> lane(n);
    id_lists words; // per entry, its distinct word ids, sorted
    for (std::size_t i = 0; i < n; ++i) {
        lane[i] = lane_ids.emplace(timed[i].lane, static_cast<std::uint32_t>(lane_ids.size())).first->second;
        auto& ids = words.items;
        const auto from = static_cast<std::ptrdiff_t>(ids.size());
        for_each_significant(timed[i].text, [&](const std::string& wd) {
            auto it = word_ids.find(wd);
            if (it == word_ids.end())
                it = word_ids.emplace(wd, static_cast<std::uint32_t>(word_ids.size())).first;
            ids.push_back(it->second);
        });
        std::sort(ids.begin() + from, ids.end());
        ids.erase(std::unique(ids.begin() + from, ids.end()), ids.end());
        words.starts.push_back(static_cast<std::uint32_t>(ids.size()));
    }

    // Number the words by how many entries have them, rarest first.
    std::vector<std::uint32_t> count(word_ids.size(), 0);
    for (auto id : words.items)
        ++count[id];
    std::vector<std::uint32_t> by_rarity(count.size()), rank(count.size());
    std::iota(by_rarity.begin(), by_rarity.end(), 0);
    std::stable_sort(by_rarity.begin(), by_rarity.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return count[a] < count[b]; });
    for (std::uint32_t r = 0; r < by_rarity.size(); ++r)
        rank[by_rarity[r]] = r;
    for (auto& id : words.items)
        id = rank[id];
    // The first rare[i] words of entry i: any match with no more words than it shares one of them.
    std::vector<std::size_t> rare(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::sort(words.items.begin() + words.starts[i], words.items.begin() + words.starts[i + 1]);
        rare[i] = words[i].size() + 1 - words_needed(words[i].size());
    }

    // Per word: the entries having it, and those having it among their rarest words.
    const id_lists postings = invert(words, count.size(), [&](std::size_t i) { return words[i].size(); });
    const id_lists rare_postings = invert(words, count.size(), [&](std::size_t i) { return rare[i]; });

    // For each entry, the later ones sharing one of its rarest words, or having one of its words
    // among their rarest: every later entry that can match.
    std::vector<conflict> out;
    std::vector<std::uint32_t> seen(n, 0), candidates; // seen[j] == i + 1: j is a candidate for i
    auto collect = [&](std::span<const std::uint32_t> post, std::uint32_t i) {
        for (auto it = std::upper_bound(post.begin(), post.end(), i); it != post.end(); ++it)
            if (seen[*it] != i + 1) {
                seen[*it] = i + 1;
                candidates.push_back(*it);
            }
    };
    for (std::uint32_t i = 0; i < n; ++i) {
        const auto wi = words[i];
        candidates.clear();
        for (std::size_t k = 0; k < wi.size(); ++k) {
            if (k < rare[i]) collect(postings[wi[k]], i);
            collect(rare_postings[wi[k]], i);
        }
        const auto first = out.size();
        for (auto j : candidates) {
            if (lane[i] == lane[j]) continue;
            const auto d = std::chrono::duration_cast<std::chrono::minutes>(*timed[j].at - *timed[i].at);
            if (d.count() <= apart) continue;
            const auto wj = words[j];
            if (share_at_least(wi, wj, words_needed(std::min(wi.size(), wj.size()))))
                out.push_back(conflict{i, j, static_cast<long>(d.count())});
        }
        // Candidates come in no particular order; the few matches are put in index order.
        std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                  [](const conflict& x, const conflict& y) { return x.b < y.b; });
    }
    return out;
}

struct clock_fmt {
    std::string zone;
    bool with_date;
    // Timelines repeat the same minutes; formatting through the zone is the costly part.
    mutable std::unordered_map<std::int64_t, std::string> memo{};
    const std::string& operator()(sys_seconds t) const {
        auto [it, fresh] = memo.try_emplace(t.time_since_epoch().count());
        if (fresh) {
            const bool secs = t.time_since_epoch().count() % 60 != 0;
            it->second = times::format(t, zone,
                                       with_date ? (secs ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M")
                                                 : (secs ? "%H:%M:%S" : "%H:%M"));
        }
        return it->second;
    }
};

std::string when(const timeline_entry& e, const clock_fmt& f) {
    std::string s = e.approximate ? "~" : "";
    s += f(*e.at);
    if (e.end) s += "–" + f(*e.end);
    return s;
}

std::string label_of(const question& q) {
    return q.label.empty() ? q.id : q.label;
}

// A line of the given spans, moved in (a braced list would copy each of them).
template <class... Spans> rich::line line_of(Spans&&... spans) {
    rich::line l;
    l.reserve(sizeof...(spans) + 1); // room for a trailing note
    (l.push_back(std::forward<Spans>(spans)), ...);
    return l;
}

} // namespace

summary_model compile_summary(const world& w, const postmortem& p, const settings& s, bool include_private) {
    summary_model m;
    m.labels = make_labels(w, p);
    auto entry = [&](const participant& x, const std::string& lane, const step& st, bool out_of_order) {
        return timeline_entry{lane,
                              p.anonymous ? "" : x.user,
                              st.seq,
                              st.at,
                              st.end,
                              st.approximate,
                              st.is_private,
                              humanize(st.text, w, p, m.labels),
                              humanize(st.original, w, p, m.labels),
                              out_of_order};
    };
    // The timed steps are sorted before their entries are made, so that each entry is built once,
    // in place.
    struct timed_step {
        sys_seconds at;
        const participant* x;
        const std::string* lane;
        const step* st;
        bool out_of_order;
    };
    std::vector<timed_step> timed;
    for (auto& x : p.participants) {
        const std::string& lane = m.labels.at(x.user);
        std::optional<sys_seconds> latest;
        for (auto& st : x.steps) {
            if (st.is_private && !include_private) continue;
            if (!st.at) {
                m.untimed.push_back(entry(x, lane, st, false));
                continue;
            }
            timed.push_back({*st.at, &x, &lane, &st, latest && *st.at < *latest});
            if (!latest || *st.at > *latest) latest = st.at;
        }
    }
    // Sorted by UTC instant; ties keep each person's order and the participants' order.
    std::stable_sort(timed.begin(), timed.end(), [](auto& a, auto& b) { return a.at < b.at; });
    m.timed.reserve(timed.size());
    for (auto& t : timed)
        m.timed.push_back(entry(*t.x, *t.lane, *t.st, t.out_of_order));

    std::optional<sys_seconds> covered;
    // A gap is a stretch no entry covers: a span covers its whole length, so the stretch starts
    // where the latest-ending entry so far ends, not where the previous one does.
    const auto gap_len = std::chrono::minutes{s.gap_minutes};
    for (std::size_t i = 1; i < m.timed.size(); ++i) {
        const auto& prev = m.timed[i - 1];
        covered = std::max(covered.value_or(*prev.at), std::max(prev.end.value_or(*prev.at), *prev.at));
        const auto from = std::max(*covered, p.window_start);
        const auto to = std::min(*m.timed[i].at, p.window_end);
        if (to - from > gap_len) m.gaps.push_back(gap{from, to});
    }

    m.conflicts = likely_same_events(m.timed, s.conflict_minutes);
    return m;
}

rich::message render_summary(const world& w, const postmortem& p, const settings& s, bool include_private) {
    const summary_model m = compile_summary(w, p, s, include_private);
    const auto& qs = s.questions.questions;
    rich::message out;
    auto& b = out.blocks;
    const bool multi_day =
        times::format(p.window_start, s.summary_tz, "%F") != times::format(p.window_end, s.summary_tz, "%F");
    clock_fmt full{s.summary_tz, true};
    clock_fmt f{s.summary_tz, multi_day};

    b.push_back(rich::heading("Postmortem " + p.id + ": " + p.title));
    b.push_back(
        rich::para({rich::bold("Incident window: "),
                    txt(full(p.window_start) + " – " + full(p.window_end) + " (" + s.summary_tz + ")")}));
    b.push_back(rich::para({rich::bold("Lead: "), txt(m.labels.at(p.lead))}));
    {
        std::vector<rich::line> people;
        for (auto& x : p.participants)
            people.push_back({txt(m.labels.at(x.user) + " — " + participant_status(x, qs.size()))});
        if (people.empty()) people.push_back({rich::ital("nobody took part")});
        b.push_back(rich::para({rich::bold("Participants")}));
        b.push_back(rich::bullets(std::move(people)));
    }

    b.push_back(rich::heading("Timeline (" + s.summary_tz + ")"));
    {
        std::vector<rich::line> items;
        std::size_t gi = 0;
        for (std::size_t i = 0; i < m.timed.size(); ++i) {
            const auto& e = m.timed[i];
            while (gi < m.gaps.size() && m.gaps[gi].to <= *e.at) {
                const auto mins =
                    std::chrono::duration_cast<std::chrono::minutes>(m.gaps[gi].to - m.gaps[gi].from).count();
                if (i > 0)
                    items.push_back({rich::ital("no entries for " + std::to_string(mins) + " min (" +
                                                f(m.gaps[gi].from) + "–" + f(m.gaps[gi].to) + ")")});
                ++gi;
            }
            rich::line l = line_of(rich::bold(when(e, f)), txt(" " + e.lane + ": "),
                                   txt(e.text.empty() ? e.original : e.text));
            if (e.is_private) l.push_back(rich::ital(" (private)"));
            if (e.out_of_order)
                l.push_back(rich::ital(" (out of order in " + e.lane + "'s account — please review)"));
            items.push_back(std::move(l));
        }
        if (items.empty()) items.push_back({rich::ital("no timed entries")});
        b.push_back(rich::bullets(std::move(items)));
        if (!m.untimed.empty()) {
            std::vector<rich::line> u;
            for (auto& e : m.untimed) {
                rich::line l = line_of(txt(e.lane + ": "), txt(e.text.empty() ? e.original : e.text));
                if (e.is_private) l.push_back(rich::ital(" (private)"));
                u.push_back(std::move(l));
            }
            b.push_back(rich::para({rich::bold("Without a time"), txt(" (in the order given)")}));
            b.push_back(rich::bullets(std::move(u)));
        }
        if (!m.conflicts.empty()) {
            std::vector<rich::line> c;
            for (auto& x : m.conflicts) {
                const auto& a = m.timed[x.a];
                const auto& bb = m.timed[x.b];
                c.push_back(line_of(txt(a.lane + " and " + bb.lane + " place “" + text::clip(a.text, 80) +
                                        "” " + std::to_string(x.minutes) + " minutes apart (" + f(*a.at) +
                                        " / " + f(*bb.at) + ")")));
            }
            b.push_back(rich::para({rich::bold("Worth talking through")}));
            b.push_back(rich::bullets(std::move(c)));
        }
    }

    std::vector<rich::line> ideas;
    for (auto& x : p.participants) {
        std::vector<rich::block> part;
        for (auto& q : qs) {
            if (q.timeline) continue;
            auto it = x.answers.find(q.id);
            if (it == x.answers.end() || it->second.skipped) continue;
            if (it->second.is_private && !include_private) continue;
            const std::string answer = humanize(it->second.text, w, p, m.labels);
            if (q.ideas) {
                rich::line l{txt(answer), txt(" — " + m.labels.at(x.user))};
                if (it->second.is_private) l.push_back(rich::ital(" (private)"));
                ideas.push_back(std::move(l));
                continue;
            }
            rich::line l{rich::bold(label_of(q) + ": "), txt(answer)};
            if (it->second.is_private) l.push_back(rich::ital(" (private)"));
            part.push_back(rich::para(std::move(l)));
            if (auto fu = x.followups.find(q.id); fu != x.followups.end() && !fu->second.skipped &&
                                                  (!fu->second.is_private || include_private)) {
                rich::line fl{rich::ital(fu->second.prompt.empty() ? "Follow-up: " : fu->second.prompt + " "),
                              txt(humanize(fu->second.text, w, p, m.labels))};
                if (fu->second.is_private) fl.push_back(rich::ital(" (private)"));
                part.push_back(rich::para(std::move(fl)));
            }
        }
        if (part.empty()) continue;
        b.push_back(rich::heading(m.labels.at(x.user) + "'s account"));
        for (auto& blk : part)
            b.push_back(std::move(blk));
    }

    b.push_back(rich::heading("Ideas for next time"));
    if (ideas.empty())
        b.push_back(rich::para({rich::ital("none yet — parked for the follow-up meeting")}));
    else
        b.push_back(rich::bullets(std::move(ideas)));
    b.push_back(rich::divider());
    b.push_back(
        rich::para({rich::ital("These accounts were given in good faith, to learn how the work really "
                               "happened — not to find fault with anyone.")}));
    out.fallback = "Postmortem " + p.id + ": " + p.title;
    return out;
}

namespace {
void append_md_line(std::string& out, const rich::line& l) {
    std::string mention;
    for (auto& s : l) {
        std::string_view t = s.text;
        if (s.k == rich::span::kind::mention) t = mention = "@" + s.text;
        if (s.code) {
            // A code span as long as needed so user backticks cannot close it.
            std::string ticks = "`";
            while (t.find(ticks) != std::string::npos)
                ticks += "`";
            out += ticks + " ";
            out += t;
            out += " " + ticks;
            continue;
        }
        // Emphasis cannot open or close next to a space in CommonMark: keep spaces outside it.
        std::size_t a = t.find_first_not_of(' '), b = t.find_last_not_of(' ');
        if (a == std::string::npos || (!s.bold && !s.italic)) {
            out += text::markdown_escape(t);
            continue;
        }
        // Italic outside bold: `_**text**_`.
        const std::string_view marks = s.italic ? (s.bold ? "_**" : "_") : "**";
        out += t.substr(0, a);
        out += marks;
        out += text::markdown_escape(t.substr(a, b - a + 1));
        out.append(marks.rbegin(), marks.rend());
        out += t.substr(b + 1);
    }
}
} // namespace

std::string render_markdown(const world& w, const postmortem& p, const settings& s, bool include_private) {
    const rich::message m = render_summary(w, p, s, include_private);
    std::string out;
    bool first_heading = true;
    for (auto& b : m.blocks) {
        switch (b.k) {
        case rich::block::kind::heading:
            out += first_heading ? "# " : "\n## ";
            append_md_line(out, b.text);
            out += "\n\n";
            first_heading = false;
            break;
        case rich::block::kind::paragraph:
            append_md_line(out, b.text);
            out += "\n\n";
            break;
        case rich::block::kind::bullets:
            for (auto& it : b.items) {
                out += "- ";
                append_md_line(out, it);
                out += "\n";
            }
            out += "\n";
            break;
        case rich::block::kind::code:
            out += "```\n" + b.code + "\n```\n\n";
            break;
        case rich::block::kind::divider:
            out += "---\n\n";
            break;
        }
    }
    while (out.size() > 1 && out.ends_with("\n\n"))
        out.pop_back();
    return out;
}

std::string render_json(const world& w, const postmortem& p, const settings& s) {
    const summary_model m = compile_summary(w, p, s, true);
    std::unordered_map<std::int64_t, std::string> iso_memo;
    auto iso = [&iso_memo](sys_seconds t) -> const std::string& {
        auto [it, fresh] = iso_memo.try_emplace(t.time_since_epoch().count());
        if (fresh) it->second = times::format(t, "UTC", "%Y-%m-%dT%H:%M:%SZ");
        return it->second;
    };
    json::object o;
    o["schema"] = "postmortem-bot/export";
    o["version"] = 1;
    o["id"] = p.id;
    o["title"] = p.title;
    o["slug"] = text::slug(p.title);
    o["platform"] = p.platform;
    o["channel"] = p.channel;
    o["state"] = p.st == postmortem::state::open       ? "open"
                 : p.st == postmortem::state::finished ? "finished"
                                                       : "cancelled";
    o["anonymous"] = p.anonymous;
    o["display_timezone"] = s.summary_tz;
    o["window"] = {{"start", iso(p.window_start)}, {"end", iso(p.window_end)}};
    o["lead"] = {{"lane", m.labels.at(p.lead)}, {"id", p.anonymous ? "" : p.lead}};
    json::array people;
    for (auto& x : p.participants) {
        json::object q;
        q["lane"] = m.labels.at(x.user);
        q["id"] = p.anonymous ? "" : x.user;
        q["status"] = participant_status(x, s.questions.questions.size());
        json::object answers;
        for (auto& qu : s.questions.questions) {
            auto it = x.answers.find(qu.id);
            if (it == x.answers.end()) continue;
            json::object a;
            a["skipped"] = it->second.skipped;
            a["text"] = humanize(it->second.text, w, p, m.labels);
            a["private"] = it->second.is_private;
            if (auto fu = x.followups.find(qu.id); fu != x.followups.end())
                a["followup"] = {{"prompt", fu->second.prompt},
                                 {"skipped", fu->second.skipped},
                                 {"text", humanize(fu->second.text, w, p, m.labels)},
                                 {"private", fu->second.is_private}};
            answers[qu.id] = std::move(a);
        }
        q["answers"] = std::move(answers);
        people.push_back(std::move(q));
    }
    o["participants"] = std::move(people);
    auto instant = [&](const std::optional<sys_seconds>& t) {
        return t ? json::value(iso(*t)) : json::value(nullptr);
    };
    auto entry = [&](const timeline_entry& e) {
        return json::object{{"lane", e.lane},
                            {"seq", e.seq},
                            {"text", e.text},
                            {"original", e.original},
                            {"at", instant(e.at)},
                            {"end", instant(e.end)},
                            {"approximate", e.approximate},
                            {"private", e.is_private},
                            {"out_of_order", e.out_of_order}};
    };
    json::array tl, un, gaps, conflicts;
    tl.reserve(m.timed.size());
    un.reserve(m.untimed.size());
    conflicts.reserve(m.conflicts.size());
    for (auto& e : m.timed)
        tl.push_back(entry(e));
    for (auto& e : m.untimed)
        un.push_back(entry(e));
    for (auto& g : m.gaps)
        gaps.push_back({{"from", iso(g.from)}, {"to", iso(g.to)}});
    for (auto& c : m.conflicts)
        conflicts.push_back({{"a", c.a}, {"b", c.b}, {"minutes", c.minutes}});
    o["timeline"] = std::move(tl);
    o["untimed"] = std::move(un);
    o["gaps"] = std::move(gaps);
    o["conflicts"] = std::move(conflicts);
    return json::serialize(o) + "\n";
}

} // namespace pm::conv

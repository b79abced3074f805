// The default rules against a labelled corpus of incident narration (tests/data/nudge_corpus.tsv).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>

#include "bot/rules_config.hpp"
#include "conversations/nudges.hpp"

namespace {

struct sample {
    bool blame = false;
    std::string text;
    int line = 0;
};

std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
            out += '\n';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<sample> load_corpus() {
    std::ifstream f(PM_TEST_DATA "/nudge_corpus.tsv");
    REQUIRE(f.good());
    std::vector<sample> out;
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
        ++n;
        if (line.empty() || line[0] == '#') continue;
        const auto tab = line.find('\t');
        REQUIRE_MESSAGE(tab != std::string::npos, "corpus line " << n << " has no tab");
        const auto label = line.substr(0, tab);
        REQUIRE_MESSAGE((label == "blame" || label == "clean"),
                        "corpus line " << n << ": bad label " << label);
        out.push_back({label == "blame", unescape(line.substr(tab + 1)), n});
    }
    return out;
}

} // namespace

TEST_CASE("nudges: corpus precision and recall with the default rules") {
    const auto rules = pm::bot::load_default_rules();
    const auto corpus = load_corpus();
    REQUIRE(corpus.size() >= 400);

    // Set PM_CORPUS_VERBOSE=1 to list every disagreement when working on the rules.
    const bool verbose = std::getenv("PM_CORPUS_VERBOSE") != nullptr;
    int tp = 0, fp = 0, fn = 0, tn = 0, blame = 0;
    for (const auto& s : corpus) {
        const auto f = pm::conv::nudges::first(s.text, rules);
        blame += s.blame ? 1 : 0;
        if (f && s.blame)
            ++tp;
        else if (f && !s.blame)
            ++fp;
        else if (!f && s.blame)
            ++fn;
        else
            ++tn;
        if (verbose && f && !s.blame)
            MESSAGE("false positive, line " << s.line << " [" << f->rule_id << ": " << f->phrase << "] "
                                            << s.text);
        if (verbose && !f && s.blame) MESSAGE("missed, line " << s.line << ": " << s.text);
    }
    const double precision = tp + fp == 0 ? 0.0 : static_cast<double>(tp) / (tp + fp);
    const double recall = tp + fn == 0 ? 0.0 : static_cast<double>(tp) / (tp + fn);
    std::ostringstream summary;
    summary << std::fixed << std::setprecision(3) << "corpus: " << corpus.size() << " lines (" << blame
            << " blame), precision " << precision << ", recall " << recall << " (tp " << tp << ", fp " << fp
            << ", fn " << fn << ", tn " << tn << ")";
    MESSAGE(summary.str());
    CHECK(precision >= 0.9);
    CHECK(recall >= 0.85);
}

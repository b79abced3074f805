#include "bot/lint.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace pm::bot {
namespace {

constexpr const char* usage = "usage: postmortem-bot lint [FILE ...]   (reads stdin when no file is given)\n";

struct source {
    std::string name;
    std::string text;
};

std::string slurp(std::istream& is) {
    return {std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>()};
}

// A phrase may span a line break in the text; the report stays one line per finding.
std::string one_line(const std::string& s) {
    std::string out;
    bool space = false;
    for (const char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

} // namespace

int run_lint(const std::vector<std::string>& files, const conv::nudges::ruleset& rules, std::istream& in,
             std::ostream& out, std::ostream& err) {
    std::vector<std::string> names;
    bool options_done = false;
    for (const auto& a : files) {
        if (!options_done && a == "--") {
            options_done = true;
            continue;
        }
        if (!options_done && (a == "-h" || a == "--help")) {
            out << usage;
            return 0;
        }
        if (!options_done && a.size() > 1 && a[0] == '-') {
            err << "postmortem-bot lint: unknown option '" << a << "'\n" << usage;
            return 2;
        }
        names.push_back(a);
    }
    if (names.empty()) names.emplace_back("-");

    // Read everything first, so that a missing file is a usage error with no partial report.
    std::vector<source> sources;
    for (const auto& name : names) {
        if (name == "-") {
            sources.push_back({"<stdin>", slurp(in)});
            continue;
        }
        std::error_code ec;
        if (std::filesystem::is_directory(name, ec)) {
            err << "postmortem-bot lint: cannot read '" << name << "': is a directory\n";
            return 2;
        }
        std::ifstream f(name, std::ios::binary);
        if (!f) {
            const int e = errno;
            err << "postmortem-bot lint: cannot read '" << name << "'" << (e != 0 ? ": " : "")
                << (e != 0 ? std::strerror(e) : "") << "\n";
            return 2;
        }
        std::ostringstream ss;
        ss << f.rdbuf();
        if (f.bad()) {
            err << "postmortem-bot lint: cannot read '" << name << "'\n";
            return 2;
        }
        sources.push_back({name, ss.str()});
    }

    bool flagged = false;
    for (const auto& s : sources) {
        for (const auto& f : conv::nudges::scan(s.text, rules)) {
            flagged = true;
            out << s.name << ':' << f.line << ':' << f.column << ": " << one_line(f.phrase) << " \u2014 "
                << f.reframe << '\n';
        }
    }
    return flagged ? 1 : 0;
}

} // namespace pm::bot

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bot/lint.hpp"
#include "bot/rules_config.hpp"

namespace {

const pm::conv::nudges::ruleset& rules() {
    static const auto r = pm::bot::load_default_rules();
    return r;
}

struct result {
    int code = -1;
    std::string out;
    std::string err;
};

result lint(const std::vector<std::string>& args, const std::string& input = "") {
    std::istringstream in(input);
    std::ostringstream out, err;
    result r;
    r.code = pm::bot::run_lint(args, rules(), in, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

// A file in the temporary directory, removed at the end of the test.
struct temp_file {
    std::filesystem::path path;
    temp_file(const std::string& name, const std::string& text)
        : path(std::filesystem::temp_directory_path() / ("pm_lint_" + name)) {
        std::ofstream(path, std::ios::binary) << text;
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

} // namespace

TEST_CASE("lint: stdin, one line per finding, exit 1") {
    const auto r =
        lint({}, "The timeline:\n14:05 we should have paged earlier.\nIt was human error, obviously.\n");
    CHECK(r.code == 1);
    CHECK(r.out ==
          "<stdin>:2:10: should have paged \u2014 What did you know at that moment, and what were you "
          "looking at?\n"
          "<stdin>:3:8: human error \u2014 What let one step have this much effect?\n"
          "<stdin>:3:21: obviously \u2014 What made it seem obvious, and to whom, at the time?\n");
    CHECK(r.err.empty());
}

TEST_CASE("lint: clean text exits 0 with no output") {
    const auto r = lint({"-"}, "The health check failed to fire.\nThe log said \"operator error\".\n");
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
}

TEST_CASE("lint: files are named in the report") {
    temp_file a("a.md", "# Draft\n\nBob forgot to renew the cert.\n");
    temp_file b("b.md", "All clean here.\n");
    const auto r = lint({a.path.string(), b.path.string()});
    CHECK(r.code == 1);
    CHECK(r.out == a.path.string() +
                       ":3:5: forgot to \u2014 What was taking your attention, or theirs, at that "
                       "moment instead?\n");
    const auto clean = lint({b.path.string()});
    CHECK(clean.code == 0);
    CHECK(clean.out.empty());
}

TEST_CASE("lint: a phrase across a line break is reported on one line") {
    const auto r = lint({}, "we should\nhave known\n");
    CHECK(r.code == 1);
    CHECK(r.out.rfind("<stdin>:1:4: should have known \u2014 ", 0) == 0);
}

TEST_CASE("lint: usage errors exit 2") {
    const auto missing = lint({"/nonexistent/pm-draft.md"});
    CHECK(missing.code == 2);
    CHECK(missing.out.empty());
    CHECK(missing.err.find("cannot read '/nonexistent/pm-draft.md'") != std::string::npos);

    const auto dir = lint({std::filesystem::temp_directory_path().string()});
    CHECK(dir.code == 2);
    CHECK(dir.err.find("is a directory") != std::string::npos);

    const auto option = lint({"--fix"});
    CHECK(option.code == 2);
    CHECK(option.err.find("unknown option '--fix'") != std::string::npos);
    CHECK(option.err.find("usage: postmortem-bot lint") != std::string::npos);

    // After "--" a name starting with a dash is a file.
    const auto dashed = lint({"--", "-draft.md"});
    CHECK(dashed.code == 2);
    CHECK(dashed.err.find("cannot read '-draft.md'") != std::string::npos);
}

// The Matrix renderer: golden files for body + formatted_body, hostile text, and splitting of
// long messages into events below 64 KiB, in order, with nothing lost.
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/matrix/render.hpp"
#include "adapters/matrix/sync.hpp"

using namespace pm;
using namespace pm::adapters::matrix;
namespace json = boost::json;

namespace {

std::string golden_path(const std::string& name) {
    return std::string(PM_TEST_DATA) + "/matrix/golden/" + name;
}

// Compares with the golden file; PM_UPDATE_GOLDEN=1 rewrites it instead.
void check_golden(const std::string& name, const std::string& actual) {
    if (std::getenv("PM_UPDATE_GOLDEN")) {
        std::ofstream(golden_path(name), std::ios::binary) << actual;
        return;
    }
    std::ifstream in(golden_path(name), std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing golden file " << name);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK_MESSAGE(ss.str() == actual, "golden " << name << " differs");
}

std::string s(const json::object& o, const char* k) {
    return std::string(o.at(k).as_string());
}

rich::message summary_like() {
    rich::message m;
    m.fallback = "Postmortem PM-12 summary";
    m.blocks.push_back(rich::heading("Postmortem PM-12: DB failover"));
    m.blocks.push_back(rich::para({rich::txt("Lead: "), rich::mention("@alice:example.org", "Alice"),
                                   rich::txt(" · window "), rich::code("14:00–15:00 UTC")}));
    m.blocks.push_back(rich::bullets({
        {rich::bold("14:05"), rich::txt(" Bob: restarted db-2 & checked <logs>")},
        {rich::ital("~14:07"), rich::txt(" Carol: saw \"error rate fell\" — it's fine")},
    }));
    m.blocks.push_back(rich::divider());
    m.blocks.push_back(rich::code_block("SELECT * FROM t WHERE a < 3 && b > 2;\n"));
    m.blocks.push_back(rich::para({rich::txt("These accounts were given in good faith.")}));
    return m;
}

} // namespace

TEST_CASE("matrix: render a summary (golden)") {
    render_options o;
    o.own_user_id = "@pmbot:example.org";
    auto out = render(summary_like(), o);
    REQUIRE(out.size() == 1);
    auto& c = out[0];
    CHECK(s(c, "msgtype") == "m.notice");
    CHECK(s(c, "format") == "org.matrix.custom.html");
    CHECK(c.at("m.mentions").as_object().empty());
    CHECK_FALSE(c.contains("m.relates_to"));
    check_golden("summary.txt", s(c, "body"));
    check_golden("summary.html", s(c, "formatted_body"));
}

TEST_CASE("matrix: a thread root notifies with a pill and m.mentions") {
    rich::message m;
    m.blocks.push_back(rich::para({rich::mention("@bob:example.org", "Bob"), rich::txt(" — your account of "),
                                   rich::ital("DB failover")}));
    render_options o;
    o.own_user_id = "@pmbot:example.org";
    o.notify = {"@bob:example.org", "@pmbot:example.org", "@bob:example.org"};
    auto out = render(m, o);
    REQUIRE(out.size() == 1);
    check_golden("thread_root.json", json::serialize(out[0]));
    auto ids = out[0].at("m.mentions").at("user_ids").as_array();
    REQUIRE(ids.size() == 1); // never the bot itself, each once
    CHECK(ids[0].as_string() == "@bob:example.org");
}

TEST_CASE("matrix: a message in a thread") {
    rich::message m;
    m.blocks.push_back(rich::para({rich::txt("Thanks, next question: what did you expect to happen?")}));
    render_options o;
    o.thread_root = "$root";
    auto out = render(m, o);
    REQUIRE(out.size() == 1);
    check_golden("in_thread.json", json::serialize(out[0]));
    auto& rel = out[0].at("m.relates_to").as_object();
    CHECK(rel.at("rel_type").as_string() == "m.thread");
    CHECK(rel.at("event_id").as_string() == "$root");
    CHECK(rel.at("is_falling_back").as_bool());
    CHECK(rel.at("m.in_reply_to").at("event_id").as_string() == "$root");
}

TEST_CASE("matrix: hostile user text stays text") {
    const std::string hostile =
        "@room <script>alert(1)</script> <a href=\"https://matrix.to/#/@eve:evil.org\">Eve</a>"
        " & 'quotes' @ROOM <@@mallory:example.org> https://matrix.to/#/@x:y.org";
    rich::message m;
    m.blocks.push_back(rich::para({rich::txt(hostile)}));
    m.blocks.push_back(rich::bullets({{rich::bold(hostile)}}));
    m.blocks.push_back(rich::code_block(hostile));
    auto out = render(m, render_options{});
    REQUIRE(out.size() == 1);
    auto html = s(out[0], "formatted_body");
    auto body = s(out[0], "body");
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<a ") == std::string::npos); // no link, no pill from user text
    CHECK(html.find("&lt;script&gt;") != std::string::npos);
    CHECK(html.find("&#39;quotes&#39;") != std::string::npos);
    CHECK(html.find("&quot;") != std::string::npos);
    CHECK(html.find("@room") == std::string::npos); // defanged with a word joiner
    CHECK(body.find("@room") == std::string::npos);
    CHECK(body.find("@\u2060room") != std::string::npos);
    CHECK(body.find("@\u2060ROOM") != std::string::npos);
    CHECK(out[0].at("m.mentions").as_object().empty()); // nobody notified
    // Read back as the bot would read it: no mention appears from the text's pill look-alike.
    std::map<std::string, std::string> pills;
    auto text = html_to_text(html, pills);
    CHECK(pills.empty());
    check_golden("hostile.html", html);
}

TEST_CASE("matrix: mention names and ids are escaped in pills") {
    CHECK(pill("@a\"b:example.org", "<b>Eve</b>") ==
          "<a href=\"https://matrix.to/#/@a%22b:example.org\">&lt;b&gt;Eve&lt;/b&gt;</a>");
    CHECK(html_escape("&<>\"'") == "&amp;&lt;&gt;&quot;&#39;");
}

TEST_CASE("matrix: an empty message uses the fallback") {
    rich::message m;
    m.fallback = "hello <world>";
    auto out = render(m, render_options{});
    REQUIRE(out.size() == 1);
    CHECK(s(out[0], "body") == "hello <world>");
    CHECK(s(out[0], "formatted_body") == "<p>hello &lt;world&gt;</p>");
}

TEST_CASE("matrix: a long summary is split in order, each event below 64 KiB") {
    rich::message m;
    std::vector<rich::line> items;
    std::string expected_plain;
    for (int i = 0; i < 3000; ++i) {
        std::string t = "entry " + std::to_string(i) + " <&> ünïcödé text that repeats to fill the summary";
        items.push_back({rich::txt(t)});
    }
    m.blocks.push_back(rich::heading("Timeline"));
    m.blocks.push_back(rich::bullets(items));
    // One paragraph far larger than an event, with multibyte characters and escapes.
    std::string huge;
    for (int i = 0; i < 40000; ++i)
        huge += (i % 7 == 0) ? "<é>" : "ab";
    m.blocks.push_back(rich::para({rich::txt(huge)}));
    m.blocks.push_back(rich::para({rich::txt("THE END")}));

    render_options o;
    o.thread_root = "$root";
    o.notify = {"@bob:example.org"};
    auto out = render(m, o);
    REQUIRE(out.size() >= 3);
    // As few events as the size allows: no two neighbours would have fitted in one.
    for (std::size_t i = 0; i + 1 < out.size(); ++i)
        CHECK(json::serialize(out[i]).size() + json::serialize(out[i + 1]).size() > o.max_content_bytes);
    std::string all_plain;
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto bytes = json::serialize(out[i]).size();
        CHECK(bytes < 64 * 1024 - 4096); // room left for the event envelope
        CHECK(out[i].at("m.relates_to").at("event_id").as_string() == "$root");
        // Only the first event notifies.
        CHECK(out[i].at("m.mentions").as_object().contains("user_ids") == (i == 0));
        all_plain += s(out[i], "body");
    }
    // Nothing lost, in order.
    std::size_t pos = 0;
    for (int i = 0; i < 3000; i += 1) {
        auto needle = "entry " + std::to_string(i) + " <&>";
        auto at = all_plain.find(needle, pos);
        REQUIRE_MESSAGE(at != std::string::npos, "missing " << needle);
        pos = at;
    }
    std::string collapsed;
    for (char c : all_plain)
        if (c != '\n') collapsed += c;
    CHECK(collapsed.find(huge.substr(0, 1000)) != std::string::npos);
    std::size_t huge_chars = 0;
    for (std::size_t p = collapsed.find("<é>"); p != std::string::npos; p = collapsed.find("<é>", p + 1))
        ++huge_chars;
    CHECK(huge_chars == 40000 / 7 + 1);
    CHECK(all_plain.rfind("THE END") > all_plain.rfind("<é>"));
    // Every piece is valid UTF-8 (never cut inside a character).
    for (auto& c : out) {
        auto b = s(c, "body");
        for (std::size_t i = 0; i < b.size();) {
            unsigned char ch = static_cast<unsigned char>(b[i]);
            std::size_t len = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : 4;
            REQUIRE(i + len <= b.size());
            for (std::size_t k = 1; k < len; ++k)
                REQUIRE((static_cast<unsigned char>(b[i + k]) & 0xC0) == 0x80);
            i += len;
        }
    }
}

TEST_CASE("matrix: a file event") {
    auto c = file_content("PM-12-db-failover.md", "mxc://example.org/AbC", 4821, "text/markdown", "");
    check_golden("file.json", json::serialize(c));
}

TEST_CASE("matrix: invalid UTF-8 and blank lines in user text") {
    rich::message m;
    m.blocks.push_back(rich::para({rich::txt("a\n\nb \xff\xfe c \xe2\x82 d \xed\xa0\x80 é")}));
    auto out = render(m, render_options{});
    REQUIRE(out.size() == 1);
    CHECK(s(out[0], "formatted_body") ==
          "<p>a<br><br>b \xEF\xBF\xBD\xEF\xBF\xBD c \xEF\xBF\xBD\xEF\xBF\xBD d "
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD é</p>");
    // The serialized event parses back as JSON (a homeserver would accept it).
    boost::system::error_code ec;
    json::parse(json::serialize(out[0]), ec);
    CHECK_FALSE(ec);
}

// Block Kit renderer: golden JSON (tests/data/slack/golden), hostile text, splitting.
// Set PM_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "adapters/slack/render.hpp"

using namespace pm;
using namespace pm::adapters::slack;
namespace json = boost::json;

namespace {

json::value as_json(const std::vector<rendered_part>& parts) {
    json::array a;
    for (const auto& p : parts) {
        json::object o;
        o["text"] = p.text;
        o["blocks"] = p.blocks;
        a.push_back(std::move(o));
    }
    return a;
}

void check_golden(const std::string& name, const json::value& got) {
    std::string path = std::string(PM_TEST_DATA) + "/slack/golden/" + name + ".json";
    if (std::getenv("PM_UPDATE_GOLDEN")) {
        std::ofstream(path) << json::serialize(got) << "\n";
        return;
    }
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "missing golden file " << path << " (run with PM_UPDATE_GOLDEN=1)");
    std::stringstream ss;
    ss << in.rdbuf();
    json::value want = json::parse(ss.str());
    CHECK_MESSAGE(want == got, name << ": got " << json::serialize(got));
}

// Every text a renderer produced, concatenated (to look for anything that escaped).
void collect(const json::value& v, std::string& out) {
    if (v.is_string()) out += std::string(v.get_string()) + "\n";
    if (v.is_array())
        for (const auto& x : v.get_array())
            collect(x, out);
    if (v.is_object())
        for (const auto& kv : v.get_object())
            collect(kv.value(), out);
}

} // namespace

TEST_CASE("slack: render a prompt with a mention and buttons (golden)") {
    rich::message m;
    m.fallback = "Question 2 of 5";
    m.blocks.push_back(rich::heading("INC-2291 postmortem"));
    m.blocks.push_back(
        rich::para({rich::mention("U0ALICE", "alice"), rich::txt(", "), rich::bold("what happened first?"),
                    rich::txt(" Times like "), rich::code("14:05"), rich::txt(" are fine.")}));
    m.blocks.push_back(rich::divider());
    m.blocks.push_back(rich::bullets({{rich::txt("one")}, {rich::ital("two")}}));
    m.blocks.push_back(rich::code_block("SELECT * FROM t WHERE a < 3 && b > 2;\n```"));
    m.actions = {{"skip", "Skip"}, {"back", "Back"}, {"done", "Done"}};
    check_golden("prompt", as_json(render(m, {"U0ALICE", "U0BOB"})));
}

TEST_CASE("slack: hostile user text cannot mention, link or format (golden)") {
    rich::message m;
    std::string hostile = "<!channel> <!here|@here> @here @Channel @everyone <https://evil.example|click> "
                          "<@U0VICTIM> *bold* _it_ ~st~ `code` &amp; > quote\n> quote2 a_b_c 2*3*4";
    m.fallback = hostile;
    m.blocks.push_back(rich::heading(hostile));
    m.blocks.push_back(rich::para({rich::txt(hostile)}));
    m.blocks.push_back(rich::para({rich::bold(hostile)}));
    m.blocks.push_back(rich::para({rich::mention("not an id", "<!channel>")}));
    auto parts = render(m);
    auto j = as_json(parts);
    check_golden("hostile", j);
    std::string all;
    collect(j, all);
    CHECK(all.find("<!") == std::string::npos);
    CHECK(all.find("<@") == std::string::npos);
    CHECK(all.find("<http") == std::string::npos);
    CHECK(all.find("@here") == std::string::npos);
    CHECK(all.find("@everyone") == std::string::npos);
    CHECK(all.find("@Channel") == std::string::npos);
    CHECK(all.find("&amp;amp;") != std::string::npos); // '&' of "&amp;" escaped once, shown literally
    CHECK(all.find(" *bold*") == std::string::npos);
}

TEST_CASE("slack: a short heading, rendered as a plain_text header, cannot carry @here either") {
    rich::message m;
    m.blocks.push_back(rich::heading("Cache @here @channel @Everyone outage"));
    std::string all;
    collect(as_json(render(m)), all);
    CHECK(all.find("header\n") != std::string::npos);
    CHECK(all.find("@here") == std::string::npos);
    CHECK(all.find("@channel") == std::string::npos);
    CHECK(all.find("@Everyone") == std::string::npos);
    CHECK(all.find("outage") != std::string::npos);
}

TEST_CASE("slack: long text splits in order within the limits, nothing dropped") {
    rich::message m;
    m.fallback = "Summary";
    m.blocks.push_back(rich::heading("Summary"));
    std::string para;
    for (int i = 0; i < 2000; ++i)
        para += "word" + std::to_string(i) + (i % 50 == 49 ? "\n" : " ");
    m.blocks.push_back(rich::para({rich::txt(para)}));
    std::vector<rich::line> items;
    for (int i = 0; i < 400; ++i)
        items.push_back({rich::txt("entry " + std::to_string(i) + " & <x>")});
    m.blocks.push_back(rich::bullets(items));
    for (int i = 0; i < 60; ++i)
        m.blocks.push_back(rich::para({rich::txt("p" + std::to_string(i))}));
    auto parts = render(m);
    REQUIRE(parts.size() >= 2);
    std::string all;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        CHECK(parts[i].blocks.size() <= 45);
        CHECK(parts[i].text ==
              "Summary (" + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + ")");
        std::size_t chars = 0;
        for (const auto& b : parts[i].blocks) {
            const auto& o = b.get_object();
            if (auto t = o.find("text"); t != o.end()) {
                std::string s(t->value().get_object().at("text").get_string());
                CHECK(s.size() <= 3000);
                chars += s.size();
                all += s;
            }
        }
        CHECK(chars <= 12000);
    }
    // Every word is there, in order.
    std::size_t pos = 0;
    for (int i = 0; i < 2000; i += 97) {
        auto p = all.find("word" + std::to_string(i) + " ", pos);
        if (p == std::string::npos) p = all.find("word" + std::to_string(i) + "\n", pos);
        REQUIRE(p != std::string::npos);
        pos = p;
    }
    CHECK(all.find("entry 399 &amp; &lt;x&gt;") != std::string::npos);
    CHECK(all.find("p59") != std::string::npos);
    check_golden("long_shape", json::value(static_cast<std::int64_t>(parts.size())));
}

TEST_CASE("slack: split_text never cuts an entity or a UTF-8 sequence") {
    std::string s;
    for (int i = 0; i < 300; ++i)
        s += "&amp;\xC3\xA9";
    auto pieces = split_text(s, 100);
    std::string joined;
    for (auto& p : pieces) {
        CHECK(p.size() <= 100);
        CHECK((static_cast<unsigned char>(p.front()) & 0xC0) != 0x80);
        CHECK(p.find("&am") == p.find("&amp;"));
        joined += p;
    }
    CHECK(joined == s);
    CHECK(escape_mrkdwn("a <b> & c") == "a &lt;b&gt; &amp; c");
    CHECK(escape_plain("<!here>") == "&lt;!here&gt;");
}

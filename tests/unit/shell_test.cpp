#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "adapters/shell/shell.hpp"

using namespace pm::adapters;
using pk = shell::parsed_line::kind;

TEST_CASE("shell: line syntax") {
    auto l = shell::parse_line("alice: hello there ");
    CHECK(l.k == pk::say);
    CHECK(l.user == "alice");
    CHECK(l.text == "hello there");
    l = shell::parse_line("bob -> bot: /postmortem status");
    CHECK(l.k == pk::dm);
    CHECK(l.user == "bob");
    CHECK(l.text == "/postmortem status");
    l = shell::parse_line("/channel #db-team");
    CHECK(l.k == pk::switch_channel);
    CHECK(l.channel == "#db-team");
    CHECK(shell::parse_line("").k == pk::blank);
    CHECK(shell::parse_line("# a comment").k == pk::blank);
    l = shell::parse_line("alice hello");
    CHECK(l.k == pk::invalid);
    CHECK(l.error == "put a colon after the name: `alice: text`");
    CHECK(shell::parse_line("/channel nothash").k == pk::invalid);
    CHECK(shell::parse_line(": no name").k == pk::invalid);
    CHECK(shell::parse_line("alice -> carol: hi").k == pk::invalid);
}

TEST_CASE("shell: commands and mentions become neutral events") {
    auto e = shell::to_event(shell::parse_line("alice: /postmortem start DB @bob @carol."), "#incident", "r1",
                             7, {});
    CHECK(e.event_id == "shell-r1-7");
    CHECK(e.is_command);
    CHECK(e.text == "start DB <@bob> <@carol>.");
    REQUIRE(e.mentions.size() == 2);
    CHECK(e.mentions[1].id == "carol");
    CHECK(e.where.k == place::kind::channel);
    CHECK(e.where.channel == "#incident");
    CHECK(e.answers_anywhere);
    e = shell::to_event(shell::parse_line("bob -> bot: mail me at bob@example.com"), "#incident", "r1", 8,
                        {});
    CHECK(!e.is_command);
    CHECK(e.where.k == place::kind::dm);
    CHECK(e.text == "mail me at bob@example.com");
    CHECK(e.mentions.empty());
}

TEST_CASE("shell: printing with the place and indented continuation lines") {
    pm::rich::message m{{pm::rich::para({pm::rich::txt("first"), pm::rich::mention("bob", "bob")}),
                         pm::rich::bullets({{pm::rich::txt("a")}, {pm::rich::txt("b\nc")}})},
                        ""};
    CHECK(shell::print("#incident thread alice", m) ==
          "[#incident thread alice] first@bob\n  - a\n  - b\n  c\n");
}

// The reader thread (stdin → io_context) under load: every line arrives, in order, while the
// io_context thread answers each one. Run under TSan by the `tsan` preset.
TEST_CASE("shell: the reader thread hands every line over, in order, while answers are written") {
    namespace asio = boost::asio;
    std::ostringstream script;
    const int n = 2000;
    for (int i = 0; i < n; ++i)
        script << (i % 3 == 0   ? "alice: line "
                   : i % 3 == 1 ? "bob -> bot: line "
                                : "# comment ")
               << i << "\n";
    std::istringstream in(script.str());
    std::ostringstream out;
    asio::io_context io;
    shell::options o;
    o.in = &in;
    o.out = &out;
    auto sh = shell::make(io.get_executor(), o);
    std::vector<std::string> seen;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await sh->run([&](chat_event e) -> asio::awaitable<void> {
                seen.push_back(e.text);
                outbound m;
                m.to = outbound::target::channel;
                m.channel = e.where.channel;
                m.body.blocks.push_back(pm::rich::para({pm::rich::txt("got " + e.text)}));
                co_await sh->send(m);
            });
        },
        asio::detached);
    io.run();
    REQUIRE(seen.size() == static_cast<std::size_t>(n - n / 3));
    CHECK(seen.front() == "line 0");
    CHECK(seen[1] == "line 1");
    CHECK(seen.back() == "line " + std::to_string(n - 1));
    CHECK(out.str().find("[#incident] got line 1998\n") != std::string::npos);
}

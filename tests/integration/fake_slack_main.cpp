// fake_slack: the fake Slack as a program, for end-to-end scripts that run the real binary.
//   fake_slack [--port N] [--tls CERT KEY]
// Prints "port N" and "api_url URL", then one line per thing that happens ("open 1", "ack …",
// "post C… ts"), and reads commands on stdin, one per line:
//   envelope <json>                                  send a raw frame to the newest socket
//   message <envelope_id> <event_id> <channel> <user> <ts> <text…>
//   reply <envelope_id> <event_id> <channel> <thread_ts> <user> <ts> <text…>   a thread reply
//   edit <envelope_id> <event_id> <channel> <thread_ts|-> <user> <orig_ts> <ts> <text…>
//                                                    message_changed: <orig_ts> now reads <text…>
//   slash <envelope_id> <channel> <user> <text…>     a /postmortem slash command
//   disconnect <reason> | drop | freeze              socket events
//   ratelimit <n> [seconds] | losepost <n>           next n posts get 429 / lose their response
//   autherror <error|-> | channelerror <channel> <error>
//   methoderror <method> <error|->                   calls of <method> answer that error ('-' ends it)
//   user <id> <name> <tz>                            for users.info
//   messages | acks                                  print what was recorded (JSON lines)
//   posts <tag>      every post with its ts, between "begin <tag>" and "end <tag>", one a line:
//                    posted {"channel","ts","thread_ts","user","ephemeral","args"}
//   calls <tag>      every Web API call, the same way: call <method> <args>
//   quit
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <unistd.h>

#include "fake_slack.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using pm::test::fake_slack;

namespace {

std::string rest(std::istringstream& in) {
    std::string r;
    std::getline(in, r);
    if (!r.empty() && r.front() == ' ') r.erase(0, 1);
    return r;
}

std::map<std::string, std::string> method_errors; // methoderror: method → Slack error string

void command(fake_slack& f, const std::string& line, asio::io_context& ioc) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "envelope") {
        f.send_frame(rest(in));
    } else if (cmd == "message") {
        std::string env, ev, ch, user, ts;
        in >> env >> ev >> ch >> user >> ts;
        f.send_envelope(pm::test::make_message_envelope(env, ev, ch, user, rest(in), ts));
    } else if (cmd == "reply") {
        std::string env, ev, ch, thread, user, ts;
        in >> env >> ev >> ch >> thread >> user >> ts;
        f.send_envelope(pm::test::make_message_envelope(env, ev, ch, user, rest(in), ts, thread));
    } else if (cmd == "edit") {
        std::string env, ev, ch, thread, user, orig, ts;
        in >> env >> ev >> ch >> thread >> user >> orig >> ts;
        f.send_envelope(
            pm::test::make_edit_envelope(env, ev, ch, user, orig, rest(in), ts, thread == "-" ? "" : thread));
    } else if (cmd == "slash") {
        std::string env, ch, user;
        in >> env >> ch >> user;
        json::object p{{"command", "/postmortem"}, {"channel_id", ch},      {"user_id", user},
                       {"text", rest(in)},         {"team_id", "T0PMTEAM"}, {"trigger_id", "1.2.3"}};
        json::object e{{"envelope_id", env}, {"type", "slash_commands"}, {"accepts_response_payload", true}};
        e["payload"] = std::move(p);
        f.send_envelope(e);
    } else if (cmd == "disconnect") {
        std::string reason;
        in >> reason;
        f.disconnect(reason);
    } else if (cmd == "drop") {
        f.drop_sockets();
    } else if (cmd == "freeze") {
        f.freeze_sockets();
    } else if (cmd == "ratelimit") {
        int n = 1, secs = 1;
        in >> n >> secs;
        f.ratelimit_next_posts = n;
        f.retry_after_seconds = secs > 0 ? secs : 1;
    } else if (cmd == "losepost") {
        int n = 1;
        in >> n;
        f.drop_next_post_responses = n;
    } else if (cmd == "autherror") {
        std::string e;
        in >> e;
        f.auth_error = e == "-" ? "" : e;
    } else if (cmd == "channelerror") {
        std::string ch, e;
        in >> ch >> e;
        f.channel_errors[ch] = e;
    } else if (cmd == "methoderror") {
        std::string m, e;
        in >> m >> e;
        if (e == "-" || e.empty())
            method_errors.erase(m);
        else
            method_errors[m] = e;
    } else if (cmd == "user") {
        std::string id, name, tz;
        in >> id >> name >> tz;
        f.users[id] = json::object{{"id", id}, {"name", name}, {"real_name", name}, {"tz", tz}};
    } else if (cmd == "messages") {
        for (const auto& m : f.messages)
            std::cout << "message " << json::serialize(m.args) << "\n";
        std::cout << "end" << std::endl;
    } else if (cmd == "posts" || cmd == "calls") {
        std::string tag;
        in >> tag;
        std::cout << "begin " << tag << "\n";
        if (cmd == "posts") {
            for (const auto& m : f.messages) {
                json::object o{{"channel", m.channel},     {"ts", m.ts},
                               {"thread_ts", m.thread_ts}, {"user", m.user},
                               {"ephemeral", m.ephemeral}, {"args", m.args}};
                std::cout << "posted " << json::serialize(o) << "\n";
            }
        } else {
            for (const auto& c : f.calls)
                std::cout << "call " << c.method << " " << json::serialize(c.args) << "\n";
        }
        std::cout << "end " << tag << std::endl;
    } else if (cmd == "acks") {
        std::cout << "acks";
        for (const auto& a : f.acks)
            std::cout << " " << a;
        std::cout << std::endl;
    } else if (cmd == "quit") {
        ioc.stop();
    } else if (!cmd.empty()) {
        std::cout << "error unknown command " << cmd << std::endl;
    }
}

} // namespace

int main(int argc, char** argv) {
    fake_slack::options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--port" && i + 1 < argc) {
            opt.port = static_cast<unsigned short>(std::stoi(argv[++i]));
        } else if (a == "--tls" && i + 2 < argc) {
            opt.cert_file = argv[++i];
            opt.key_file = argv[++i];
        } else {
            std::cerr << "usage: fake_slack [--port N] [--tls CERT KEY]\n";
            return 2;
        }
    }
    asio::io_context ioc;
    fake_slack f(ioc.get_executor(), opt);
    f.on_log = [](const std::string& line) { std::cout << line << std::endl; };
    f.hook = [](const fake_slack::call& c) -> std::optional<fake_slack::injected> {
        auto it = method_errors.find(c.method);
        if (it == method_errors.end()) return std::nullopt;
        fake_slack::injected r;
        r.body = json::serialize(json::object{{"ok", false}, {"error", it->second}});
        return r;
    };
    std::cout << "port " << f.port() << "\napi_url " << f.api_url() << std::endl;

    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::posix::stream_descriptor in(ioc, ::dup(STDIN_FILENO));
            asio::streambuf buf;
            for (;;) {
                auto [ec, n] =
                    co_await asio::async_read_until(in, buf, '\n', asio::as_tuple(asio::use_awaitable));
                if (ec) break;
                std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n - 1);
                buf.consume(n);
                command(f, line, ioc);
            }
            ioc.stop(); // stdin closed
        },
        asio::detached);
    ioc.run();
}

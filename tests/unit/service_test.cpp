// The service's group commit: inputs that reach the bot while a batch is still collecting share
// one commit (one fsync), and a lone input is not held for company. Turns of the io_context are
// counted, not time.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "bot/service.hpp"
#include "bot/store.hpp"
#include "harness.hpp"
#include "loopback_support.hpp"

using namespace pm;
using namespace pm::test;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

struct service_fixture {
    fs::path dir;
    asio::io_context io;
    bot::config cfg;
    std::unique_ptr<bot::store> st;
    std::unique_ptr<bot::service> svc;

    service_fixture() {
        char tmpl[] = "/tmp/pm-service-XXXXXX";
        dir = mkdtemp(tmpl);
        cfg.data_dir = dir;
        cfg.settings = default_settings();
        st = bot::store::open(dir);
        svc = std::make_unique<bot::service>(io, cfg, *st);
    }
    ~service_fixture() {
        svc.reset();
        st.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    // A channel message no postmortem is listening to: it is committed (de-duplication) and
    // changes nothing else.
    static adapters::chat_event chatter(int n) {
        adapters::chat_event ev;
        ev.platform = "test";
        ev.event_id = "Ev" + std::to_string(n);
        ev.user.id = "U" + std::to_string(n % 3);
        ev.user.name = "user" + std::to_string(n % 3);
        ev.where.channel = "C0CHAT";
        ev.text = "chatter " + std::to_string(n);
        ev.time = adapters::sys_millis{std::chrono::milliseconds{1764000000000}};
        return ev;
    }

    // Hands `ev` to the bot after `turns` turns of the io_context.
    void arrive_after(int turns, adapters::chat_event ev, int& done) {
        asio::co_spawn(
            io,
            [this, turns, ev = std::move(ev), &done]() mutable -> asio::awaitable<void> {
                for (int i = 0; i < turns; ++i)
                    co_await asio::post(io, asio::use_awaitable);
                co_await svc->handle(std::move(ev));
                ++done;
            },
            asio::detached);
    }

    std::uint64_t commits() { return counter("postmortem_store_commits_total "); }
    std::uint64_t committed_inputs() { return counter("postmortem_store_committed_inputs_total "); }

    std::uint64_t counter(const std::string& prefix) {
        const auto text = svc->metrics_text();
        const auto at = text.find("\n" + prefix);
        return at == std::string::npos ? 0 : std::stoull(text.substr(at + 1 + prefix.size()));
    }
};

} // namespace

TEST_CASE("service: inputs arriving every other turn while a batch collects share one commit") {
    service_fixture f;
    int done = 0;
    for (int i = 0; i < 20; ++i)
        f.arrive_after(2 * i, service_fixture::chatter(i), done);
    f.io.run();
    CHECK(done == 20);
    CHECK(f.commits() == 1);
    CHECK(f.committed_inputs() == 20);
}

TEST_CASE("service: an input after a quiet spell is not held for company, the batch has a cap") {
    service_fixture f;
    int done = 0;
    f.arrive_after(0, service_fixture::chatter(1), done);
    f.arrive_after(40, service_fixture::chatter(2), done); // long after the first committed
    f.io.run();
    CHECK(done == 2);
    CHECK(f.commits() == 2);

    // A steady stream, one input per turn for 200 turns, is cut into several commits.
    service_fixture g;
    int n = 0;
    for (int i = 0; i < 200; ++i)
        g.arrive_after(i, service_fixture::chatter(i), n);
    g.io.run();
    CHECK(n == 200);
    CHECK(g.committed_inputs() == 200);
    CHECK(g.commits() >= 3);
    CHECK(g.commits() <= 5);
}

TEST_CASE("service: an input delivered twice is committed once") {
    service_fixture f;
    int done = 0;
    f.arrive_after(0, service_fixture::chatter(7), done);
    f.arrive_after(1, service_fixture::chatter(7), done);  // while the first is in its batch
    f.arrive_after(30, service_fixture::chatter(7), done); // after it committed
    f.io.run();
    CHECK(done == 3);
    CHECK(f.committed_inputs() == 1);
}

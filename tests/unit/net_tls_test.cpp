// TLS against a local server with a throw-away CA made by the openssl CLI: the right host name
// (here the IP SAN) connects, a wrong name or an untrusted CA is refused. Also the whole Slack
// adapter over https:// and wss://.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "adapters/net/http_client.hpp"
#include "adapters/net/ws_client.hpp"
#include "adapters/slack/slack_adapter.hpp"
#include "fake_slack.hpp"
#include "loopback_support.hpp"

using namespace pm;
using namespace pm::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace net = pm::adapters::net;
namespace slack = pm::adapters::slack;

namespace {

struct test_ca {
    fs::path dir;
    bool ok = false;

    test_ca() {
        char tmpl[] = "/tmp/pm-tls-XXXXXX";
        if (!mkdtemp(tmpl)) return;
        dir = tmpl;
        // The server certificate names only IP:127.0.0.1 (SANs via -extfile: `x509 -req` does
        // not copy CSR extensions).
        std::string d = dir.string();
        std::string cmd =
            "cd " + d +
            " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
            " -out ca.pem -days 2 -subj /CN=pm-test-ca"
            " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key"
            " -out server.csr -subj /CN=pm-test-server"
            " && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n"
            "extendedKeyUsage=serverAuth\\n' > ext.cnf"
            " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
            " -out server.pem -days 2 -extfile ext.cnf"
            " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
            " -keyout other.key -out other.pem -days 2 -subj /CN=other-ca";
        ok = std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
    }
    ~test_ca() {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
    }
    std::string file(const char* name) const { return (dir / name).string(); }
};

} // namespace

TEST_CASE("net: TLS verifies the peer and its host name (HTTPS and WSS)") {
    test_ca ca;
    REQUIRE_MESSAGE(ca.ok, "openssl CLI could not make the test certificates");
    asio::io_context ioc;
    fake_slack::options fo;
    fo.cert_file = ca.file("server.pem");
    fo.key_file = ca.file("server.key");
    fake_slack fake(ioc.get_executor(), fo);
    std::string port = std::to_string(fake.port());

    run_test(ioc, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        net::http_client::options good;
        good.tls.ca_file = ca.file("ca.pem");
        net::http_client client(ex, good);

        net::http_request ok_req;
        ok_req.url = "https://127.0.0.1:" + port + "/api/auth.test";
        ok_req.headers.emplace_back("Authorization", "Bearer xoxb-x");
        auto ok = co_await client.request(ok_req);
        REQUIRE_MESSAGE(ok.ok(), ok.error);
        CHECK(ok.response.status == 200);
        CHECK(ok.response.body.find("\"ok\":true") != std::string::npos);
        // Kept alive and reused: a second request on the same connection.
        auto again = co_await client.request(ok_req);
        CHECK(again.ok());

        net::http_request wrong = ok_req;
        wrong.url = "https://localhost:" + port + "/api/auth.test"; // not in the certificate
        auto w = co_await client.request(wrong);
        CHECK_FALSE(w.ok());
        CHECK_FALSE(w.request_sent);
        CHECK_MESSAGE(w.error.find("certificate verify failed") != std::string::npos, w.error);
        CHECK_MESSAGE(w.error.find("mismatch") != std::string::npos, w.error);

        net::http_client::options untrusted;
        untrusted.tls.ca_file = ca.file("other.pem");
        net::http_client other(ex, untrusted);
        auto u = co_await other.request(ok_req);
        CHECK_FALSE(u.ok());
        CHECK_MESSAGE(u.error.find("certificate verify failed") != std::string::npos, u.error);

        net::ws_client::options wo;
        wo.tls.ca_file = ca.file("ca.pem");
        net::ws_client ws(ex, wo);
        auto c = co_await ws.connect("wss://127.0.0.1:" + port + "/link/?ticket=1");
        REQUIRE_MESSAGE(!c.ec, c.error);
        auto hello = co_await ws.read();
        REQUIRE(!hello.ec);
        CHECK(hello.msg.data.find("\"hello\"") != std::string::npos);
        co_await ws.close();

        net::ws_client ws2(ex, wo);
        auto c2 = co_await ws2.connect("wss://localhost:" + port + "/link/?ticket=2");
        CHECK(c2.ec);
        CHECK_MESSAGE(c2.error.find("certificate verify failed") != std::string::npos, c2.error);

        net::http_request plain;
        plain.url = "http://example.com/api/auth.test";
        auto p = co_await client.request(plain);
        CHECK_FALSE(p.ok());
        CHECK(p.error.find("loopback") != std::string::npos);
    });
}

TEST_CASE("slack: the adapter over https:// and wss:// with an extra CA file") {
    test_ca ca;
    REQUIRE_MESSAGE(ca.ok, "openssl CLI could not make the test certificates");
    asio::io_context ioc;
    fake_slack::options fo;
    fo.cert_file = ca.file("server.pem");
    fo.key_file = ca.file("server.key");
    fake_slack fake(ioc.get_executor(), fo);
    slack::config c;
    c.api_url = fake.api_url();
    c.bot_token = "xoxb-t";
    c.app_token = "xapp-t";
    c.ca_file = ca.file("ca.pem");
    slack::adapter bot(ioc.get_executor(), c);
    std::vector<adapters::chat_event> events;
    bool done = false;
    asio::co_spawn(ioc, bot.run([&](adapters::chat_event ev) -> asio::awaitable<void> {
        events.push_back(std::move(ev));
        co_return;
    }),
                   [&](std::exception_ptr) { done = true; });
    run_test(ioc, [&]() -> asio::awaitable<void> {
        REQUIRE(co_await eventually([&] { return bot.ready(); }));
        CHECK(fake.api_url().rfind("https://", 0) == 0);
        fake.send_envelope(make_message_envelope("env-tls", "EvTls", "C0INC", "U0ALICE", "over TLS", "5.1"));
        REQUIRE(co_await eventually([&] { return fake.acks.size() == 1; }));
        CHECK(events.size() == 1);
        bot.stop();
        REQUIRE(co_await eventually([&] { return done; }));
    });
}

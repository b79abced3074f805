// The fake homeserver as a program, for end-to-end scripts that run the real binary against it:
//   fake-matrix [--port N] [--user @pmbot:example.org] [--token TOKEN] [--password PW]
// Prints "http://127.0.0.1:PORT" on the first line of stdout, then serves until SIGINT/SIGTERM.
// Scripts drive it through the /_fake/ control requests (fake_matrix.hpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "fake_matrix.hpp"

int main(int argc, char** argv) {
    std::string user, token, password;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--user")
            user = argv[i + 1];
        else if (a == "--token")
            token = argv[i + 1];
        else if (a == "--password")
            password = argv[i + 1];
        else if (a != "--port") {
            std::cerr << "usage: fake-matrix [--user MXID] [--token T] [--password PW]\n";
            return 2;
        }
    }
    boost::asio::io_context ioc;
    pm::test::fake_matrix hs(ioc.get_executor());
    if (!user.empty()) hs.user_id = user;
    if (!token.empty()) hs.token = token;
    if (!password.empty()) hs.password = password;
    std::cout << hs.base_url() << std::endl;
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    ioc.run();
    return 0;
}

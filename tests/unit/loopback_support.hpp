// Helpers for loopback tests: one io_context in the test thread, a coroutine test body, polling
// with generous timeouts as failure guards only (no timing assertions).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <functional>

namespace pm::test {

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

// Polls `cond` until true or `guard` passes; returns the final value.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> cond,
                                               std::chrono::milliseconds guard = std::chrono::seconds(20)) {
    auto end = std::chrono::steady_clock::now() + guard;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) co_return false;
        co_await sleep_for(std::chrono::milliseconds(5));
    }
    co_return true;
}

// Runs `body` on `ioc` to completion (or until `guard`), rethrowing its exception.
template <class Body>
void run_test(boost::asio::io_context& ioc, Body body,
              std::chrono::seconds guard = std::chrono::seconds(60)) {
    bool done = false;
    std::exception_ptr failure;
    boost::asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        ioc.stop();
    });
    ioc.run_for(guard);
    REQUIRE_MESSAGE(done, "test body did not finish in time");
    if (failure) std::rethrow_exception(failure);
}

} // namespace pm::test

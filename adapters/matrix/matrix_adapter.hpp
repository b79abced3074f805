// The Matrix adapter: the Client-Server API over HTTPS, `/sync` long-poll for input and
// `PUT …/send/m.room.message/{txnId}` for output (protocols/matrix.md). Beast-free header.
//
//   pm::adapters::matrix::config cfg;
//   cfg.homeserver = "https://matrix.example.org"; cfg.user_id = "@pmbot:example.org";
//   cfg.access_token = "syt_…";                        // or cfg.password: one login, token kept
//   auto mx = pm::adapters::matrix::make_matrix_adapter(ioc.get_executor(), cfg, cursors);
//   co_spawn(ioc, mx->run(sink), …);          // whoami, filter, /sync → sink → next_batch stored
//   auto r = co_await mx->send(outbound_row); // from the outbox drainer; txn_id is the txnId
//
// `cursors` (adapters/adapter.hpp) must outlive the adapter; it keeps next_batch, the filter id,
// a password login's token, DM rooms and rooms already told they are encrypted.
// All member functions are to be used from one thread (the io_context's, or one strand).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/adapter.hpp"

namespace pm::adapters::matrix {

struct config {
    std::string homeserver;                  // MATRIX_HOMESERVER: client base URL; http:// only for loopback
    std::string user_id;                     // MATRIX_USER_ID: the bot's MXID, checked with whoami
    std::string access_token;                // MATRIX_ACCESS_TOKEN; or:
    std::string password;                    // m.login.password once; the token is then kept in the cursors
    std::string device_id = "POSTMORTEMBOT"; // for a password login: keeps the txnId scope stable
    std::string ca_file;                     // extra CA to trust (tests, private CAs)
    std::string command = "postmortem";      // `!postmortem …` / `/postmortem …`

    std::chrono::milliseconds sync_timeout{30000};           // server-side hold of /sync (≤ 30 s)
    std::chrono::milliseconds sync_deadline{90000};          // client deadline of one /sync
    std::chrono::milliseconds initial_sync_deadline{300000}; // first /sync without `since`
    std::chrono::milliseconds http_timeout{20000};           // every other exchange
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{60000};
    int timeline_limit = 100;    // events per room per sync (Synapse caps at 100)
    int gap_fill_max_pages = 10; // /messages pages per limited timeline
};

// "" when the config is usable, else a readable reason (secrets are never echoed).
std::string validate(const config& cfg);

class adapter final : public platform {
public:
    // Throws std::invalid_argument with validate()'s message, or std::runtime_error when the CA
    // file cannot be loaded.
    adapter(boost::asio::any_io_executor ex, config cfg, cursor_store& cursors);
    ~adapter() override;

    std::string name() const override { return "matrix"; }
    // Login (password only), whoami, filter, then /sync until stop() or cancellation. Throws
    // std::runtime_error with a readable message when the homeserver refuses the token
    // (M_UNKNOWN_TOKEN), the credentials, or whoami names another user.
    boost::asio::awaitable<void> run(event_sink sink) override;
    boost::asio::awaitable<send_result> send(const outbound& msg) override;
    bool ready() const override;

    // run() returns after the /sync in flight (at most sync_timeout plus network time).
    void stop();

    struct counters {
        std::uint64_t syncs = 0;
        std::uint64_t events = 0;             // handed to the sink
        std::uint64_t duplicates_dropped = 0; // repeated inside one batch
        std::uint64_t gaps_filled = 0;
        std::uint64_t joins = 0;
        std::uint64_t rate_limited = 0;
        std::uint64_t sends = 0;
    };
    counters stats() const;
    std::string own_user_id() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

std::unique_ptr<adapter> make_matrix_adapter(boost::asio::any_io_executor ex, config cfg,
                                             cursor_store& cursors);

} // namespace pm::adapters::matrix

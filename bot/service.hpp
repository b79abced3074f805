// The service: routes inbound events into the core, commits what the core decided in one
// transaction, and drives the outbox drainers and the scheduler. One io_context, one thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <set>

#include "adapters/adapter.hpp"
#include "bot/config.hpp"
#include "bot/metrics.hpp"
#include "bot/store.hpp"
#include "conversations/engine.hpp"

namespace pm::bot {

class service {
public:
    service(boost::asio::io_context& io, const config& cfg, store& st);
    ~service();

    void add_platform(std::unique_ptr<adapters::platform> p);
    // Adds an adapter's own counters to /metrics (read when scraped).
    void add_metrics_source(std::function<void(metrics&)> fn);
    adapters::platform* platform(const std::string& name);

    // Starts the drainers and the scheduler, and each platform's run loop.
    // `on_end` is called when a platform's run loop ends: the shell at end of input (no error),
    // a network adapter when it gives up (refused token), with the reason.
    void start(std::function<void(const std::string& name, const std::string& error)> on_end);
    // A durable key-value store for adapters' cursors (Matrix next_batch, filter id, …).
    adapters::cursor_store& cursors();

    // The event sink handed to adapters: de-duplicate, route, apply, commit. Throws when the
    // commit failed, so the adapter does not ack.
    boost::asio::awaitable<void> handle(adapters::chat_event ev);

    // Sends everything pending (bounded by `deadline`), then returns.
    boost::asio::awaitable<void> drain(std::chrono::milliseconds deadline);

    const conv::world& world() const { return world_; }
    // Metrics with the gauges brought up to date; `ready` is every adapter connected and the
    // store writable, with the reason when not.
    std::string metrics_text();
    bool ready(std::string& why);
    store& storage() { return store_; }
    void stop();

private:
    struct drainer;
    boost::asio::awaitable<void> drain_loop(drainer& d);
    boost::asio::awaitable<void> scheduler_loop();
    boost::asio::awaitable<void> flush(const std::string& platform);
    void after_commit(const conv::outcome& out);
    // Group commit: requests queued while the io thread is busy share one transaction.
    struct pending_commit;
    boost::asio::awaitable<void> commit_grouped(commit_request r);
    void flush_commits();
    void write_exports(const std::string& pm);
    adapters::outbound to_outbound(const outbox_row& row, bool& ok, std::string& why);

    boost::asio::io_context& io_;
    const config& cfg_;
    store& store_;
    conv::engine engine_;
    conv::world world_;
    std::map<std::string, std::unique_ptr<adapters::platform>> platforms_;
    std::map<std::string, std::unique_ptr<drainer>> drainers_;
    boost::asio::steady_timer scheduler_wake_;
    metrics metrics_;
    bool stopping_ = false;
    std::vector<std::shared_ptr<pending_commit>> batch_;
    bool flush_posted_ = false;
    std::size_t flush_seen_ = 0; // batch size when the flush last looked; it waits while it grows
    int flush_rounds_ = 0;
    int flush_quiet_ = 0;
    std::map<std::string, std::string> adapter_labels_; // platform -> `adapter="…"`
    const std::string& adapter_label(const std::string& platform);
    std::set<std::string> inflight_;
    std::unique_ptr<adapters::cursor_store> cursors_;
    std::vector<std::function<void(metrics&)>>
        metric_sources_; // events applied but not yet committed, for de-duplication
};

} // namespace pm::bot

// The durable record: SQLite in WAL mode. Domain events (the log every postmortem is folded
// from), the inbox (inbound de-duplication), the outbox (exactly-once posting), thread roots,
// timers and small cursors. Every state change and the messages it causes commit together.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conversations/model.hpp"

namespace pm::bot {

struct outbox_row {
    std::int64_t id = 0;
    std::string platform;
    conv::send msg;
    enum class state { pending, sending, sent, failed } st = state::pending;
    std::string ref;
    int attempts = 0;
    std::int64_t not_before_ms = 0;
    std::string correlation; // the inbound event (or timer) that caused this row
    std::string txn_id() const { return "pm-out-" + std::to_string(id); }
};

struct timer_row {
    std::int64_t id = 0;
    conv::sys_seconds at;
    conv::timer_in timer;
};

struct commit_request {
    const conv::outcome* out = nullptr;
    std::string inbox_platform; // non-empty: record (platform, event id) as seen
    std::string inbox_event_id;
    std::optional<std::int64_t> timer_done;
    std::int64_t now_ms = 0;
    std::string correlation; // names the cause in logs when there is no inbox event (timers)
    // Marks these outbox rows 'sending' (one more attempt each), durably, before they are posted.
    std::vector<std::int64_t> outbox_sending;
};

class store {
public:
    // Opens (creating when needed) <data_dir>/postmortem.db and applies migrations.
    // Throws std::runtime_error with a readable message when the directory or file is unusable.
    static std::unique_ptr<store> open(const std::filesystem::path& data_dir);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    void replay(const std::function<void(const boost::json::object&)>& fn);
    bool seen(const std::string& platform, const std::string& event_id);
    // One transaction: events, outbox rows, timers, inbox mark. Throws on failure (nothing written).
    void commit(const commit_request& r);
    // Group commit: several requests in one transaction and one fsync, all or none.
    void commit(const std::vector<const commit_request*>& batch);

    std::vector<outbox_row> pending(const std::string& platform, std::size_t limit);
    // Sent: records the platform ref, and the thread root when the row opened a thread.
    void mark_sent(const outbox_row& row, const std::string& ref);
    void mark_retry(std::int64_t id, std::int64_t not_before_ms);
    void mark_failed(std::int64_t id, const std::string& error);
    std::int64_t outbox_depth();

    std::optional<std::string> thread_ref(const std::string& platform, const std::string& thread_key);
    std::optional<std::string> thread_key_for(const std::string& platform, const std::string& ref);

    std::vector<timer_row> timers();

    std::optional<std::string> get(const std::string& key);
    void put(const std::string& key, const std::string& value);

    bool writable();

private:
    struct impl;
    explicit store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

} // namespace pm::bot

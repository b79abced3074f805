// The one small interface every platform adapter implements (shell, Slack, Matrix).
// Adapters know their platform and the core's rich-text model; they know nothing of incidents.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conversations/richtext.hpp"

namespace pm::adapters {

using millis = std::chrono::milliseconds;
using sys_millis = std::chrono::sys_time<std::chrono::milliseconds>;

struct user_ref {
    std::string id;                // platform user id (Slack U…, Matrix MXID, shell name)
    std::string name;              // display name as known now (may be empty)
    std::optional<std::string> tz; // IANA zone the platform supplies (Slack users.info), if any
    bool is_bot = false;
};

// Where a message was said or is to be said, in platform terms.
struct place {
    enum class kind { channel, thread, dm };
    kind k = kind::channel;
    std::string channel;     // channel / room id; for a DM the DM's channel id when known
    std::string thread_root; // thread: the platform ref of the thread's root message
};

// One inbound message, normalised. Mentions in `text` are written `<@ID>` whatever the platform.
struct chat_event {
    std::string platform; // "shell", "slack", "matrix"
    std::string event_id; // platform id used for de-duplication
    user_ref user;
    place where;
    std::string text;              // for commands: the arguments after the command word
    bool is_command = false;       // `/postmortem …`, `!postmortem …`, slash command, @bot postmortem
    bool answers_anywhere = false; // shell: a participant's plain line answers their open prompt
    std::string message_ref;       // platform ref of this message (Slack ts, Matrix event id)
    std::optional<std::string> edit_of; // the message_ref this edit replaces
    sys_millis time{};                  // platform timestamp (Slack ts, Matrix origin_server_ts)
    std::vector<user_ref> mentions;     // users mentioned, with names where the platform gives them
    std::string response_url;           // Slack slash command only
};

// One outbound message, from an outbox row.
struct outbound {
    std::int64_t outbox_id = 0;
    std::string txn_id; // stable idempotency key (Matrix txnId, Slack metadata)
    enum class target { channel, thread, dm, private_to } to = target::channel;
    std::string channel;     // channel / room id (for private_to: the channel it concerns)
    std::string thread_root; // platform ref of the thread root, for `thread`
    std::string user;        // the addressee for `dm` and `private_to`
    rich::message body;
    std::vector<std::string> notify; // user ids this message is meant to notify (thread roots)
    std::string file_name;           // an attachment (export) when non-empty
    std::string file_content;
};

struct send_result {
    enum class status { sent, retry, failed, unknown };
    status st = status::sent;
    std::string ref;        // platform ref of the (first) posted message
    std::string dm_channel; // for `dm`: the channel the platform opened
    millis retry_after{0};  // for `retry`: how long to wait
    std::string error;      // a readable reason for `failed` / `unknown`
};

// A small durable key-value store the bot lends an adapter for its own cursors (Matrix: the sync
// token `next_batch`, a password login's access token, the uploaded filter id, rooms already told
// that the bot cannot read them). The bot backs it with its database; a put() is durable when it
// returns. Keys are namespaced by the adapter ("matrix.…").
class cursor_store {
public:
    virtual ~cursor_store() = default;
    virtual std::optional<std::string> get(const std::string& key) = 0;
    virtual void put(const std::string& key, const std::string& value) = 0;
};

// What the bot hands an adapter: called once per inbound event; its awaitable completes only
// after the event is durably committed (or rejected), and only then may the adapter ack it.
// The bot takes the event in when the awaitable starts, before it first suspends: an adapter
// that starts the sinks of one conversation in arrival order (co_spawn keeps that order) may
// start the next before the previous one has committed, so both share a commit.
using event_sink = std::function<boost::asio::awaitable<void>(chat_event)>;

class platform {
public:
    virtual ~platform() = default;
    virtual std::string name() const = 0;
    // Connects, receives, hands each event to `sink`, acks after it returns; reconnects with
    // backoff until cancelled. Returns when the platform's input ends (shell: end of stdin).
    virtual boost::asio::awaitable<void> run(event_sink sink) = 0;
    // Posts one message. Never throws for platform errors: they come back in send_result.
    virtual boost::asio::awaitable<send_result> send(const outbound& msg) = 0;
    // After a crash, a row whose outcome is unknown: was it posted? (Slack: metadata lookup.)
    virtual boost::asio::awaitable<std::optional<send_result>> find_sent(const outbound& msg) {
        (void)msg;
        co_return std::nullopt;
    }
    // Connected and able to send (for /readyz).
    virtual bool ready() const = 0;
};

} // namespace pm::adapters

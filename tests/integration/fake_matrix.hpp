// A small fake Matrix homeserver on 127.0.0.1 (port 0) following protocols/matrix.md: the
// Client-Server endpoints the adapter uses (login, whoami, filter, sync, join, send, messages,
// createRoom, m.direct, profile, media upload), plain HTTP. Scriptable from tests (queue sync
// batches, invites, limited timelines with /messages pages; inject 429s, lost responses and an
// expired token) and recording what the client did. Sends are de-duplicated by (room, txnId)
// like a real homeserver. Runs on the caller's executor, single-threaded.
//
// The same scripting is reachable over HTTP under /_fake/ (no token) for end-to-end scripts that
// run the real binary against the standalone program (fake_matrix_main.cpp):
//   POST /_fake/sync {batch}            queue a /sync batch → {"next_batch":"sN"}
//   POST /_fake/initial {body}          the initial sync's body
//   POST /_fake/invite {room, inviter, is_direct}
//   POST /_fake/messages {room, from, chunk, end}
//   POST /_fake/names {"@user:server": "Name", …}
//   POST /_fake/inject {method, path_contains, body_contains, count, status, body, headers,
//                       process_then_drop}
//   POST /_fake/clear_injections        forget the injections not used up yet
//   POST /_fake/expire_token
//   GET  /_fake/state                   events, send_txns, joins, created_rooms, sync_sinces, …
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pm::test {

class fake_matrix {
public:
    struct sent_event {
        std::string room;
        std::string type;
        std::string txn;
        std::string event_id;
        boost::json::object content;
    };

    struct request {
        std::string method;
        std::string path;  // decoded, without the query
        std::string query; // raw
        std::string token; // bearer token used
    };

    // A canned answer instead of the normal one, for the next `count` matching requests.
    struct injected {
        std::string method;        // "PUT", "GET", …
        std::string path_contains; // matched against the decoded path
        std::string body_contains; // and, when set, against the request body
        int count = 1;
        int status = 429;
        std::string body =
            R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":20})";
        std::vector<std::pair<std::string, std::string>> headers;
        bool process_then_drop = false; // do the work, then close without answering
    };

    explicit fake_matrix(boost::asio::any_io_executor ex);
    ~fake_matrix();
    fake_matrix(const fake_matrix&) = delete;
    fake_matrix& operator=(const fake_matrix&) = delete;

    unsigned short port() const;
    std::string base_url() const; // http://127.0.0.1:port

    // ---- identity ----
    std::string user_id = "@pmbot:example.org";
    std::string token = "syt_cG1ib3Q_good";
    std::string password = "correct horse";
    std::string whoami_user;                          // non-empty: whoami answers this instead of user_id
    std::map<std::string, std::string> display_names; // profile lookups

    // ---- sync scripting ----
    // The initial sync (no `since`) answers this body with next_batch "s0".
    boost::json::object initial;
    // Appends a batch; the n-th queued batch (from 0) answers `since=s<n>` and carries
    // next_batch "s<n+1>". Asking again with the same since gets the same batch (redelivery).
    std::string queue_batch(boost::json::object body);
    // A whole batch with one room's timeline events.
    std::string queue_timeline(const std::string& room, boost::json::array events, bool limited = false,
                               const std::string& prev_batch = "");
    std::string queue_invite(const std::string& room, const std::string& inviter, bool is_direct = false);
    // /messages for `room`, keyed by the `from` token: a chunk and the next `end` ("" = none).
    void set_messages(const std::string& room, const std::string& from, boost::json::array chunk,
                      const std::string& end = "");
    std::chrono::milliseconds hold{30}; // how long /sync waits when nothing is queued

    void inject(injected i);
    void clear_injections();
    void expire_token(); // every authenticated request: 401 M_UNKNOWN_TOKEN, soft_logout false

    // ---- recordings ----
    std::vector<request> requests;
    std::vector<sent_event> events;                         // unique per (room, txnId), in order
    std::vector<std::string> send_txns;                     // every PUT send's txnId, retries included
    std::vector<std::string> sync_sinces;                   // since of each /sync ("" = initial)
    std::vector<std::pair<std::string, std::string>> joins; // room, via
    std::vector<boost::json::object> created_rooms;         // createRoom bodies
    boost::json::object m_direct;                           // the bot's m.direct account data
    std::map<std::string, std::string> uploads;             // mxc → content
    int logins = 0;
    int filters = 0;
    int syncs_after_expiry = 0;

    // Events a room got from the client, in order.
    std::vector<sent_event> events_in(const std::string& room) const;
    int count(const std::string& method, const std::string& path_contains) const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// A timeline event as a homeserver sends it in /sync.
boost::json::object text_event(const std::string& event_id, const std::string& sender,
                               const std::string& body, std::int64_t ts = 1767225600000);

} // namespace pm::test

// A small fake Slack on 127.0.0.1 (port 0) following protocols/slack.md: the Web API methods the
// adapter uses and Socket Mode over a WebSocket on the same port. Scriptable from tests (send
// envelopes, disconnects, malformed frames; inject 429s and lost responses) and recording what
// the client did (acks, posts, every call). Runs on the caller's executor, single-threaded.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pm::test {

class fake_slack {
public:
    struct options {
        std::string cert_file; // PEM; with key_file: serve HTTPS/WSS instead of plain
        std::string key_file;
        unsigned short port = 0;
    };

    struct call {
        std::string method;
        boost::json::object args; // JSON body or decoded form
        std::string token;        // the bearer token used
    };

    struct message {
        std::string channel;
        std::string ts;
        std::string thread_ts;
        std::string user; // for ephemeral posts
        boost::json::object args;
        bool ephemeral = false;
    };

    // A canned answer instead of the normal one.
    struct injected {
        int status = 200;
        std::string body;                                         // JSON
        std::vector<std::pair<std::string, std::string>> headers; // e.g. Retry-After
        bool process_then_drop = false;                           // do the work, then close without answering
    };

    explicit fake_slack(boost::asio::any_io_executor ex);
    fake_slack(boost::asio::any_io_executor ex, options opt);
    ~fake_slack();
    fake_slack(const fake_slack&) = delete;
    fake_slack& operator=(const fake_slack&) = delete;

    unsigned short port() const;
    std::string api_url() const; // http(s)://127.0.0.1:port/api/

    // ---- Socket Mode scripting (to the newest open socket unless an index is given) ----
    void send_frame(std::string text, bool binary = false, int socket = -1);
    void send_envelope(const boost::json::object& env, int socket = -1);
    void disconnect(const std::string& reason, int socket = -1); // a disconnect frame
    void drop_sockets();                                         // abrupt TCP close, no frame
    // The sockets go silent (half-open TCP): nothing is read, pings are not answered, the TCP
    // connection stays open. The client must find out by itself.
    void freeze_sockets();
    int open_sockets() const;
    int sockets_accepted() const;
    // Socket lifecycle in order: "open 1", "close 1", … (for make-before-break checks).
    const std::vector<std::string>& socket_log() const;

    // ---- recordings ----
    std::vector<std::string> acks;            // envelope ids acked, in order
    std::vector<call> calls;                  // every Web API call
    std::vector<message> messages;            // chat.postMessage / chat.postEphemeral
    std::map<std::string, std::string> files; // file id → uploaded content
    int rate_limit_violations = 0;            // calls made during a Retry-After window they were given

    // ---- behaviour ----
    std::string bot_user = "U0PMBOT";
    std::string bot_id = "B0PMBOT";
    std::string auth_error;                           // auth.test answers this error when set
    std::map<std::string, boost::json::object> users; // users.info
    bool send_hello = true;
    int approximate_connection_time = 18060; // seconds, in hello.debug_info
    int ratelimit_next_posts = 0;            // the next N chat.postMessage calls get HTTP 429
    int retry_after_seconds = 1;
    int drop_next_post_responses = 0; // the next N posts are stored but their response is lost
    std::map<std::string, std::string> channel_errors; // channel → error for chat.postMessage
    // Told of each socket open/close, ack and post as one line ("ack env-1", "post C1 <ts>"…).
    std::function<void(const std::string&)> on_log;
    // Called first for every Web API call; an answer replaces the normal handling.
    std::function<std::optional<injected>(const call&)> hook;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
    friend struct impl;
};

// Slack-shaped test envelopes.
boost::json::object make_message_envelope(const std::string& envelope_id, const std::string& event_id,
                                          const std::string& channel, const std::string& user,
                                          const std::string& text, const std::string& ts,
                                          const std::string& thread_ts = "");
// A `message_changed` event: the message `orig_ts` (in `thread_ts`'s thread when given) now reads
// `text`; the edit itself happened at `ts`.
boost::json::object make_edit_envelope(const std::string& envelope_id, const std::string& event_id,
                                       const std::string& channel, const std::string& user,
                                       const std::string& orig_ts, const std::string& text,
                                       const std::string& ts, const std::string& thread_ts = "");

} // namespace pm::test

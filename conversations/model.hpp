// The domain of the pure core: settings, the world (a fold of domain events), inputs and the
// effects the core asks the service to carry out. No I/O, no clock reads, no platform words
// beyond opaque ids.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conversations/nudges.hpp"
#include "conversations/richtext.hpp"

namespace pm::conv {

using sys_seconds = std::chrono::sys_seconds;
using namespace std::chrono_literals;

struct question {
    std::string id;
    std::string prompt;
    bool timeline = false; // several messages, one step per line, until `done`
    bool ideas = false;    // answers are remediation ideas, listed with their proposer
    std::string label;     // short heading in the summary ("How it reached you")
};

struct question_set {
    std::string opening; // sent once, before the first question
    std::vector<question> questions;
};

struct settings {
    question_set questions;
    nudges::ruleset rules;
    std::string default_tz = "UTC"; // users' zone until they use `tz` or the platform says
    std::string summary_tz = "UTC"; // display zone of the summary
    int gap_minutes = 30;
    int conflict_minutes = 5;
    std::chrono::seconds remind_after = 24h;
    std::chrono::seconds deadline = 72h;
    bool auto_finish = true;
    bool interview_dm = false; // config `interview = "dm"`
    std::size_t max_answer_bytes = 16 * 1024;
    std::size_t max_title_bytes = 200;
    std::size_t max_participants = 100;
    std::size_t max_steps = 200; // timeline steps per participant
};

// ---- the world -------------------------------------------------------------------------------

struct answer {
    std::string text;
    bool is_private = false;
    std::string message_ref; // the message that carried it, for edits
    bool skipped = false;
    std::string prompt; // for a follow-up: what was asked
};

struct step {
    std::int64_t seq = 0;           // order given by this participant
    std::optional<sys_seconds> at;  // nullopt: time unknown (`?`)
    std::optional<sys_seconds> end; // span end
    bool approximate = false;
    std::string text;     // the step without its time
    std::string original; // the line as written
    std::string message_ref;
    bool is_private = false;
};

struct participant {
    std::string user; // platform user id
    enum class stage { waiting, active, stopped, completed } st = stage::waiting;
    std::size_t pos = 0; // index of the current question
    bool in_followup = false;
    std::string followup_prompt;
    std::map<std::string, answer> answers;   // question id -> answer
    std::map<std::string, answer> followups; // question id -> follow-up answer
    std::vector<step> steps;
    std::int64_t next_step_seq = 1;
    bool opened = false; // interview place opened (thread root / DM)
};

struct postmortem {
    std::string id; // "PM-12"
    std::string title;
    std::string platform;
    std::string channel;
    std::string lead;
    bool dm = false;
    bool anonymous = false;
    sys_seconds window_start{};
    sys_seconds window_end{};
    sys_seconds started_at{};
    enum class state { open, finished, cancelled } st = state::open;
    int summaries_posted = 0;
    bool reminded = false;
    std::vector<participant> participants;

    participant* find(const std::string& user);
    const participant* find(const std::string& user) const;
};

struct user_info {
    std::string name;
    std::optional<std::string> platform_tz; // supplied by the platform (Slack users.info)
    std::optional<std::string> tz;          // set with `tz`
};

struct world {
    std::int64_t next_number = 1;
    std::map<std::string, postmortem> postmortems; // by id
    std::map<std::string, user_info> users;        // by "platform/user"
    std::string zone_of(const std::string& platform, const std::string& user, const settings& s) const;
    std::string name_of(const std::string& platform, const std::string& user) const;
};

// ---- inputs ----------------------------------------------------------------------------------

struct mention {
    std::string id;
    std::string name;
};

struct message_in {
    std::string platform;
    std::string user;
    std::string user_name;
    std::optional<std::string> user_tz;
    enum class where { channel, thread, dm } place = where::channel;
    std::string channel;
    std::string thread_key; // the interview thread this message is in, when the bot knows it
    std::string text;
    bool is_command = false;
    bool answers_anywhere = false;
    std::string message_ref;
    std::optional<std::string> edit_of;
    sys_seconds time{};
    std::vector<mention> mentions;
    std::string command_word = "/postmortem"; // how this platform spells the command, for usage
};

struct timer_in {
    std::string pm;
    enum class kind { remind, deadline } what = kind::remind;
};

// ---- effects ---------------------------------------------------------------------------------

struct destination {
    enum class kind { channel, thread, dm, private_to } k = kind::channel;
    std::string platform;
    std::string channel;    // channel / thread / private_to
    std::string thread_key; // thread: "PM-1/U123"; channel: the thread this message opens
    std::string user;       // dm / private_to
};

struct send {
    destination to;
    rich::message body;
    std::vector<std::string> notify; // users this message notifies (thread roots)
    std::string file_name;           // export attachment
    std::string file_content;
};

struct schedule {
    sys_seconds at;
    timer_in timer;
};

struct write_exports {
    std::string pm;
};

struct outcome {
    std::vector<boost::json::object> events; // already folded into the world
    std::vector<send> sends;
    std::vector<schedule> schedules;
    std::vector<write_exports> exports;
    std::vector<std::string> log; // lines worth logging (rejected input and why)
};

std::string thread_key(const std::string& pm, const std::string& user);

} // namespace pm::conv

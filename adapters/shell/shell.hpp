// The terminal adapter (SPEC §9): one message per stdin line, several simulated users, every
// bot message printed with its place. Line syntax and rendering are pure functions, kept apart
// from the reader so they can be tested and fuzzed.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <filesystem>
#include <iosfwd>
#include <memory>

#include "adapters/adapter.hpp"

namespace pm::adapters::shell {

struct parsed_line {
    enum class kind { say, dm, switch_channel, blank, invalid } k = kind::blank;
    std::string user;
    std::string text;
    std::string channel;
    std::string error;
};

// `alice: text`, `alice -> bot: text`, `/channel #name`; blank lines and `# comments` are blank.
parsed_line parse_line(std::string_view line);

// Turns a parsed line into the adapter-neutral event (mentions `@name` become `<@name>`).
// `run` names this process's session so ids never repeat across restarts; `seq` is the line number.
chat_event to_event(const parsed_line& l, const std::string& channel, const std::string& run, std::uint64_t seq,
                    sys_millis now);

// "[place] first line\n  continuation\n" for one message.
std::string print(const std::string& place, const rich::message& m);

struct options {
    std::string channel = "#incident";
    std::filesystem::path exports_dir; // where `export` attachments are written
    std::istream* in = nullptr;        // default: std::cin
    std::ostream* out = nullptr;       // default: std::cout
};

std::unique_ptr<platform> make(boost::asio::any_io_executor ex, options opts);

} // namespace pm::adapters::shell

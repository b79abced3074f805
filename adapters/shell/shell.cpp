#include "adapters/shell/shell.hpp"

#include <boost/asio.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

namespace pm::adapters::shell {

namespace asio = boost::asio;

namespace {

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::string render_line(const rich::line& l) {
    std::string out;
    for (auto& s : l) {
        if (s.k == rich::span::kind::mention)
            out += "@" + s.text;
        else if (s.code)
            out += "`" + s.text + "`";
        else
            out += s.text;
    }
    return out;
}

} // namespace

parsed_line parse_line(std::string_view raw) {
    parsed_line r;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') return r;
    if (line.starts_with("/channel")) {
        auto rest = trim(line.substr(8));
        if (rest.size() < 2 || rest.front() != '#' || rest.size() > 80 ||
            !std::all_of(rest.begin() + 1, rest.end(), name_char)) {
            r.k = parsed_line::kind::invalid;
            r.error = "use `/channel #name` (letters, digits, - _ .)";
            return r;
        }
        r.k = parsed_line::kind::switch_channel;
        r.channel = std::string(rest);
        return r;
    }
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i]))
        ++i;
    if (i == 0 || i > 64) {
        r.k = parsed_line::kind::invalid;
        r.error = "start the line with a name: `alice: text`, `alice -> bot: text` or `/channel #name`";
        return r;
    }
    r.user = std::string(line.substr(0, i));
    auto rest = trim(line.substr(i));
    bool dm = false;
    if (rest.starts_with("->")) {
        rest = trim(rest.substr(2));
        if (!rest.starts_with("bot")) {
            r.k = parsed_line::kind::invalid;
            r.error = "direct messages go to the bot: `" + r.user + " -> bot: text`";
            return r;
        }
        rest = trim(rest.substr(3));
        dm = true;
    }
    if (!rest.starts_with(":")) {
        r.k = parsed_line::kind::invalid;
        r.error = "put a colon after the name: `" + r.user + ": text`";
        return r;
    }
    r.text = std::string(trim(rest.substr(1)));
    r.k = dm ? parsed_line::kind::dm : parsed_line::kind::say;
    return r;
}

chat_event to_event(const parsed_line& l, const std::string& channel, const std::string& run,
                    std::uint64_t seq, sys_millis now) {
    chat_event e;
    e.platform = "shell";
    e.event_id = "shell-" + run + "-" + std::to_string(seq);
    e.message_ref = e.event_id;
    e.user = user_ref{l.user, l.user, std::nullopt, false};
    e.time = now;
    e.answers_anywhere = true;
    if (l.k == parsed_line::kind::dm)
        e.where = place{place::kind::dm, "dm " + l.user, ""};
    else
        e.where = place{place::kind::channel, channel, ""};
    std::string_view t = l.text;
    for (std::string_view word : {"/postmortem", "!postmortem"}) {
        if (t.starts_with(word) && (t.size() == word.size() || t[word.size()] == ' ')) {
            e.is_command = true;
            t.remove_prefix(word.size());
            break;
        }
    }
    // `@name` becomes the neutral mention form `<@name>`.
    std::string out;
    for (std::size_t i = 0; i < t.size();) {
        if (t[i] == '@' && (i == 0 || t[i - 1] == ' ') && i + 1 < t.size() && name_char(t[i + 1])) {
            std::size_t j = i + 1;
            while (j < t.size() && name_char(t[j]))
                ++j;
            std::string name(t.substr(i + 1, j - i - 1));
            while (!name.empty() && name.back() == '.')
                name.pop_back(), --j; // "@bob." ends a sentence
            out += "<@" + name + ">";
            e.mentions.push_back(user_ref{name, name, std::nullopt, false});
            i = j;
            continue;
        }
        out += t[i++];
    }
    e.text = std::string(trim(out));
    return e;
}

std::string print(const std::string& place, const rich::message& m) {
    std::vector<std::string> lines;
    for (auto& b : m.blocks) {
        std::string chunk;
        switch (b.k) {
        case rich::block::kind::paragraph:
        case rich::block::kind::heading:
            chunk = render_line(b.text);
            break;
        case rich::block::kind::bullets:
            for (std::size_t i = 0; i < b.items.size(); ++i)
                chunk += (i ? "\n- " : "- ") + render_line(b.items[i]);
            break;
        case rich::block::kind::code:
            chunk = b.code;
            break;
        case rich::block::kind::divider:
            chunk = "---";
            break;
        }
        std::size_t start = 0;
        while (start <= chunk.size()) {
            auto nl = chunk.find('\n', start);
            if (nl == std::string::npos) nl = chunk.size();
            lines.push_back(chunk.substr(start, nl - start));
            start = nl + 1;
        }
    }
    std::string out = "[" + place + "]";
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += (i == 0 ? " " : "\n  ") + lines[i];
    return out + "\n";
}

namespace {

class shell_platform final : public platform {
public:
    shell_platform(asio::any_io_executor ex, options o)
        : ex_(ex), opts_(std::move(o)), wake_(ex), channel_(opts_.channel) {
        in_ = opts_.in ? opts_.in : &std::cin;
        out_ = opts_.out ? opts_.out : &std::cout;
    }

    ~shell_platform() override {
        if (reader_.joinable()) reader_.detach(); // a blocked read of stdin cannot be interrupted
    }

    std::string name() const override { return "shell"; }
    bool ready() const override { return true; }

    asio::awaitable<void> run(event_sink sink) override {
        // stdin may be a terminal, a pipe or a file: a plain reading thread handles all three.
        reader_ = std::thread([this] {
            std::string line;
            while (std::getline(*in_, line)) {
                asio::post(ex_, [this, line] {
                    lines_.push_back(line);
                    wake_.cancel();
                });
            }
            asio::post(ex_, [this] {
                eof_ = true;
                wake_.cancel();
            });
        });
        spdlog::info("shell: session {} reading stdin", run_);
        if (in_ == &std::cin && ::isatty(STDIN_FILENO))
            std::cerr << "Type as several people, one message per line:\n"
                         "  alice: /postmortem start DB failover @bob     (a command in #incident)\n"
                         "  bob: 14:05 restarted api-3                      (an answer to bob's question)\n"
                         "  bob -> bot: /postmortem status                 (a direct message)\n"
                         "  /channel #other                                (switch channel)\n"
                         "Ctrl-D ends; what you typed is kept in the data dir.\n"
                      << std::flush;
        std::uint64_t seq = 0;
        for (;;) {
            while (lines_.empty() && !eof_) {
                wake_.expires_at(asio::steady_timer::time_point::max());
                co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            if (lines_.empty() && eof_) break;
            std::string raw = std::move(lines_.front());
            lines_.pop_front();
            ++seq;
            if (raw.size() > 1 << 20) raw.resize(1 << 20); // bounded; the core refuses long answers
            auto l = parse_line(raw);
            switch (l.k) {
            case parsed_line::kind::blank:
                continue;
            case parsed_line::kind::invalid:
                write("[shell] I can't read that line: " + l.error + "\n");
                continue;
            case parsed_line::kind::switch_channel:
                channel_ = l.channel;
                continue;
            default:
                break;
            }
            auto now = std::chrono::time_point_cast<millis>(std::chrono::system_clock::now());
            co_await sink(to_event(l, channel_, run_, seq, now));
        }
        if (reader_.joinable()) reader_.join();
    }

    asio::awaitable<send_result> send(const outbound& m) override {
        send_result r;
        std::string where;
        switch (m.to) {
        case outbound::target::channel:
            where = m.channel;
            r.ref = m.notify.empty() ? m.channel + " message " + std::to_string(m.outbox_id)
                                     : m.channel + " thread " + m.notify.front();
            break;
        case outbound::target::thread:
            where = m.thread_root;
            r.ref = m.thread_root + " reply " + std::to_string(m.outbox_id);
            break;
        case outbound::target::dm:
        case outbound::target::private_to:
            where = "dm " + m.user;
            r.ref = where + " message " + std::to_string(m.outbox_id);
            break;
        }
        rich::message body = m.body;
        if (!m.file_name.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(opts_.exports_dir, ec);
            const auto path = opts_.exports_dir / m.file_name;
            std::ofstream f(path, std::ios::binary | std::ios::trunc);
            f << m.file_content;
            f.close();
            if (!f) {
                r.st = send_result::status::failed;
                r.error = "cannot write " + path.string();
                co_return r;
            }
            body.blocks.push_back(rich::para({rich::txt(path.string())}));
        }
        write(print(where, body));
        co_return r;
    }

private:
    void write(const std::string& s) {
        *out_ << s;
        out_->flush();
    }

    asio::any_io_executor ex_;
    options opts_;
    asio::steady_timer wake_;
    std::string channel_;
    std::istream* in_;
    std::ostream* out_;
    std::thread reader_;
    std::deque<std::string> lines_;
    // A random name for this session: a restarted process never reuses an event id, even
    // when its clock reads the same as before.
    std::string run_ = [] {
        std::random_device rd;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
        return std::string(buf);
    }();
    bool eof_ = false;
};

} // namespace

std::unique_ptr<platform> make(asio::any_io_executor ex, options opts) {
    return std::make_unique<shell_platform>(ex, std::move(opts));
}

} // namespace pm::adapters::shell

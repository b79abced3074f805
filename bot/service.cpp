#include "bot/service.hpp"

#include <boost/asio.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <unordered_set>

#include "conversations/events.hpp"
#include "conversations/summary.hpp"
#include "conversations/text.hpp"

namespace pm::bot {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* command_word(const std::string& platform) {
    return platform == "matrix" ? "!postmortem" : "/postmortem";
}

// Writes a file whole or not at all: a reader never sees half an export.
bool write_atomic(const std::filesystem::path& path, const std::string& content) {
    auto tmp = path;
    tmp += ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << content;
        f.flush();
        if (!f) return false;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    return !ec;
}

} // namespace

struct service::drainer {
    explicit drainer(asio::io_context& io, adapters::platform& p) : wake(io), plat(p) {}
    asio::steady_timer wake;
    bool woken = false;
    bool idle = false;
    adapters::platform& plat;
    // Rows this process marked 'sending' ahead of their post and has not tried yet: their state
    // says nothing about an earlier attempt, so they need no lookup and no second mark.
    std::unordered_set<std::int64_t> premarked;
    std::vector<std::shared_ptr<asio::steady_timer>> idle_waiters;

    void notify() {
        woken = true;
        idle = false;
        wake.cancel();
    }
    void release_idle_waiters() {
        for (auto& w : idle_waiters)
            w->cancel();
        idle_waiters.clear();
    }
};

service::service(asio::io_context& io, const config& cfg, store& st)
    : io_(io), cfg_(cfg), store_(st), engine_(cfg.settings), scheduler_wake_(io) {
    std::size_t n = 0;
    store_.replay([&](const boost::json::object& e) { n += conv::fold(world_, e); });
    spdlog::info("state restored: {} events, {} postmortems", n, world_.postmortems.size());
}

service::~service() = default;

void service::add_platform(std::unique_ptr<adapters::platform> p) {
    auto name = p->name();
    drainers_[name] = std::make_unique<drainer>(io_, *p);
    platforms_[name] = std::move(p);
}

void service::add_metrics_source(std::function<void(metrics&)> fn) {
    metric_sources_.push_back(std::move(fn));
}

adapters::platform* service::platform(const std::string& name) {
    auto it = platforms_.find(name);
    return it == platforms_.end() ? nullptr : it->second.get();
}

namespace {
class store_cursors final : public adapters::cursor_store {
public:
    explicit store_cursors(store& s) : s_(s) {}
    std::optional<std::string> get(const std::string& key) override { return s_.get(key); }
    void put(const std::string& key, const std::string& value) override { s_.put(key, value); }

private:
    store& s_;
};
} // namespace

adapters::cursor_store& service::cursors() {
    if (!cursors_) cursors_ = std::make_unique<store_cursors>(store_);
    return *cursors_;
}

void service::start(std::function<void(const std::string&, const std::string&)> on_end) {
    for (auto& [name, d] : drainers_)
        asio::co_spawn(io_, drain_loop(*d), [name = name](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                spdlog::error("outbox drainer for {} stopped: {}", name, x.what());
            }
        });
    asio::co_spawn(io_, scheduler_loop(), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            spdlog::error("scheduler stopped: {}", x.what());
        }
    });
    for (auto& [name, p] : platforms_) {
        auto* plat = p.get();
        asio::co_spawn(
            io_,
            [this, plat]() {
                return plat->run([this](adapters::chat_event ev) { return handle(std::move(ev)); });
            },
            [name = name, on_end](std::exception_ptr e) {
                std::string error;
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                        error = x.what();
                        spdlog::critical("{} adapter stopped: {}", name, error);
                    }
                }
                if (on_end) on_end(name, error);
            });
    }
}

const std::string& service::adapter_label(const std::string& platform) {
    auto it = adapter_labels_.find(platform);
    if (it == adapter_labels_.end())
        it = adapter_labels_.emplace(platform, "adapter=\"" + platform + "\"").first;
    return it->second;
}

asio::awaitable<void> service::handle(adapters::chat_event ev) {
    const auto started = std::chrono::steady_clock::now();
    const std::string& label = adapter_label(ev.platform);
    metrics_.add("postmortem_events_received_total", label);
    if (ev.user.is_bot) co_return;
    const std::string key = ev.platform + "\n" + ev.event_id;
    if (!ev.event_id.empty() && (inflight_.contains(key) || store_.seen(ev.platform, ev.event_id))) {
        metrics_.add("postmortem_events_duplicate_total", label);
        spdlog::debug("duplicate event {} from {} ignored", ev.event_id, ev.platform);
        co_return;
    }
    conv::message_in m;
    m.platform = ev.platform;
    m.user = ev.user.id;
    m.user_name = ev.user.name;
    m.user_tz = ev.user.tz;
    m.channel = ev.where.channel;
    switch (ev.where.k) {
    case adapters::place::kind::dm:
        m.place = conv::message_in::where::dm;
        break;
    case adapters::place::kind::thread:
        m.place = conv::message_in::where::thread;
        if (auto key = store_.thread_key_for(ev.platform, ev.where.thread_root)) m.thread_key = *key;
        break;
    case adapters::place::kind::channel:
        m.place = conv::message_in::where::channel;
        break;
    }
    m.text = ev.text;
    m.is_command = ev.is_command;
    m.answers_anywhere = ev.answers_anywhere;
    m.message_ref = ev.message_ref.empty() ? ev.event_id : ev.message_ref;
    m.edit_of = ev.edit_of;
    m.time = std::chrono::floor<std::chrono::seconds>(ev.time);
    for (auto& u : ev.mentions)
        m.mentions.push_back(conv::mention{u.id, u.name});
    m.command_word = command_word(ev.platform);

    conv::outcome out = engine_.on_message(world_, m);
    for (auto& l : out.log)
        spdlog::info("{}: {}", ev.platform, l);
    if (!ev.event_id.empty()) inflight_.insert(key);
    struct release {
        std::set<std::string>& s;
        const std::string& k;
        ~release() { s.erase(k); }
    } release_inflight{inflight_, key};
    commit_request req{&out, ev.platform, ev.event_id, std::nullopt, now_ms()};
    co_await commit_grouped(std::move(req));
    metrics_.add("postmortem_events_acked_total", label);
    metrics_.observe("postmortem_ack_latency_seconds", label,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    spdlog::debug("committed {} from {}: {} events, {} messages", ev.event_id, ev.platform, out.events.size(),
                  out.sends.size());
    after_commit(out);
    if (ev.platform == "shell") co_await flush("shell"); // a terminal prints in the order typed
}

struct service::pending_commit {
    commit_request req;
    asio::steady_timer done;
    bool failed = false;
};

// By value: GCC 12 can destroy a temporary argument of a co_await expression too early.
asio::awaitable<void> service::commit_grouped(commit_request r) {
    auto p = std::make_shared<pending_commit>(
        pending_commit{std::move(r), asio::steady_timer(io_, asio::steady_timer::time_point::max())});
    batch_.push_back(p);
    if (!flush_posted_) {
        // Runs after the handlers that are ready now, so events already read join this batch.
        flush_posted_ = true;
        asio::post(io_, [this] { flush_commits(); });
    }
    co_await p->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (p->failed) throw std::runtime_error("the store could not commit; not acknowledged");
}

void service::flush_commits() {
    // Inputs already read arrive one handler at a time (frame, parse, route, hand over: a few
    // turns each): while the batch still grows, let the handlers that are ready run first, so
    // they share this fsync. The batch closes after k_quiet_rounds turns without a new input
    // (a lone input waits only those few turns) or after k_max_rounds turns in all. Under load
    // that is about 30 inputs per commit instead of 5 (W=64: 0.19 -> 0.03 fsyncs per event).
    constexpr int k_quiet_rounds = 4;
    constexpr int k_max_rounds = 64;
    if (batch_.size() > flush_seen_) {
        flush_seen_ = batch_.size();
        flush_quiet_ = 0;
    } else {
        ++flush_quiet_;
    }
    if (flush_quiet_ < k_quiet_rounds && flush_rounds_ < k_max_rounds) {
        ++flush_rounds_;
        asio::post(io_, [this] { flush_commits(); });
        return;
    }
    flush_seen_ = 0;
    flush_quiet_ = 0;
    flush_rounds_ = 0;
    flush_posted_ = false;
    auto batch = std::move(batch_);
    batch_.clear();
    std::vector<const commit_request*> reqs;
    reqs.reserve(batch.size());
    for (auto& p : batch)
        reqs.push_back(&p->req);
    try {
        const auto t0 = std::chrono::steady_clock::now();
        store_.commit(reqs);
        metrics_.observe("postmortem_store_commit_seconds", "",
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        metrics_.add("postmortem_store_commits_total");
        metrics_.add("postmortem_store_committed_inputs_total", "",
                     static_cast<std::uint64_t>(std::count_if(
                         reqs.begin(), reqs.end(), [](const commit_request* r) { return r->out; })));
    } catch (const std::exception& e) {
        // The world already holds these changes: rebuild it from what is durable, then refuse
        // every input of the batch so the platforms deliver them again.
        spdlog::error("commit of {} inputs failed, none acknowledged: {}", reqs.size(), e.what());
        world_ = conv::world{};
        store_.replay([&](const boost::json::object& x) { conv::fold(world_, x); });
        for (auto& p : batch)
            p->failed = true;
    }
    for (auto& p : batch)
        p->done.cancel();
}

void service::after_commit(const conv::outcome& out) {
    for (auto& x : out.exports)
        write_exports(x.pm);
    for (auto& s : out.sends)
        if (auto it = drainers_.find(s.to.platform); it != drainers_.end()) it->second->notify();
    if (!out.schedules.empty()) scheduler_wake_.cancel();
}

void service::write_exports(const std::string& id) {
    auto it = world_.postmortems.find(id);
    if (it == world_.postmortems.end()) return;
    const auto& p = it->second;
    const auto dir = cfg_.data_dir / "exports";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto base = dir / (p.id + "-" + conv::text::slug(p.title));
    if (!write_atomic(base.string() + ".md", conv::render_markdown(world_, p, cfg_.settings, true) + "\n") ||
        !write_atomic(base.string() + ".json", conv::render_json(world_, p, cfg_.settings)))
        spdlog::error("cannot write the export {}: {}", base.string(), std::strerror(errno));
}

adapters::outbound service::to_outbound(const outbox_row& row, bool& ok, std::string& why) {
    adapters::outbound o;
    ok = true;
    o.outbox_id = row.id;
    o.txn_id = row.txn_id();
    o.channel = row.msg.to.channel;
    o.user = row.msg.to.user;
    o.body = row.msg.body;
    o.notify = row.msg.notify;
    o.file_name = row.msg.file_name;
    o.file_content = row.msg.file_content;
    using k = conv::destination::kind;
    switch (row.msg.to.k) {
    case k::channel:
        o.to = adapters::outbound::target::channel;
        break;
    case k::dm:
        o.to = adapters::outbound::target::dm;
        break;
    case k::private_to:
        o.to = adapters::outbound::target::private_to;
        if (!row.msg.to.thread_key.empty())
            o.thread_root = store_.thread_ref(row.platform, row.msg.to.thread_key).value_or("");
        break;
    case k::thread:
        o.to = adapters::outbound::target::thread;
        if (auto ref = store_.thread_ref(row.platform, row.msg.to.thread_key)) {
            o.thread_root = *ref;
        } else {
            ok = false;
            why = "the thread " + row.msg.to.thread_key + " was never opened";
        }
        break;
    }
    return o;
}

asio::awaitable<void> service::drain_loop(drainer& d) {
    const std::string name = d.plat.name();
    const std::string label = "adapter=\"" + name + "\"";
    for (;;) {
        auto rows = store_.pending(name, 64);
        if (rows.empty()) {
            d.idle = true;
            d.release_idle_waiters();
            if (stopping_) co_return;
            if (!d.woken) {
                d.wake.expires_at(asio::steady_timer::time_point::max());
                co_await d.wake.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            d.woken = false;
            continue;
        }
        d.woken = false;
        // One durable 'sending' mark for every row due now, so that after a crash a row is
        // looked up rather than posted twice: the rows share one commit (and the fsync of the
        // inputs committed with them) instead of one each.
        {
            commit_request mark;
            mark.now_ms = now_ms();
            for (const auto& row : rows)
                if (row.st == outbox_row::state::pending && row.not_before_ms <= mark.now_ms &&
                    row.attempts < 20 && !d.premarked.contains(row.id))
                    mark.outbox_sending.push_back(row.id);
            if (!mark.outbox_sending.empty()) {
                const auto ids = mark.outbox_sending;
                bool marked = true;
                try {
                    co_await commit_grouped(std::move(mark));
                } catch (const std::exception& e) {
                    spdlog::error("{} outbox rows for {}: cannot record the attempt: {}", ids.size(), name,
                                  e.what());
                    marked = false;
                }
                if (!marked) {
                    asio::steady_timer t(io_, 1s);
                    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                    continue;
                }
                d.premarked.insert(ids.begin(), ids.end());
            }
        }
        for (auto& row : rows) {
            // Rows go out in order: a row waiting for a rate limit holds back the ones after it.
            if (auto wait = row.not_before_ms - now_ms(); wait > 0) {
                asio::steady_timer t(io_, std::chrono::milliseconds{wait});
                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            const bool premarked = d.premarked.erase(row.id) > 0;
            bool ok = true;
            std::string why;
            auto o = to_outbound(row, ok, why);
            if (!ok) {
                spdlog::error("outbox row {} for {} cannot be sent: {}", row.id, name, why);
                store_.mark_failed(row.id, why);
                metrics_.add("postmortem_send_failures_total", label);
                continue;
            }
            if (row.st == outbox_row::state::sending && !premarked) {
                // The last attempt's outcome is unknown (a crash or a lost response): look first.
                auto found = co_await d.plat.find_sent(o);
                if (found && found->st == adapters::send_result::status::sent) {
                    spdlog::info("outbox row {} was already posted as {}", row.id, found->ref);
                    store_.mark_sent(row, found->ref);
                    continue;
                }
            }
            if (row.attempts >= 20) {
                store_.mark_failed(row.id, "gave up after 20 attempts");
                metrics_.add("postmortem_send_failures_total", label);
                spdlog::error("outbox row {} for {}: gave up after 20 attempts", row.id, name);
                continue;
            }
            // A row not marked above (its last attempt's outcome was unknown): mark this attempt.
            bool marked = premarked;
            if (!marked) {
                try {
                    commit_request mark;
                    mark.now_ms = now_ms();
                    mark.outbox_sending.push_back(row.id);
                    co_await commit_grouped(std::move(mark));
                    marked = true;
                } catch (const std::exception& e) {
                    spdlog::error("outbox row {} for {}: cannot record the attempt: {}", row.id, name,
                                  e.what());
                }
            }
            if (!marked) {
                asio::steady_timer t(io_, 1s);
                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                break;
            }
            const auto t0 = std::chrono::steady_clock::now();
            auto r = co_await d.plat.send(o);
            metrics_.observe("postmortem_send_latency_seconds", label,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            using st = adapters::send_result::status;
            if (r.st == st::sent) {
                spdlog::debug("{}: outbox row {} (caused by {}) sent as {}", name, row.id, row.correlation,
                              r.ref);
                store_.mark_sent(row, r.ref);
                metrics_.add("postmortem_messages_sent_total", label);
                continue;
            }
            if (r.st == st::failed) {
                spdlog::error("outbox row {} for {} (caused by {}) failed: {}", row.id, name, row.correlation,
                              r.error);
                store_.mark_failed(row.id, r.error);
                metrics_.add("postmortem_send_failures_total", label);
                continue;
            }
            metrics_.add("postmortem_send_retries_total", label);
            if (r.st == st::retry) {
                metrics_.add("postmortem_rate_limited_total", label);
                metrics_.observe("postmortem_retry_wait_seconds", label,
                                 static_cast<double>(r.retry_after.count()) / 1000);
            }
            const auto backoff = r.st == st::retry
                                     ? std::max<std::int64_t>(r.retry_after.count(), 100)
                                     : std::min<std::int64_t>(30000, 500LL << std::min(row.attempts, 6));
            spdlog::warn("outbox row {} for {}: {} — retrying in {} ms", row.id, name,
                         r.st == st::retry ? "rate limited" : r.error, backoff);
            if (r.st == st::retry)
                store_.mark_retry(row.id, now_ms() + backoff);
            else {
                asio::steady_timer t(io_, std::chrono::milliseconds{backoff});
                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            break; // re-read: keeps the order and picks up the row's new state
        }
    }
}

asio::awaitable<void> service::flush(const std::string& platform) {
    auto it = drainers_.find(platform);
    if (it == drainers_.end()) co_return;
    auto& d = *it->second;
    d.notify();
    auto t = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
    d.idle_waiters.push_back(t);
    co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> service::drain(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (auto& [name, d] : drainers_) {
        if (std::chrono::steady_clock::now() >= until) break;
        d->notify();
        auto t = std::make_shared<asio::steady_timer>(io_, until);
        d->idle_waiters.push_back(t);
        co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    const auto left = store_.outbox_depth();
    if (left > 0) spdlog::warn("{} outbound messages stay queued for the next start", left);
}

asio::awaitable<void> service::scheduler_loop() {
    for (;;) {
        auto timers = store_.timers();
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        if (!timers.empty() && timers.front().at <= now) {
            auto& t = timers.front();
            conv::outcome out = engine_.on_timer(world_, t.timer, now);
            commit_request req{&out, "", "", t.id, now_ms(), "timer-" + std::to_string(t.id)};
            co_await commit_grouped(std::move(req));
            metrics_.add("postmortem_timers_fired_total", t.timer.what == conv::timer_in::kind::remind
                                                              ? "kind=\"remind\""
                                                              : "kind=\"deadline\"");
            after_commit(out);
            continue;
        }
        if (stopping_) co_return;
        // Wake at the next timer (at most an hour away, so clock changes are noticed) or on news.
        auto wait = timers.empty()
                        ? std::chrono::seconds{3600}
                        : std::min<std::chrono::seconds>(timers.front().at - now, std::chrono::seconds{3600});
        scheduler_wake_.expires_after(wait);
        co_await scheduler_wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

std::string service::metrics_text() {
    metrics_.set("postmortem_outbox_depth", "", static_cast<double>(store_.outbox_depth()));
    std::size_t open = 0, interviews = 0;
    for (auto& [id, p] : world_.postmortems) {
        if (p.st != conv::postmortem::state::open) continue;
        ++open;
        for (auto& x : p.participants)
            interviews += x.st == conv::participant::stage::active;
    }
    metrics_.set("postmortem_open_postmortems", "", static_cast<double>(open));
    metrics_.set("postmortem_interviews_in_progress", "", static_cast<double>(interviews));
    metrics_.set("postmortem_build_info", "version=\"" PM_VERSION "\"", 1);
    for (auto& [name, p] : platforms_)
        metrics_.set("postmortem_adapter_up", "adapter=\"" + name + "\"", p->ready() ? 1 : 0);
    for (auto& fn : metric_sources_)
        fn(metrics_);
    return metrics_.render();
}

bool service::ready(std::string& why) {
    for (auto& [name, p] : platforms_)
        if (!p->ready()) {
            why = name + " is not connected";
            return false;
        }
    if (!store_.writable()) {
        why = "the store is not writable";
        return false;
    }
    return true;
}

void service::stop() {
    stopping_ = true;
    for (auto& [n, d] : drainers_)
        d->notify();
    scheduler_wake_.cancel();
}

} // namespace pm::bot

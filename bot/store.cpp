#include "bot/store.hpp"

#include <boost/json.hpp>

#include <sqlite3.h>

#include <stdexcept>
#include <unordered_map>

#include "conversations/codec.hpp"

namespace pm::bot {

namespace json = boost::json;

namespace {

// Numbered migrations, applied in order at start-up; PRAGMA user_version records the last.
const char* const migrations[] = {
    R"sql(
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        pm TEXT NOT NULL,
        body TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX events_pm ON events(pm, seq);
    CREATE TABLE inbox (
        platform TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (platform, event_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        ref TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX outbox_pending ON outbox(platform, id) WHERE state IN ('pending', 'sending');
    CREATE TABLE threads (
        platform TEXT NOT NULL,
        thread_key TEXT NOT NULL,
        ref TEXT NOT NULL,
        PRIMARY KEY (platform, thread_key)
    ) STRICT;
    CREATE INDEX threads_ref ON threads(platform, ref);
    CREATE TABLE timers (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        pm TEXT NOT NULL,
        kind TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    )sql",
    // 2: each outbox row names the input that caused it, so logs can follow one event through.
    R"sql(
    ALTER TABLE outbox ADD COLUMN correlation TEXT NOT NULL DEFAULT '';
    )sql",
};

// Statements prepared once per connection and kept: the same few run for every input, and
// parsing SQL cost more than running it. Keyed by the address of the SQL literal.
struct stmt_cache {
    sqlite3* db = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> map;
    ~stmt_cache() { clear(); }
    void clear() {
        for (auto& [sql, s] : map)
            sqlite3_finalize(s);
        map.clear();
    }
    sqlite3_stmt* get(const char* sql) {
        auto it = map.find(sql);
        if (it != map.end()) return it->second;
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
        map.emplace(sql, s);
        return s;
    }
};

struct stmt {
    sqlite3_stmt* s = nullptr;
    bool cached = false;
    // One-off (schema set-up, replay).
    stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
    // From the connection's cache; reset (not finalized) when done.
    stmt(stmt_cache& c, const char* sql) : s(c.get(sql)), cached(true) {}
    ~stmt() {
        if (cached) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        } else {
            sqlite3_finalize(s);
        }
    }
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;
    stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(s, i, v);
        return *this;
    }
    bool step() {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(sqlite3_db_handle(s)));
    }
    void reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    std::string text(int i) {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
    }
    std::int64_t integer(int i) { return sqlite3_column_int64(s, i); }
};

} // namespace

struct store::impl {
    sqlite3* db = nullptr;
    stmt_cache cache;
    ~impl() {
        cache.clear();
        if (db) sqlite3_close_v2(db);
    }
    // A statement without results (BEGIN, COMMIT, PRAGMA …), from the cache.
    void run(const char* sql) {
        stmt st(cache, sql);
        st.step();
    }
    void exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string e = err ? err : "unknown error";
            sqlite3_free(err);
            throw std::runtime_error("sqlite: " + e);
        }
    }
    // A transaction that rolls back unless committed.
    struct tx {
        impl& i;
        bool done = false;
        explicit tx(impl& x) : i(x) { i.run("BEGIN IMMEDIATE"); }
        void commit() {
            i.run("COMMIT");
            done = true;
        }
        ~tx() {
            if (!done) sqlite3_exec(i.db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    };
};

store::store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
store::~store() = default;

std::unique_ptr<store> store::open(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw std::runtime_error("cannot create the data directory " + dir.string() + ": " + ec.message());
    auto p = std::make_unique<impl>();
    const auto file = (dir / "postmortem.db").string();
    if (sqlite3_open_v2(file.c_str(), &p->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open " + file + ": " +
                                 (p->db ? sqlite3_errmsg(p->db) : "out of memory"));
    sqlite3_busy_timeout(p->db, 1000);
    p->cache.db = p->db;
    try {
        // One process owns the file: its locks are taken once and kept (no file locking per
        // statement, no shared-memory index), and a second instance on the same data directory
        // is refused at start-up instead of interleaving with the first. The connection is only
        // used from the I/O thread (no SQLite mutex).
        p->exec("PRAGMA locking_mode=EXCLUSIVE");
        p->exec("PRAGMA journal_mode=WAL");
        p->exec("PRAGMA synchronous=FULL");
        p->exec("PRAGMA foreign_keys=ON");
        int version = 0;
        {
            stmt s(p->db, "PRAGMA user_version");
            if (s.step()) version = static_cast<int>(s.integer(0));
        }
        const int latest = static_cast<int>(std::size(migrations));
        if (version > latest)
            throw std::runtime_error(file + " was written by a newer version (schema " +
                                     std::to_string(version) + "); this binary knows up to " +
                                     std::to_string(latest));
        for (int v = version; v < latest; ++v) {
            impl::tx t(*p);
            p->exec(migrations[v]);
            p->exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
            t.commit();
        }
        p->exec("BEGIN EXCLUSIVE; COMMIT");
    } catch (const std::runtime_error& e) {
        if (sqlite3_errcode(p->db) == SQLITE_BUSY)
            throw std::runtime_error("cannot use " + file +
                                     ": it is in use by another process (a second postmortem-bot on the "
                                     "same data directory?)");
        throw std::runtime_error("cannot use " + file + ": " + e.what());
    }
    return std::unique_ptr<store>(new store(std::move(p)));
}

void store::replay(const std::function<void(const json::object&)>& fn) {
    stmt s(p_->db, "SELECT body FROM events ORDER BY seq");
    while (s.step()) {
        boost::system::error_code ec;
        auto v = json::parse(s.text(0), ec);
        if (!ec && v.is_object()) fn(v.get_object());
    }
}

bool store::seen(const std::string& platform, const std::string& event_id) {
    stmt s(p_->cache, "SELECT 1 FROM inbox WHERE platform = ?1 AND event_id = ?2");
    s.bind(1, platform).bind(2, event_id);
    return s.step();
}

void store::commit(const commit_request& r) {
    commit(std::vector<const commit_request*>{&r});
}

void store::commit(const std::vector<const commit_request*>& batch) {
    impl::tx t(*p_);
    stmt ev(p_->cache, "INSERT INTO events (pm, body, at_ms) VALUES (?1, ?2, ?3)");
    stmt ob(p_->cache,
            "INSERT INTO outbox (platform, body, created_ms, correlation) VALUES (?1, ?2, ?3, ?4)");
    stmt tm(p_->cache, "INSERT INTO timers (at, pm, kind) VALUES (?1, ?2, ?3)");
    stmt in(p_->cache, "INSERT OR IGNORE INTO inbox (platform, event_id, at_ms) VALUES (?1, ?2, ?3)");
    stmt done(p_->cache, "UPDATE timers SET done = 1 WHERE id = ?1");
    stmt sending(p_->cache, "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1");
    for (const commit_request* r : batch) {
        if (r->out) {
            for (auto& e : r->out->events) {
                auto* pm = e.if_contains("pm");
                ev.bind(1, pm && pm->is_string() ? std::string(pm->get_string()) : std::string())
                    .bind(2, json::serialize(e))
                    .bind(3, r->now_ms);
                ev.step();
                ev.reset();
            }
            for (auto& s : r->out->sends) {
                ob.bind(1, s.to.platform)
                    .bind(2, json::serialize(conv::to_json(s)))
                    .bind(3, r->now_ms)
                    .bind(4, r->correlation.empty() ? r->inbox_event_id : r->correlation);
                ob.step();
                ob.reset();
            }
            for (auto& s : r->out->schedules) {
                tm.bind(1, s.at.time_since_epoch().count())
                    .bind(2, s.timer.pm)
                    .bind(3,
                          std::string(s.timer.what == conv::timer_in::kind::remind ? "remind" : "deadline"));
                tm.step();
                tm.reset();
            }
        }
        if (!r->inbox_event_id.empty()) {
            in.bind(1, r->inbox_platform).bind(2, r->inbox_event_id).bind(3, r->now_ms);
            in.step();
            in.reset();
        }
        if (r->timer_done) {
            done.bind(1, *r->timer_done);
            done.step();
            done.reset();
        }
        for (const auto id : r->outbox_sending) {
            sending.bind(1, id);
            sending.step();
            sending.reset();
        }
    }
    t.commit();
}

std::vector<outbox_row> store::pending(const std::string& platform, std::size_t limit) {
    std::vector<outbox_row> rows;
    stmt s(p_->cache, "SELECT id, body, state, attempts, not_before_ms, correlation FROM outbox "
                      "WHERE platform = ?1 AND state IN ('pending', 'sending') ORDER BY id LIMIT ?2");
    s.bind(1, platform).bind(2, static_cast<std::int64_t>(limit));
    while (s.step()) {
        outbox_row r;
        r.id = s.integer(0);
        r.platform = platform;
        boost::system::error_code ec;
        auto v = json::parse(s.text(1), ec);
        auto msg = ec ? std::nullopt : conv::send_from_json(v);
        if (!msg) {
            // A row this version cannot read is kept, marked, and skipped: never a crash loop.
            mark_failed(r.id, "unreadable outbox row");
            continue;
        }
        r.msg = std::move(*msg);
        r.st = s.text(2) == "sending" ? outbox_row::state::sending : outbox_row::state::pending;
        r.attempts = static_cast<int>(s.integer(3));
        r.not_before_ms = s.integer(4);
        r.correlation = s.text(5);
        rows.push_back(std::move(r));
    }
    return rows;
}

void store::mark_sent(const outbox_row& row, const std::string& ref) {
    // No fsync of its own: the next commit's fsync (every input's, before its ack) carries it.
    // Lost in a crash before that, the row is still 'sending', and a row in that state is
    // looked up on the platform before anything is posted again (service drain_loop), which
    // is the path a crash between the post and this mark takes anyway. Everything else stays
    // synchronous=FULL.
    p_->run("PRAGMA synchronous=NORMAL");
    struct full_again {
        impl& i;
        ~full_again() {
            try {
                i.run("PRAGMA synchronous=FULL");
            } catch (const std::exception&) {
                sqlite3_exec(i.db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
            }
        }
    } restore{*p_};
    impl::tx t(*p_);
    stmt s(p_->cache, "UPDATE outbox SET state = 'sent', ref = ?2 WHERE id = ?1");
    s.bind(1, row.id).bind(2, ref);
    s.step();
    if (row.msg.to.k == conv::destination::kind::channel && !row.msg.to.thread_key.empty() && !ref.empty()) {
        stmt th(p_->cache, "INSERT OR REPLACE INTO threads (platform, thread_key, ref) VALUES (?1, ?2, ?3)");
        th.bind(1, row.platform).bind(2, row.msg.to.thread_key).bind(3, ref);
        th.step();
    }
    t.commit();
}

void store::mark_retry(std::int64_t id, std::int64_t not_before_ms) {
    stmt s(p_->cache, "UPDATE outbox SET state = 'pending', not_before_ms = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, not_before_ms);
    s.step();
}

void store::mark_failed(std::int64_t id, const std::string& error) {
    stmt s(p_->cache, "UPDATE outbox SET state = 'failed', error = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, error);
    s.step();
}

std::int64_t store::outbox_depth() {
    stmt s(p_->cache, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')");
    return s.step() ? s.integer(0) : 0;
}

std::optional<std::string> store::thread_ref(const std::string& platform, const std::string& key) {
    stmt s(p_->cache, "SELECT ref FROM threads WHERE platform = ?1 AND thread_key = ?2");
    s.bind(1, platform).bind(2, key);
    if (s.step()) return s.text(0);
    return std::nullopt;
}

std::optional<std::string> store::thread_key_for(const std::string& platform, const std::string& ref) {
    stmt s(p_->cache, "SELECT thread_key FROM threads WHERE platform = ?1 AND ref = ?2");
    s.bind(1, platform).bind(2, ref);
    if (s.step()) return s.text(0);
    return std::nullopt;
}

std::vector<timer_row> store::timers() {
    std::vector<timer_row> out;
    stmt s(p_->cache, "SELECT id, at, pm, kind FROM timers WHERE done = 0 ORDER BY at, id");
    while (s.step()) {
        timer_row t;
        t.id = s.integer(0);
        t.at = conv::sys_seconds{std::chrono::seconds{s.integer(1)}};
        t.timer.pm = s.text(2);
        t.timer.what = s.text(3) == "remind" ? conv::timer_in::kind::remind : conv::timer_in::kind::deadline;
        out.push_back(std::move(t));
    }
    return out;
}

std::optional<std::string> store::get(const std::string& key) {
    stmt s(p_->cache, "SELECT value FROM kv WHERE key = ?1");
    s.bind(1, key);
    if (s.step()) return s.text(0);
    return std::nullopt;
}

void store::put(const std::string& key, const std::string& value) {
    stmt s(p_->cache, "INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)");
    s.bind(1, key).bind(2, value);
    s.step();
}

bool store::writable() {
    try {
        put("health", "ok");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

} // namespace pm::bot

#include "store/store.hpp"

#include "core/error.hpp"
#include "store/internal.hpp"
#include "store/migrations.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <ctime>
#include <filesystem>

namespace onboard::store {

namespace {

// WAL lets status/report/query read while a run writes; synchronous=NORMAL in WAL mode keeps every
// committed transaction across a process crash, and across power loss loses at most the last
// commits since the previous checkpoint, never consistency (see README "Durability").
void configure(SQLite::Database& db, OpenMode mode) {
    db.setBusyTimeout(10000);
    if (mode != OpenMode::read_only) {
        db.exec("PRAGMA journal_mode=WAL");
        db.exec("PRAGMA synchronous=NORMAL");
        // The unique name and externalId indexes take rows in random order: a 32 MB page cache keeps
        // their inner pages in memory for a million-row import (SQLite's default is 2 MB).
        db.exec("PRAGMA cache_size=-32768");
    }
    db.exec("PRAGMA foreign_keys=ON");
}

} // namespace

void Store::make_commits_durable() {
    detail::guarded("durable commits", [&] { m_db->exec("PRAGMA synchronous=FULL"); });
}

// Each multi-row INSERT of an import may abort half-way (a foreign key), so SQLite keeps a statement
// journal for it; past 64 KB that is a temporary file, and its writes were three quarters of a
// million-row import's (576,000 pwrite calls, 133,000 without). One statement's journal is a few
// pages: memory stays bounded.
void Store::prepare_for_import() {
    detail::guarded("prepare import", [&] { m_db->exec("PRAGMA temp_store=MEMORY"); });
}

namespace {

int user_version(SQLite::Database& db) {
    return db.execAndGet("PRAGMA user_version").getInt();
}

void migrate(SQLite::Database& db, const std::string& path) {
    const int current = user_version(db);
    const int newest = k_migrations.back().version;
    if (current > newest) {
        throw StoreError(path + ": schema version " + std::to_string(current) +
                         " is newer than this onboard understands (" + std::to_string(newest) + ")");
    }
    if (current == newest) {
        return;
    }
    // A migration may rebuild a table others point at (007 rebuilds rows): SQLite's way is foreign
    // keys off (a pragma outside transactions), the rebuild, then a check before committing.
    db.exec("PRAGMA foreign_keys=OFF");
    for (const auto& migration : k_migrations) {
        if (migration.version <= current) {
            continue;
        }
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        // Re-check inside the write lock: another process may have migrated meanwhile.
        if (user_version(db) >= migration.version) {
            continue;
        }
        db.exec(std::string(migration.sql));
        SQLite::Statement check(db, "PRAGMA foreign_key_check");
        if (check.executeStep()) {
            throw StoreError(path + ": migration " + std::string(migration.name) + " broke a reference from table " +
                             check.getColumn(0).getString());
        }
        db.exec("PRAGMA user_version=" + std::to_string(migration.version));
        transaction.commit();
    }
    db.exec("PRAGMA foreign_keys=ON");
}

} // namespace

// The reason a database path cannot be used, in the user's terms, or "" when it may be opened.
std::string unusable_path(const std::string& path, OpenMode mode) {
    if (path == ":memory:") {
        return "";
    }
    std::error_code error;
    const std::filesystem::path file(path);
    if (std::filesystem::is_directory(file, error)) {
        return "is a directory, not a database file";
    }
    if (!std::filesystem::exists(file, error)) {
        if (mode != OpenMode::read_write) {
            return "no such database (run `onboard import` first)";
        }
        const auto parent = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
        if (!std::filesystem::is_directory(parent, error)) {
            return "cannot create the database: no directory \"" + parent.string() + "\"";
        }
    }
    return "";
}

Store::Store(const std::string& path, OpenMode mode) {
    if (const std::string problem = unusable_path(path, mode); !problem.empty()) {
        throw StoreError(path + ": " + problem);
    }
    try {
        if (mode == OpenMode::read_only) {
            m_db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
            configure(*m_db, mode);
            if (user_version(*m_db) > k_migrations.back().version) {
                throw StoreError(path + ": schema version is newer than this onboard understands");
            }
            return;
        }
        // A Store is used by one thread: no per-call mutex (SQLite's serialized mode costs ~5% of an import).
        m_db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
        configure(*m_db, mode);
        migrate(*m_db, path);
    } catch (const SQLite::Exception& e) {
        throw StoreError(path + ": " + e.what());
    }
}

Store::~Store() = default;

SQLite::Database& Store::database() { return *m_db; }

SQLite::Statement& Store::cached(const char* sql) {
    auto& statement = m_statements[sql];
    if (!statement) {
        statement = std::make_unique<SQLite::Statement>(*m_db, sql);
    }
    statement->tryReset(); // no clearBindings: every caller binds every parameter
    return *statement;
}

int Store::schema_version() { return user_version(*m_db); }

Store::Transaction::Transaction(Store& store) : m_store(store) {
    try {
        m_store.m_db->exec("BEGIN IMMEDIATE");
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("cannot start a transaction: ") + e.what());
    }
}

Store::Transaction::~Transaction() {
    if (!m_done) {
        try {
            m_store.m_db->exec("ROLLBACK");
        } catch (...) {
            // Nothing sensible to do in a destructor; SQLite rolls back on close anyway.
        }
    }
}

void Store::Transaction::commit() {
    try {
        m_store.m_db->exec("COMMIT");
        m_done = true;
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string("commit failed: ") + e.what());
    }
}

// Called for every row written, so the date and time of day are formatted once per second.
std::string now_iso8601() {
    thread_local std::time_t cached_second = -1;
    thread_local char cached_prefix[64] = {};
    const auto now = std::chrono::system_clock::now();
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    if (seconds != cached_second) {
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        std::snprintf(cached_prefix, sizeof cached_prefix, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900,
                      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
        cached_second = seconds;
    }
    std::string text(cached_prefix);
    text += '.';
    text += static_cast<char>('0' + millis / 100);
    text += static_cast<char>('0' + millis / 10 % 10);
    text += static_cast<char>('0' + millis % 10);
    text += 'Z';
    return text;
}

double now_unix() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace onboard::store

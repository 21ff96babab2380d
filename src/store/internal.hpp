#pragma once
// Helpers shared by the store's .cpp files; not part of its interface.

#include "core/error.hpp"
#include "core/json.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <optional>
#include <string>

namespace onboard::store::detail {

// Resets a cached statement when leaving scope, so it keeps no read snapshot open.
class ResetOnExit {
public:
    explicit ResetOnExit(SQLite::Statement& statement) : m_statement(statement) {}
    ~ResetOnExit() { m_statement.tryReset(); }
    ResetOnExit(const ResetOnExit&) = delete;
    ResetOnExit& operator=(const ResetOnExit&) = delete;

private:
    SQLite::Statement& m_statement;
};

// A write that must be atomic: BEGIN IMMEDIATE on its own, a savepoint inside a caller's transaction.
class WriteScope {
public:
    explicit WriteScope(SQLite::Database& db) : m_db(db), m_nested(sqlite3_get_autocommit(db.getHandle()) == 0) {
        m_db.exec(m_nested ? "SAVEPOINT onboard_write" : "BEGIN IMMEDIATE");
    }
    ~WriteScope() {
        if (!m_done) {
            try {
                m_db.exec(m_nested ? "ROLLBACK TO onboard_write; RELEASE onboard_write" : "ROLLBACK");
            } catch (...) {
                // A destructor cannot report; the caller's exception is already on its way.
            }
        }
    }
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;

    void commit() {
        m_db.exec(m_nested ? "RELEASE onboard_write" : "COMMIT");
        m_done = true;
    }

private:
    SQLite::Database& m_db;
    bool m_nested;
    bool m_done = false;
};

// Runs `body`, turning SQLite's exceptions into StoreError("<where>: <what>").
template <class Body>
auto guarded(const char* where, Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string(where) + ": " + e.what());
    }
}

// Binds text, or NULL when empty.
inline void bind_text_or_null(SQLite::Statement& statement, int index, const std::string& text) {
    if (text.empty()) {
        statement.bind(index);
    } else {
        statement.bind(index, text);
    }
}

// Binds an optional value, or NULL.
template <class T>
void bind_optional(SQLite::Statement& statement, int index, const std::optional<T>& value) {
    if (value) {
        statement.bind(index, *value);
    } else {
        statement.bind(index);
    }
}

// Binds optional text that outlives the statement's next step without a copy, or NULL.
inline void bind_optional_no_copy(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
    if (value) {
        statement.bindNoCopy(index, *value);
    } else {
        statement.bind(index);
    }
}

} // namespace onboard::store::detail

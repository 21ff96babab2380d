#include "report/filter.hpp"

#include "core/error.hpp"

#include <algorithm>

namespace onboard::report {

namespace {

template <std::size_t N>
void check_names(const std::vector<std::string>& names,
                 const std::array<std::string_view, N>& known, std::string_view where,
                 std::string_view what) {
    for (const auto& name : names) {
        if (std::find(known.begin(), known.end(), name) != known.end()) {
            continue;
        }
        std::string expected;
        for (const auto& k : known) {
            expected += (expected.empty() ? "" : ", ") + std::string(k);
        }
        throw UsageError(std::string(where) + ": unknown " + std::string(what) + " \"" + name +
                         "\" (expected one of " + expected + ")");
    }
}

std::string placeholders(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        out += i > 0 ? ", ?" : "?";
    }
    return out;
}

} // namespace

void validate(const RowFilter& filter, std::string_view where) {
    check_names(filter.states, k_row_states, where, "state");
    check_names(filter.classes, k_failure_classes, where, "failure class");
}

void require_import(store::Store& store, std::optional<std::int64_t> import_id,
                    std::string_view where) {
    if (!import_id) {
        return;
    }
    try {
        SQLite::Statement select(store.database(), "SELECT 1 FROM imports WHERE id = ?");
        select.bind(1, *import_id);
        if (select.executeStep()) {
            return;
        }
    } catch (const SQLite::Exception& e) {
        throw StoreError(std::string(where) + ": " + e.what());
    }
    throw UsageError(std::string(where) + ": no import with id " + std::to_string(*import_id));
}

void SqlWhere::equals(const std::string& column, std::int64_t value) {
    m_conditions.push_back(column + " = ?");
    m_values.emplace_back(value);
}

void SqlWhere::in(const std::string& column, const std::vector<std::string>& values) {
    if (values.empty()) {
        return;
    }
    m_conditions.push_back(column + " IN (" + placeholders(values.size()) + ")");
    m_values.insert(m_values.end(), values.begin(), values.end());
}

void SqlWhere::in(const std::string& column, const std::vector<std::int64_t>& values) {
    if (values.empty()) {
        return;
    }
    m_conditions.push_back(column + " IN (" + placeholders(values.size()) + ")");
    m_values.insert(m_values.end(), values.begin(), values.end());
}

void SqlWhere::raw(const std::string& condition) {
    m_conditions.push_back(condition);
}

void SqlWhere::add(const RowFilter& filter, const std::string& table) {
    if (filter.import_id) {
        equals(table + ".import_id", *filter.import_id);
    }
    in(table + ".state", filter.states);
    in(table + ".error_class", filter.classes);
    in(table + ".line", filter.lines);
}

std::string SqlWhere::text() const {
    std::string out;
    for (std::size_t i = 0; i < m_conditions.size(); ++i) {
        out += (i == 0 ? " WHERE " : " AND ") + m_conditions[i];
    }
    return out;
}

void SqlWhere::bind(SQLite::Statement& statement) const {
    int index = 1;
    for (const auto& value : m_values) {
        if (const auto* number = std::get_if<std::int64_t>(&value)) {
            statement.bind(index++, *number);
        } else {
            statement.bind(index++, std::get<std::string>(value));
        }
    }
}

} // namespace onboard::report

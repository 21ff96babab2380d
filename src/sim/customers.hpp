#pragma once

#include "core/json.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace onboard::sim {

// A customer of the simulated organisation, as the API shows it.
struct Customer {
    std::string id; // base64 of "Customer:<uuid>", like Prismatic's
    std::string name;
    std::optional<std::string> external_id;
    std::optional<std::string> description;
    std::vector<std::string> labels;
    std::string created_at; // ISO 8601, UTC
};

// What createCustomer asks for.
struct NewCustomer {
    std::string name;
    std::optional<std::string> external_id;
    std::optional<std::string> description;
    std::vector<std::string> labels;
};

// One entry of a mutation payload's `errors`: a field ("name", "externalId" or "__all__") and its messages.
struct FieldError {
    std::string field;
    std::vector<std::string> messages;
};

// The outcome of a create: the customer, or the errors that prevented it.
struct CreateResult {
    std::optional<Customer> customer;
    std::vector<FieldError> errors;
    bool duplicate = false; // rejected because the name or externalId is taken
};

// A page of customers matching a filter, and how many match in all.
struct CustomerPage {
    std::vector<Customer> customers;
    std::size_t total = 0;
    std::size_t offset = 0;
};

// Exact-match filters of the customers query; both empty lists everything.
struct CustomerFilter {
    std::optional<std::string> name;
    std::optional<std::string> external_id;
};

// The organisation's customers, unique by name and by externalId when given; thread-safe.
class Directory {
public:
    // `seed` makes ids reproducible; `errors_on_all` reports duplicates under "__all__".
    explicit Directory(std::uint64_t seed = 0, bool errors_on_all = false);

    // Creates a customer, or returns payload errors (blank name, taken name or externalId); never throws.
    CreateResult create(NewCustomer request);
    // The customer with this id, if any.
    std::optional<Customer> find(const std::string& id) const;
    // Customers matching `filter` in creation order, `limit` of them from `offset`.
    CustomerPage list(const CustomerFilter& filter, std::size_t offset, std::size_t limit) const;
    // Every customer, in creation order.
    std::vector<Customer> all() const;
    std::size_t size() const;
    // Forgets every customer.
    void clear();
    // Replaces every customer; throws onboard::InputError naming `source` on duplicates or bad entries.
    void load(const core::Json& list, const std::string& source);

private:
    std::string new_id();
    void insert(Customer customer);
    void forget(); // clear() without the lock

    mutable std::mutex m_mutex;
    std::mt19937_64 m_random;
    bool m_errors_on_all;
    std::deque<Customer> m_customers; // a deque: growing never moves the customers under the lock
    std::unordered_map<std::string_view, std::size_t> m_by_id;
    std::unordered_map<std::string_view, std::size_t> m_by_name;
    std::unordered_map<std::string_view, std::size_t> m_by_external_id;
};

// The JSON form of a customer, as GET /_sim/customers and the state file show it.
core::Json to_json(const Customer& customer);

// base64 (standard alphabet, padded) of `bytes`.
std::string base64_encode(std::string_view bytes);
// Decodes base64 (standard or URL alphabet, padding optional); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace onboard::sim

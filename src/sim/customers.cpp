#include "sim/customers.hpp"

#include "core/error.hpp"

#include <array>
#include <chrono>

namespace onboard::sim {

namespace {

constexpr std::string_view k_base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return "";
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// Appends `value` as exactly `digits` decimal digits.
void append_digits(std::string& out, unsigned long long value, int digits) {
    char buffer[20];
    for (int i = digits - 1; i >= 0; --i) {
        buffer[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out.append(buffer, static_cast<std::size_t>(digits));
}

// Appends the low `digits` hex digits of `value`.
void append_hex(std::string& out, std::uint64_t value, int digits) {
    static constexpr char k_hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) {
        out += k_hex[(value >> (4 * i)) & 15];
    }
}

// Django's timestamp format: 2024-05-01T12:00:00.123456+00:00. Calendar arithmetic, not gmtime_r,
// which takes glibc's timezone lock on every call.
std::string now_iso8601() {
    using namespace std::chrono;
    const auto now = time_point_cast<microseconds>(system_clock::now());
    const auto day = floor<days>(now);
    const year_month_day date(day);
    const hh_mm_ss time(now - day);
    std::string out;
    out.reserve(32);
    append_digits(out, static_cast<unsigned>(static_cast<int>(date.year())), 4);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.month()), 2);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.day()), 2);
    out += 'T';
    append_digits(out, static_cast<unsigned long long>(time.hours().count()), 2);
    out += ':';
    append_digits(out, static_cast<unsigned long long>(time.minutes().count()), 2);
    out += ':';
    append_digits(out, static_cast<unsigned long long>(time.seconds().count()), 2);
    out += '.';
    append_digits(out, static_cast<unsigned long long>(time.subseconds().count()), 6);
    out += "+00:00";
    return out;
}

// The value of each base64 character (both alphabets), or -1.
constexpr std::array<std::int8_t, 256> base64_values() {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    for (std::size_t i = 0; i < k_base64.size(); ++i) {
        values[static_cast<unsigned char>(k_base64[i])] = static_cast<std::int8_t>(i);
    }
    values['-'] = 62;
    values['_'] = 63;
    return values;
}

constexpr std::array<std::int8_t, 256> k_base64_values = base64_values();

std::optional<std::string> optional_string(const core::Json& object, std::string_view key,
                                           const std::string& source) {
    const core::Json* value = object.find(key);
    if (value == nullptr || value->is_null()) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        throw InputError(source, 0, "customer member \"" + std::string(key) + "\" is not a string");
    }
    return value->as_string();
}

Customer customer_from_json(const core::Json& item, const std::string& source) {
    if (!item.is_object()) {
        throw InputError(source, 0, "a customer is not a JSON object");
    }
    Customer customer;
    auto required = [&](std::string_view key) {
        auto value = optional_string(item, key, source);
        if (!value || value->empty()) {
            throw InputError(source, 0, "a customer has no \"" + std::string(key) + "\"");
        }
        return *value;
    };
    customer.id = required("id");
    customer.name = required("name");
    customer.external_id = optional_string(item, "externalId", source);
    customer.description = optional_string(item, "description", source);
    customer.created_at = optional_string(item, "createdAt", source).value_or(now_iso8601());
    if (const core::Json* labels = item.find("labels"); labels != nullptr && labels->is_array()) {
        for (const core::Json& label : labels->items()) {
            if (label.is_string()) {
                customer.labels.push_back(label.as_string());
            }
        }
    }
    return customer;
}

} // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += k_base64[n >> 18];
        out += k_base64[(n >> 12) & 63];
        out += k_base64[(n >> 6) & 63];
        out += k_base64[n & 63];
    }
    if (i < bytes.size()) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) {
            n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        }
        out += k_base64[n >> 18];
        out += k_base64[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? k_base64[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = k_base64_values[static_cast<unsigned char>(c)];
        if (value < 0) {
            return std::nullopt;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

core::Json to_json(const Customer& customer) {
    core::Json out = core::Json::object();
    out.set("id", customer.id);
    out.set("name", customer.name);
    out.set("externalId", customer.external_id ? core::Json(*customer.external_id) : core::Json(nullptr));
    out.set("description", customer.description ? core::Json(*customer.description) : core::Json(nullptr));
    core::Json labels = core::Json::array();
    for (const std::string& label : customer.labels) {
        labels.push_back(label);
    }
    out.set("labels", std::move(labels));
    out.set("createdAt", customer.created_at);
    return out;
}

Directory::Directory(std::uint64_t seed, bool errors_on_all) : m_random(seed), m_errors_on_all(errors_on_all) {}

std::string Directory::new_id() {
    const std::uint64_t high = m_random();
    const std::uint64_t low = m_random();
    // A version-4 UUID layout, so ids decode to what Prismatic's look like.
    std::string text = "Customer:";
    text.reserve(45);
    append_hex(text, high >> 32, 8);
    text += '-';
    append_hex(text, high >> 16, 4);
    text += "-4";
    append_hex(text, high, 3);
    text += '-';
    append_hex(text, 0x8000 | ((low >> 48) & 0x3fff), 4);
    text += '-';
    append_hex(text, low, 12);
    return base64_encode(text);
}

void Directory::insert(Customer customer) {
    const std::size_t index = m_customers.size();
    // The indexes' keys view the stored customer's strings: a deque never moves what it holds.
    const Customer& stored = m_customers.emplace_back(std::move(customer));
    m_by_id.emplace(stored.id, index);
    m_by_name.emplace(stored.name, index);
    if (stored.external_id) {
        m_by_external_id.emplace(*stored.external_id, index);
    }
}

CreateResult Directory::create(NewCustomer request) {
    CreateResult result;
    Customer customer;
    customer.name = trim(request.name);
    if (request.external_id && !request.external_id->empty()) {
        customer.external_id = std::move(request.external_id);
    }
    customer.description = std::move(request.description);
    customer.labels = std::move(request.labels);
    if (customer.name.empty()) {
        result.errors.push_back({"name", {"This field may not be blank."}});
        return result;
    }
    customer.created_at = now_iso8601();
    // The answer's copy is made before taking the lock, which only checks, draws the id and inserts.
    result.customer = customer;
    bool name_taken = false;
    bool external_id_taken = false;
    {
        const std::lock_guard lock(m_mutex);
        name_taken = m_by_name.count(customer.name) != 0;
        external_id_taken = customer.external_id && m_by_external_id.count(*customer.external_id) != 0;
        if (!name_taken && !external_id_taken) {
            customer.id = new_id();
            result.customer->id = customer.id;
            insert(std::move(customer));
            return result;
        }
    }
    result.customer.reset();
    result.duplicate = true;
    if (name_taken) {
        result.errors.push_back({m_errors_on_all ? "__all__" : "name", {"A customer with this name already exists."}});
    }
    if (external_id_taken) {
        result.errors.push_back(
            {m_errors_on_all ? "__all__" : "externalId", {"A customer with this external ID already exists."}});
    }
    return result;
}

std::optional<Customer> Directory::find(const std::string& id) const {
    const std::lock_guard lock(m_mutex);
    const auto it = m_by_id.find(id);
    if (it == m_by_id.end()) {
        return std::nullopt;
    }
    return m_customers[it->second];
}

CustomerPage Directory::list(const CustomerFilter& filter, std::size_t offset, std::size_t limit) const {
    const std::lock_guard lock(m_mutex);
    CustomerPage page;
    page.offset = offset;
    if (filter.name || filter.external_id) {
        // Both indexes are unique, so an exact filter matches at most one customer.
        const auto& index = filter.name ? m_by_name : m_by_external_id;
        const auto it = index.find(filter.name ? *filter.name : *filter.external_id);
        if (it != index.end()) {
            const Customer& match = m_customers[it->second];
            if (!filter.external_id || match.external_id == filter.external_id) {
                page.total = 1;
                if (offset == 0 && limit > 0) {
                    page.customers.push_back(match);
                }
            }
        }
        return page;
    }
    page.total = m_customers.size();
    for (std::size_t i = offset; i < m_customers.size() && i < offset + limit; ++i) {
        page.customers.push_back(m_customers[i]);
    }
    return page;
}

std::vector<Customer> Directory::all() const {
    const std::lock_guard lock(m_mutex);
    return std::vector<Customer>(m_customers.begin(), m_customers.end());
}

std::size_t Directory::size() const {
    const std::lock_guard lock(m_mutex);
    return m_customers.size();
}

void Directory::clear() {
    const std::lock_guard lock(m_mutex);
    forget();
}

void Directory::forget() {
    // The indexes first: their keys view the customers' strings.
    m_by_id.clear();
    m_by_name.clear();
    m_by_external_id.clear();
    m_customers.clear();
}

void Directory::load(const core::Json& list, const std::string& source) {
    if (!list.is_array()) {
        throw InputError(source, 0, "expected a JSON list of customers");
    }
    std::vector<Customer> loaded;
    for (const core::Json& item : list.items()) {
        loaded.push_back(customer_from_json(item, source));
    }
    clear();
    const std::lock_guard lock(m_mutex);
    for (Customer& customer : loaded) {
        if (m_by_id.count(customer.id) != 0 || m_by_name.count(customer.name) != 0 ||
            (customer.external_id && m_by_external_id.count(*customer.external_id) != 0)) {
            const std::string name = customer.name;
            forget();
            throw InputError(source, 0, "customer \"" + name + "\" is listed twice");
        }
        insert(std::move(customer));
    }
}

} // namespace onboard::sim

#include "sim/executor.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>

namespace onboard::sim {

namespace {

using core::Json;
using graphql::Field;
using graphql::TypeRef;

constexpr std::size_t k_page_max = 100;
constexpr std::size_t k_cached_documents = 1024;
constexpr std::size_t k_cached_document_bytes = 64 * 1024; // so the cache holds at most 64 MiB
constexpr std::string_view k_cursor_prefix = "arrayconnection:";

struct Problem {
    std::string message;
    std::string path;
};

// The problem with a JSON scalar for `scalar`, or "" when it fits.
std::string scalar_problem(const std::string& scalar, const Json& value) {
    if (scalar == "String" || scalar == "DateTime") {
        return value.is_string() ? "" : "String cannot represent a non string value: " + value.dump();
    }
    if (scalar == "ID") {
        return value.is_string() || value.type() == Json::Type::integer ? "" : "ID cannot represent value: " + value.dump();
    }
    if (scalar == "Int") {
        const bool integral = value.type() == Json::Type::integer ||
                              (value.is_number() && std::trunc(value.as_double()) == value.as_double());
        if (!integral) {
            return "Int cannot represent non-integer value: " + value.dump();
        }
        return value.as_double() >= INT_MIN && value.as_double() <= INT_MAX
                   ? ""
                   : "Int cannot represent non 32-bit signed integer value: " + value.dump();
    }
    if (scalar == "Float") {
        return value.is_number() ? "" : "Float cannot represent non numeric value: " + value.dump();
    }
    return value.is_bool() ? "" : "Boolean cannot represent a non boolean value: " + value.dump();
}

std::optional<Problem> coerce(const Json& value, const TypeRef& type, const std::string& path, Json& out);

std::optional<Problem> coerce_object(const Json& value, const TypeDef& def, const std::string& path, Json& out) {
    if (!value.is_object()) {
        return Problem{"Expected type \"" + def.name + "\" to be an object.", path};
    }
    out = Json::object();
    for (std::size_t i = 0; i < value.keys().size(); ++i) {
        const FieldDef* member = def.field(value.keys()[i]);
        if (member == nullptr) {
            return Problem{"Field \"" + value.keys()[i] + "\" is not defined by type \"" + def.name + "\".", path};
        }
        Json coerced;
        if (auto problem = coerce(value.items()[i], member->type, path + "." + member->name, coerced)) {
            return problem;
        }
        out.set(member->name, std::move(coerced));
    }
    for (const FieldDef& member : def.fields) {
        if (member.type.non_null && value.find(member.name) == nullptr) {
            return Problem{"Field \"" + member.name + "\" of required type \"" + member.type.str() +
                               "\" was not provided.",
                           path};
        }
    }
    return std::nullopt;
}

std::optional<Problem> coerce(const Json& value, const TypeRef& type, const std::string& path, Json& out) {
    if (value.is_null()) {
        if (type.non_null) {
            return Problem{"Expected non-nullable type \"" + type.str() + "\" not to be null.", path};
        }
        out = Json(nullptr);
        return std::nullopt;
    }
    if (type.is_list()) {
        out = Json::array();
        const bool is_array = value.is_array();
        const std::size_t count = is_array ? value.size() : 1;
        for (std::size_t i = 0; i < count; ++i) {
            Json item;
            const std::string item_path = is_array ? path + "[" + std::to_string(i) + "]" : path;
            if (auto problem = coerce(is_array ? value.items()[i] : value, type.of.front(), item_path, item)) {
                return problem;
            }
            out.push_back(std::move(item));
        }
        return std::nullopt;
    }
    const TypeDef* def = find_type(type.name);
    if (def != nullptr && def->kind == TypeKind::input) {
        return coerce_object(value, *def, path, out);
    }
    if (std::string problem = scalar_problem(type.name, value); !problem.empty()) {
        return Problem{std::move(problem), path};
    }
    out = type.name == "ID" && !value.is_string() ? Json(std::to_string(value.as_int()))
          : type.name == "Int"                    ? Json(value.as_int())
                                                  : value;
    return std::nullopt;
}

std::string cursor(std::size_t index) {
    return base64_encode(std::string(k_cursor_prefix) + std::to_string(index));
}

// The index a cursor points at; nullopt unless it is base64 of "arrayconnection:<index>" (an index
// too large to page from, such as one past 2^64, is no cursor either).
std::optional<std::size_t> cursor_position(const std::string& text) {
    const auto decoded = base64_decode(text);
    if (!decoded || decoded->rfind(k_cursor_prefix, 0) != 0) {
        return std::nullopt;
    }
    const char* first = decoded->data() + k_cursor_prefix.size();
    const char* last = decoded->data() + decoded->size();
    std::size_t index = 0;
    const auto [end, error] = std::from_chars(first, last, index);
    if (error != std::errc() || end != last || index == SIZE_MAX) {
        return std::nullopt;
    }
    return index;
}

std::optional<std::string> optional_string(const Json& object, std::string_view key) {
    const Json* value = object.find(key);
    return value != nullptr && value->is_string() ? std::optional<std::string>(value->as_string()) : std::nullopt;
}

// Runs one operation's fields, building `data` and collecting field errors.
class Executor {
public:
    Executor(Directory& directory, const Json& variables, GraphqlOutcome& outcome)
        : m_directory(directory), m_variables(variables), m_outcome(outcome) {}

    Json run(const graphql::Operation& op) {
        Json data = Json::object();
        const bool is_mutation = op.kind == graphql::Operation::Kind::mutation;
        for (const Field& f : op.selections) {
            if (f.name == "__typename") {
                data.set(f.response_key(), is_mutation ? "Mutation" : "Query");
            } else if (f.name == "createCustomer") {
                data.set(f.response_key(), create_customer(f));
            } else if (f.name == "customers") {
                data.set(f.response_key(), customers(f));
            } else {
                data.set(f.response_key(), customer(f));
            }
        }
        return data;
    }

    std::vector<GraphqlError> errors;

private:
    Json argument(const Field& f, std::string_view name) const {
        for (const graphql::Argument& arg : f.arguments) {
            if (arg.name == name) {
                return graphql::to_json(arg.value, m_variables);
            }
        }
        return Json(nullptr);
    }

    void fail(const Field& f, std::string message) {
        Json path = Json::array();
        path.push_back(f.response_key());
        errors.push_back(GraphqlError{std::move(message), {f.location}, std::move(path)});
    }

    Json create_customer(const Field& f) {
        const Json input = argument(f, "input");
        NewCustomer request;
        request.name = optional_string(input, "name").value_or("");
        request.external_id = optional_string(input, "externalId");
        request.description = optional_string(input, "description");
        if (const Json* labels = input.find("labels")) {
            for (const Json& label : labels->is_array() ? labels->items() : std::vector<Json>{*labels}) {
                if (label.is_string()) {
                    request.labels.push_back(label.as_string());
                }
            }
        }
        const CreateResult result = m_directory.create(std::move(request));
        m_outcome.creates += result.customer ? 1 : 0;
        m_outcome.duplicates += result.duplicate ? 1 : 0;
        m_outcome.payload_errors += result.errors.empty() ? 0 : 1;
        Json payload = Json::object();
        for (const Field& sub : f.selections) {
            if (sub.name == "customer") {
                payload.set(sub.response_key(), result.customer ? select_customer(*result.customer, sub.selections)
                                                                : Json(nullptr));
            } else if (sub.name == "errors") {
                payload.set(sub.response_key(), select_errors(result.errors, sub.selections));
            } else if (sub.name == "clientMutationId") {
                const auto id = optional_string(input, "clientMutationId");
                payload.set(sub.response_key(), id ? Json(*id) : Json(nullptr));
            } else {
                payload.set(sub.response_key(), "CreateCustomerPayload");
            }
        }
        return payload;
    }

    Json customer(const Field& f) {
        const Json id = argument(f, "id");
        const auto found = m_directory.find(id.is_string() ? id.as_string() : std::string());
        return found ? select_customer(*found, f.selections) : Json(nullptr);
    }

    Json customers(const Field& f) {
        CustomerFilter filter;
        const Json args[] = {argument(f, "name"), argument(f, "externalId"), argument(f, "first"), argument(f, "after")};
        if (args[0].is_string()) {
            filter.name = args[0].as_string();
        }
        if (args[1].is_string()) {
            filter.external_id = args[1].as_string();
        }
        const std::int64_t first = args[2].is_number() ? args[2].as_int() : static_cast<std::int64_t>(k_page_max);
        if (first < 0) {
            fail(f, "Argument \"first\" must be a non-negative integer");
            return Json(nullptr);
        }
        std::size_t offset = 0;
        if (args[3].is_string()) {
            const auto position = cursor_position(args[3].as_string());
            if (!position) {
                fail(f, "Invalid cursor \"" + args[3].as_string() + "\"");
                return Json(nullptr);
            }
            offset = *position + 1;
        }
        const std::size_t limit = std::min(static_cast<std::size_t>(first), k_page_max);
        return select_connection(m_directory.list(filter, offset, limit), f.selections);
    }

    Json select_connection(const CustomerPage& page, const std::vector<Field>& selections) const {
        Json out = Json::object();
        for (const Field& sub : selections) {
            Json value;
            if (sub.name == "nodes" || sub.name == "edges") {
                value = Json::array();
                for (std::size_t i = 0; i < page.customers.size(); ++i) {
                    value.push_back(sub.name == "nodes" ? select_customer(page.customers[i], sub.selections)
                                                        : select_edge(page, i, sub.selections));
                }
            } else if (sub.name == "pageInfo") {
                value = select_page_info(page, sub.selections);
            } else if (sub.name == "totalCount") {
                value = Json(static_cast<std::int64_t>(page.total));
            } else {
                value = Json("CustomerConnection");
            }
            out.set(sub.response_key(), std::move(value));
        }
        return out;
    }

    Json select_edge(const CustomerPage& page, std::size_t i, const std::vector<Field>& selections) const {
        Json out = Json::object();
        for (const Field& sub : selections) {
            out.set(sub.response_key(), sub.name == "node"     ? select_customer(page.customers[i], sub.selections)
                                        : sub.name == "cursor" ? Json(cursor(page.offset + i))
                                                               : Json("CustomerEdge"));
        }
        return out;
    }

    Json select_page_info(const CustomerPage& page, const std::vector<Field>& selections) const {
        const bool empty = page.customers.empty();
        Json out = Json::object();
        for (const Field& sub : selections) {
            Json value("PageInfo");
            if (sub.name == "hasNextPage") {
                value = Json(page.offset + page.customers.size() < page.total);
            } else if (sub.name == "hasPreviousPage") {
                value = Json(page.offset > 0);
            } else if (sub.name == "startCursor") {
                value = empty ? Json(nullptr) : Json(cursor(page.offset));
            } else if (sub.name == "endCursor") {
                value = empty ? Json(nullptr) : Json(cursor(page.offset + page.customers.size() - 1));
            }
            out.set(sub.response_key(), std::move(value));
        }
        return out;
    }

    static Json select_errors(const std::vector<FieldError>& list, const std::vector<Field>& selections) {
        Json out = Json::array();
        for (const FieldError& error : list) {
            Json item = Json::object();
            for (const Field& sub : selections) {
                Json messages = Json::array();
                for (const std::string& message : error.messages) {
                    messages.push_back(message);
                }
                item.set(sub.response_key(), sub.name == "field"      ? Json(error.field)
                                             : sub.name == "messages" ? std::move(messages)
                                                                      : Json("ErrorType"));
            }
            out.push_back(std::move(item));
        }
        return out;
    }

    static Json select_customer(const Customer& c, const std::vector<Field>& selections) {
        Json out = Json::object();
        for (const Field& sub : selections) {
            Json value("Customer");
            if (sub.name == "id") {
                value = Json(c.id);
            } else if (sub.name == "name") {
                value = Json(c.name);
            } else if (sub.name == "externalId") {
                value = c.external_id ? Json(*c.external_id) : Json(nullptr);
            } else if (sub.name == "description") {
                value = c.description ? Json(*c.description) : Json(nullptr);
            } else if (sub.name == "labels") {
                value = Json::array();
                for (const std::string& label : c.labels) {
                    value.push_back(label);
                }
            } else if (sub.name == "createdAt") {
                value = Json(c.created_at);
            }
            out.set(sub.response_key(), std::move(value));
        }
        return out;
    }

    Directory& m_directory;
    const Json& m_variables;
    GraphqlOutcome& m_outcome;
};

// The operation a request names, or an error message.
const graphql::Operation* pick_operation(const graphql::Document& doc, const std::string& name, std::string& error) {
    if (name.empty()) {
        if (doc.operations.size() > 1) {
            error = "Must provide operation name if query contains multiple operations.";
            return nullptr;
        }
        return &doc.operations.front();
    }
    for (const graphql::Operation& op : doc.operations) {
        if (op.name == name) {
            return &op;
        }
    }
    error = "Unknown operation named \"" + name + "\".";
    return nullptr;
}

std::string error_body(const std::vector<GraphqlError>& errors) {
    Json body = Json::object();
    Json list = Json::array();
    for (const GraphqlError& error : errors) {
        list.push_back(error.to_json());
    }
    body.set("errors", std::move(list));
    body.set("data", nullptr);
    return body.dump();
}

} // namespace

std::vector<GraphqlError> coerce_variables(const graphql::Operation& operation, const Json& provided, Json& coerced) {
    std::vector<GraphqlError> errors;
    coerced = Json::object();
    for (const graphql::VariableDefinition& def : operation.variables) {
        const std::string name = "$" + def.name;
        const Json* value = provided.find(def.name);
        if (value == nullptr) {
            if (def.default_value) {
                coerced.set(def.name, graphql::to_json(*def.default_value, Json::object()));
            } else if (def.type.non_null) {
                errors.push_back({"Variable \"" + name + "\" of required type \"" + def.type.str() +
                                      "\" was not provided.",
                                  {def.location}, Json(nullptr)});
            }
            continue;
        }
        if (value->is_null() && def.type.non_null) {
            errors.push_back({"Variable \"" + name + "\" of non-null type \"" + def.type.str() + "\" must not be null.",
                              {def.location}, Json(nullptr)});
            continue;
        }
        Json out;
        if (auto problem = coerce(*value, def.type, def.name, out)) {
            const std::string at = problem->path == def.name ? "" : " at \"" + problem->path + "\"";
            errors.push_back({"Variable \"" + name + "\" got invalid value " + value->dump() + at + "; " +
                                  problem->message,
                              {def.location}, Json(nullptr)});
            continue;
        }
        coerced.set(def.name, std::move(out));
    }
    return errors;
}

std::shared_ptr<const PreparedDocument> DocumentCache::prepare(std::string_view query,
                                                               const std::string& operation_name) {
    std::string key = operation_name;
    key += '\0';
    key += query;
    {
        const std::shared_lock lock(m_mutex);
        if (const auto it = m_documents.find(key); it != m_documents.end()) {
            return it->second;
        }
    }
    auto prepared = std::make_shared<PreparedDocument>();
    try {
        prepared->document = graphql::parse(query);
    } catch (const graphql::SyntaxError& e) {
        prepared->error_body = error_body({{e.graphql_message(), {e.location()}, Json(nullptr)}});
    }
    if (prepared->error_body.empty()) {
        std::string problem;
        const graphql::Operation* op = pick_operation(prepared->document, operation_name, problem);
        if (op != nullptr && op->kind == graphql::Operation::Kind::subscription) {
            problem = "Schema is not configured to execute subscription operation.";
        }
        const std::vector<GraphqlError> errors =
            problem.empty() ? validate(*op) : std::vector<GraphqlError>{{problem, {}, Json(nullptr)}};
        if (!errors.empty()) {
            prepared->error_body = error_body(errors);
        } else {
            prepared->operation = static_cast<std::size_t>(op - prepared->document.operations.data());
        }
    }
    if (query.size() > k_cached_document_bytes) {
        return prepared;
    }
    const std::lock_guard lock(m_mutex);
    // Documents that differ in every request (literals instead of variables) must not grow it forever.
    if (m_documents.size() >= k_cached_documents) {
        m_documents.clear();
    }
    m_documents.emplace(std::move(key), prepared);
    return prepared;
}

GraphqlOutcome execute_graphql(std::string_view query, const Json& variables, const std::string& operation_name,
                               Directory& directory, DocumentCache& documents) {
    GraphqlOutcome outcome;
    const std::shared_ptr<const PreparedDocument> prepared = documents.prepare(query, operation_name);
    if (!prepared->error_body.empty()) {
        outcome.request_error = true;
        outcome.body = prepared->error_body;
        return outcome;
    }
    const graphql::Operation* op = &prepared->document.operations[prepared->operation];
    Json coerced;
    if (std::vector<GraphqlError> errors = coerce_variables(*op, variables, coerced); !errors.empty()) {
        outcome.request_error = true;
        outcome.body = error_body(errors);
        return outcome;
    }
    outcome.mutation = op->kind == graphql::Operation::Kind::mutation;
    Executor executor(directory, coerced, outcome);
    Json data = executor.run(*op);
    Json body = Json::object();
    if (!executor.errors.empty()) {
        Json list = Json::array();
        for (const GraphqlError& error : executor.errors) {
            list.push_back(error.to_json());
        }
        body.set("errors", std::move(list));
    }
    body.set("data", std::move(data));
    outcome.body = body.dump();
    return outcome;
}

} // namespace onboard::sim

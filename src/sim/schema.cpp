#include "sim/schema.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

namespace onboard::sim {

namespace {

using graphql::Location;
using graphql::TypeRef;
using graphql::Value;

TypeRef type_of(std::string_view text) {
    const std::string source = "query($v: " + std::string(text) + ") { a }";
    return graphql::parse(source).operations.front().variables.front().type;
}

FieldDef field(std::string name, std::string_view type, std::vector<FieldDef> arguments = {}) {
    return FieldDef{std::move(name), type_of(type), std::move(arguments)};
}

std::vector<TypeDef> build_schema() {
    const std::vector<FieldDef> customer_fields = {
        field("id", "ID!"), field("name", "String!"), field("externalId", "String"),
        field("description", "String"), field("labels", "[String]"), field("createdAt", "DateTime!")};
    return {
        {"String", TypeKind::scalar, {}},
        {"ID", TypeKind::scalar, {}},
        {"Int", TypeKind::scalar, {}},
        {"Float", TypeKind::scalar, {}},
        {"Boolean", TypeKind::scalar, {}},
        {"DateTime", TypeKind::scalar, {}},
        {"Query",
         TypeKind::object,
         {field("customers", "CustomerConnection",
                {field("externalId", "String"), field("name", "String"), field("first", "Int"),
                 field("after", "String")}),
          field("customer", "Customer", {field("id", "ID!")})}},
        {"Mutation",
         TypeKind::object,
         {field("createCustomer", "CreateCustomerPayload", {field("input", "CreateCustomerInput!")})}},
        {"Customer", TypeKind::object, customer_fields},
        {"CustomerConnection",
         TypeKind::object,
         {field("nodes", "[Customer]!"), field("edges", "[CustomerEdge]!"), field("pageInfo", "PageInfo!"),
          field("totalCount", "Int!")}},
        {"CustomerEdge", TypeKind::object, {field("node", "Customer"), field("cursor", "String!")}},
        {"PageInfo",
         TypeKind::object,
         {field("hasNextPage", "Boolean!"), field("hasPreviousPage", "Boolean!"), field("startCursor", "String"),
          field("endCursor", "String")}},
        {"CreateCustomerPayload",
         TypeKind::object,
         {field("customer", "Customer"), field("errors", "[ErrorType!]!"), field("clientMutationId", "String")}},
        {"ErrorType", TypeKind::object, {field("field", "String!"), field("messages", "[String!]!")}},
        {"CreateCustomerInput",
         TypeKind::input,
         {field("name", "String!"), field("externalId", "String"), field("description", "String"),
          field("labels", "[String]"), field("clientMutationId", "String")}},
    };
}

const std::vector<TypeDef>& schema() {
    static const std::vector<TypeDef> k_schema = build_schema();
    return k_schema;
}

const std::string& named_type(const TypeRef& type) {
    return type.is_list() ? named_type(type.of.front()) : type.name;
}

// GraphQL's print() of a literal, as validation messages quote it.
std::string print(const Value& value) {
    std::string out;
    switch (value.kind) {
    case Value::Kind::variable: return "$" + value.text;
    case Value::Kind::string: core::append_json_string(out, value.text); return out;
    case Value::Kind::boolean: return value.boolean ? "true" : "false";
    case Value::Kind::null: return "null";
    case Value::Kind::list:
        out = "[";
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            out += (i > 0 ? ", " : "") + print(value.items[i]);
        }
        return out + "]";
    case Value::Kind::object:
        out = "{";
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            out += (i > 0 ? ", " : "") + value.keys[i] + ": " + print(value.items[i]);
        }
        return out + "}";
    default: return value.text;
    }
}

// Whether a value of `given` type may be used where `expected` is (GraphQL's isTypeSubTypeOf).
bool is_subtype(const TypeRef& given, const TypeRef& expected) {
    if (expected.non_null && !given.non_null) {
        return false;
    }
    if (expected.is_list() != given.is_list()) {
        return false;
    }
    return expected.is_list() ? is_subtype(given.of.front(), expected.of.front()) : given.name == expected.name;
}

// The problem with a scalar literal for `scalar`, or "" when it fits.
std::string scalar_literal_problem(const std::string& scalar, const Value& value) {
    using K = Value::Kind;
    if (scalar == "String" || scalar == "DateTime") {
        return value.kind == K::string ? "" : "String cannot represent a non string value: " + print(value);
    }
    if (scalar == "ID") {
        return value.kind == K::string || value.kind == K::integer
                   ? ""
                   : "ID cannot represent a non-string and non-integer value: " + print(value);
    }
    if (scalar == "Int") {
        if (value.kind != K::integer) {
            return "Int cannot represent non-integer value: " + print(value);
        }
        const double number = std::strtod(value.text.c_str(), nullptr);
        return number >= INT_MIN && number <= INT_MAX
                   ? ""
                   : "Int cannot represent non 32-bit signed integer value: " + value.text;
    }
    if (scalar == "Float") {
        return value.kind == K::integer || value.kind == K::floating
                   ? ""
                   : "Float cannot represent non numeric value: " + print(value);
    }
    return value.kind == K::boolean ? "" : "Boolean cannot represent a non boolean value: " + print(value);
}

// Walks an operation once, collecting the errors the GraphQL.js validation rules would report.
class Validator {
public:
    explicit Validator(const graphql::Operation& operation) : m_op(operation) {}

    std::vector<GraphqlError> run() {
        for (const graphql::VariableDefinition& def : m_op.variables) {
            check_variable_definition(def);
        }
        if (const TypeDef* root = root_type(m_op.kind)) {
            check_selections(m_op.selections, *root);
        }
        for (const graphql::VariableDefinition& def : m_op.variables) {
            if (m_used.count(def.name) == 0) {
                add("Variable \"$" + def.name + "\" is never used" +
                        (m_op.name.empty() ? "." : " in operation \"" + m_op.name + "\"."),
                    {def.location});
            }
        }
        return std::move(m_errors);
    }

private:
    void add(std::string message, std::vector<Location> locations) {
        m_errors.push_back(GraphqlError{std::move(message), std::move(locations), core::Json(nullptr)});
    }

    void check_variable_definition(const graphql::VariableDefinition& def) {
        const TypeDef* type = find_type(named_type(def.type));
        if (type == nullptr) {
            add("Unknown type \"" + named_type(def.type) + "\".", {def.type.location});
        } else if (type->kind == TypeKind::object) {
            add("Variable \"$" + def.name + "\" cannot be non-input type \"" + def.type.str() + "\".",
                {def.type.location});
        } else if (def.default_value) {
            check_value(*def.default_value, def.type);
        }
    }

    void check_selections(const std::vector<graphql::Field>& fields, const TypeDef& parent) {
        for (const graphql::Field& f : fields) {
            if (f.name == "__typename") {
                check_leaf(f, "String!", true);
                continue;
            }
            const FieldDef* def = parent.field(f.name);
            if (def == nullptr) {
                add("Cannot query field \"" + f.name + "\" on type \"" + parent.name + "\".", {f.location});
                continue;
            }
            check_arguments(f, *def, parent);
            const TypeDef* type = find_type(named_type(def->type));
            if (check_leaf(f, def->type.str(), type->kind == TypeKind::scalar)) {
                check_selections(f.selections, *type);
            }
        }
    }

    // Reports a selection on a leaf or a missing one on an object; true when subfields need checking.
    bool check_leaf(const graphql::Field& f, const std::string& type, bool is_leaf) {
        if (is_leaf && !f.selections.empty()) {
            add("Field \"" + f.name + "\" must not have a selection since type \"" + type + "\" has no subfields.",
                {f.selections.front().location});
        } else if (!is_leaf && f.selections.empty()) {
            add("Field \"" + f.name + "\" of type \"" + type + "\" must have a selection of subfields. Did you mean \"" +
                    f.name + " { ... }\"?",
                {f.location});
        }
        return !is_leaf && !f.selections.empty();
    }

    void check_arguments(const graphql::Field& f, const FieldDef& def, const TypeDef& parent) {
        for (const graphql::Argument& arg : f.arguments) {
            const auto it = std::find_if(def.arguments.begin(), def.arguments.end(),
                                         [&](const FieldDef& a) { return a.name == arg.name; });
            if (it == def.arguments.end()) {
                add("Unknown argument \"" + arg.name + "\" on field \"" + parent.name + "." + f.name + "\".",
                    {arg.location});
            } else {
                check_value(arg.value, it->type);
            }
        }
        for (const FieldDef& expected : def.arguments) {
            const bool given = std::any_of(f.arguments.begin(), f.arguments.end(),
                                           [&](const graphql::Argument& a) { return a.name == expected.name; });
            if (expected.type.non_null && !given) {
                add("Field \"" + f.name + "\" argument \"" + expected.name + "\" of type \"" + expected.type.str() +
                        "\" is required, but it was not provided.",
                    {f.location});
            }
        }
    }

    void check_variable_use(const Value& value, const TypeRef& expected) {
        m_used.insert(value.text);
        const auto it = std::find_if(m_op.variables.begin(), m_op.variables.end(),
                                     [&](const graphql::VariableDefinition& d) { return d.name == value.text; });
        if (it == m_op.variables.end()) {
            add("Variable \"$" + value.text + "\" is not defined" +
                    (m_op.name.empty() ? "." : " by operation \"" + m_op.name + "\"."),
                {value.location, m_op.location});
            return;
        }
        TypeRef given = it->type;
        // A nullable variable with a non-null default may fill a non-null position.
        if (it->default_value && it->default_value->kind != Value::Kind::null) {
            given.non_null = true;
        }
        if (find_type(named_type(given)) != nullptr && !is_subtype(given, expected)) {
            add("Variable \"$" + value.text + "\" of type \"" + it->type.str() +
                    "\" used in position expecting type \"" + expected.str() + "\".",
                {it->location, value.location});
        }
    }

    void check_value(const Value& value, const TypeRef& expected) {
        if (value.kind == Value::Kind::variable) {
            check_variable_use(value, expected);
            return;
        }
        if (value.kind == Value::Kind::null) {
            if (expected.non_null) {
                add("Expected value of type \"" + expected.str() + "\", found null.", {value.location});
            }
            return;
        }
        if (expected.is_list()) {
            if (value.kind != Value::Kind::list) {
                check_value(value, expected.of.front());
            }
            for (const Value& item : value.items) {
                check_value(item, expected.of.front());
            }
            return;
        }
        const TypeDef* type = find_type(expected.name);
        if (type != nullptr && type->kind == TypeKind::input) {
            check_input_object(value, *type, expected);
        } else if (const std::string problem = scalar_literal_problem(expected.name, value); !problem.empty()) {
            add(problem, {value.location});
        }
    }

    void check_input_object(const Value& value, const TypeDef& type, const TypeRef& expected) {
        if (value.kind != Value::Kind::object) {
            add("Expected value of type \"" + expected.str() + "\", found " + print(value) + ".", {value.location});
            return;
        }
        for (std::size_t i = 0; i < value.keys.size(); ++i) {
            if (const FieldDef* member = type.field(value.keys[i])) {
                check_value(value.items[i], member->type);
            } else {
                add("Field \"" + value.keys[i] + "\" is not defined by type \"" + type.name + "\".",
                    {value.items[i].location});
            }
        }
        for (const FieldDef& member : type.fields) {
            const bool given = std::find(value.keys.begin(), value.keys.end(), member.name) != value.keys.end();
            if (member.type.non_null && !given) {
                add("Field \"" + type.name + "." + member.name + "\" of required type \"" + member.type.str() +
                        "\" was not provided.",
                    {value.location});
            }
        }
    }

    const graphql::Operation& m_op;
    std::vector<GraphqlError> m_errors;
    std::set<std::string> m_used;
};

} // namespace

core::Json GraphqlError::to_json() const {
    core::Json out = core::Json::object();
    out.set("message", message);
    if (!locations.empty()) {
        core::Json list = core::Json::array();
        for (const Location& location : locations) {
            core::Json item = core::Json::object();
            item.set("line", location.line);
            item.set("column", location.column);
            list.push_back(std::move(item));
        }
        out.set("locations", std::move(list));
    }
    if (!path.is_null()) {
        out.set("path", path);
    }
    return out;
}

const FieldDef* TypeDef::field(std::string_view field_name) const {
    for (const FieldDef& f : fields) {
        if (f.name == field_name) {
            return &f;
        }
    }
    return nullptr;
}

const TypeDef* find_type(std::string_view name) {
    for (const TypeDef& type : schema()) {
        if (type.name == name) {
            return &type;
        }
    }
    return nullptr;
}

const TypeDef* root_type(graphql::Operation::Kind kind) {
    switch (kind) {
    case graphql::Operation::Kind::query: return find_type("Query");
    case graphql::Operation::Kind::mutation: return find_type("Mutation");
    case graphql::Operation::Kind::subscription: return nullptr;
    }
    return nullptr;
}

std::vector<GraphqlError> validate(const graphql::Operation& operation) {
    return Validator(operation).run();
}

} // namespace onboard::sim

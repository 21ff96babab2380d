#pragma once

#include "core/json.hpp"
#include "graphql/parser.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace onboard::sim {

// A GraphQL error as the response lists it: message, locations and, for field errors, the path.
struct GraphqlError {
    std::string message;
    std::vector<graphql::Location> locations;
    core::Json path; // null unless a field failed while executing

    core::Json to_json() const;
};

enum class TypeKind { scalar, object, input };

// A field of an object or input type, with its arguments.
struct FieldDef {
    std::string name;
    graphql::TypeRef type;
    std::vector<FieldDef> arguments; // only names and types are used
};

// A named type of the simulated Prismatic schema.
struct TypeDef {
    std::string name;
    TypeKind kind = TypeKind::scalar;
    std::vector<FieldDef> fields;

    const FieldDef* field(std::string_view field_name) const;
};

// The schema's type named `name`, or nullptr.
const TypeDef* find_type(std::string_view name);

// The root type of an operation ("Query", "Mutation"), or nullptr for subscriptions.
const TypeDef* root_type(graphql::Operation::Kind kind);

// The validation errors of `operation` against the schema (unknown fields, arguments, types and
// variables, misplaced variables, bad literals, missing selections); empty when valid.
std::vector<GraphqlError> validate(const graphql::Operation& operation);

} // namespace onboard::sim

#include "core/error.hpp"
#include "workflow/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

namespace onboard::workflow {

namespace {

StepResult failure(std::string error_class, std::string message, bool retryable) {
    StepResult result;
    result.outputs = core::Json::object();
    result.error_class = std::move(error_class);
    result.error_message = std::move(message);
    result.retryable = retryable;
    return result;
}

// The start of a body that is not JSON, on one line, for a message.
std::string snippet(std::string_view body) {
    std::string out;
    for (const char c : body.substr(0, 200)) {
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (!(space && (out.empty() || out.back() == ' '))) {
            out += space ? ' ' : c;
        }
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return body.size() > 200 ? out + "..." : out;
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// The words of an error answer: GraphQL messages, an "error"/"message" member, or the body's start.
std::string body_words(const http::Response& response, const core::Json* body) {
    if (body != nullptr) {
        if (const core::Json* errors = body->find("errors"); errors != nullptr && errors->size() > 0) {
            return error_messages(*errors);
        }
        for (const char* key : {"message", "error_description", "error"}) {
            if (const core::Json* value = body->find(key); value != nullptr && value->is_string()) {
                return value->as_string();
            }
        }
    }
    return snippet(response.body);
}

std::string http_words(const http::Response& response, const core::Json* body) {
    const std::string words = body_words(response, body);
    return "HTTP " + std::to_string(response.status) + (words.empty() ? "" : ": " + words);
}

bool says_unauthenticated(const core::Json& errors) {
    for (const core::Json& error : errors.items()) {
        const core::Json* code = error.at_pointer("/extensions/code");
        if (code != nullptr && code->is_string() &&
            (code->as_string() == "UNAUTHENTICATED" || code->as_string() == "FORBIDDEN")) {
            return true;
        }
    }
    return false;
}

// Failures known from the status line or the transport alone.
std::optional<StepResult> judge_transport(const http::Response& response) {
    using http::Failure;
    if (response.failure == Failure::connect) {
        return failure("network", "could not connect: " + response.failure_message, true);
    }
    if (response.failure != Failure::none) {
        const char* what = response.failure == Failure::timeout ? "timed out" : "connection lost";
        return failure("outcome_unknown", std::string(what) + " after sending the request, which may have been processed: " +
                                              response.failure_message, false);
    }
    return std::nullopt;
}

std::optional<StepResult> judge_status(const http::Response& response, const core::Json* body) {
    const int status = response.status;
    std::optional<StepResult> result;
    if (status == 401 || status == 403) {
        result = failure("auth", http_words(response, body), false);
    } else if (status == 429) {
        result = failure("rate_limited", http_words(response, body), true);
    } else if (status >= 500) {
        result = failure("server", http_words(response, body), true);
    } else if (body == nullptr && !response.body.empty()) {
        result = failure("server", "HTTP " + std::to_string(status) + ": the response is not JSON: " +
                                       snippet(response.body), status < 400);
    }
    if (result) {
        if (auto after = response.header("retry-after")) {
            result->retry_after_seconds = parse_retry_after(*after);
        }
    }
    return result;
}

} // namespace

std::string error_messages(const core::Json& errors) {
    std::string out;
    for (const core::Json& error : errors.items()) {
        std::string field;
        if (const core::Json* f = error.find("field"); f != nullptr && f->is_string()) {
            field = f->as_string();
        } else if (f != nullptr && f->is_array()) {
            for (const core::Json& part : f->items()) {
                field += (field.empty() ? "" : ".") + to_text(part);
            }
        }
        std::vector<std::string> texts;
        if (const core::Json* list = error.find("messages"); list != nullptr && list->is_array()) {
            for (const core::Json& text : list->items()) {
                texts.push_back(to_text(text));
            }
        }
        if (const core::Json* text = error.find("message"); text != nullptr && text->is_string()) {
            texts.push_back(text->as_string());
        }
        if (texts.empty() && error.is_string()) {
            texts.push_back(error.as_string());
        }
        for (const std::string& text : texts) {
            out += (out.empty() ? "" : "; ") + (field.empty() ? text : field + ": " + text);
        }
    }
    return out;
}

bool says_duplicate(const std::string& message) {
    const std::string text = lower(message);
    for (const char* phrase : {"already exists", "already been taken", "is taken", "already taken",
                               "must be unique", "not unique", "duplicate"}) {
        if (text.find(phrase) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::optional<StepResult> judge_graphql(const core::Json& body) {
    if (const core::Json* errors = body.find("errors"); errors != nullptr && errors->is_array() && errors->size() > 0) {
        const std::string message = error_messages(*errors);
        const bool duplicate = says_duplicate(message);
        return failure(says_unauthenticated(*errors) ? "auth" : duplicate ? "duplicate" : "graphql", message, false);
    }
    const core::Json* data = body.find("data");
    if (data == nullptr || !data->is_object()) {
        return std::nullopt;
    }
    for (const core::Json& payload : data->items()) {
        if (const core::Json* errors = payload.find("errors"); errors != nullptr && errors->is_array() && errors->size() > 0) {
            const std::string message = error_messages(*errors);
            return failure(says_duplicate(message) ? "duplicate" : "validation", message, false);
        }
    }
    return std::nullopt;
}

std::optional<double> parse_retry_after(std::string_view value) {
    const std::string text(value);
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (!text.empty() && end != nullptr && *end == '\0' && std::isfinite(seconds)) {
        return std::max(0.0, seconds);
    }
    std::tm tm{};
    const char* rest = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (rest == nullptr || *rest != '\0') {
        return std::nullopt;
    }
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    return std::max(0.0, std::difftime(timegm(&tm), now));
}

StepResult Runner::judge(const Step& step, const Context& context, const http::Response& response) const {
    if (auto result = judge_transport(response)) {
        return *result;
    }
    std::optional<core::Json> parsed;
    try {
        if (!response.body.empty()) {
            parsed = core::Json::parse(response.body, "response");
        }
    } catch (const Error&) {
        // Judged below as a non-JSON answer.
    }
    const core::Json* body = parsed ? &*parsed : nullptr;
    if (auto result = judge_status(response, body)) {
        return *result;
    }
    if (body != nullptr) {
        if (auto result = judge_graphql(*body)) {
            return *result;
        }
    }
    const core::Json null_body;
    const Scope scope{&context, &response, body != nullptr ? body : &null_body};
    for (const Criterion& criterion : step.success_criteria) {
        if (!criterion.condition.holds(scope)) {
            return failure("validation", "success criterion not met: " + criterion.condition.text() + " (" +
                                             http_words(response, body) + ")", false);
        }
    }
    StepResult result;
    result.succeeded = true;
    result.outputs = core::Json::object();
    for (const Output& output : step.outputs) {
        result.outputs.set(output.name, output.value.evaluate(scope));
    }
    return result;
}

} // namespace onboard::workflow

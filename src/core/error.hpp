#pragma once

#include <stdexcept>
#include <string>

namespace onboard {

// The root of every exception onboard throws on purpose; never thrown itself. Messages read
// "<where>: <what>", lowercase, values quoted.
class Error : public std::runtime_error {
protected:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Bad input from a file the user gave: "<source>:<line>: <what>", or "<source>: <what>" when the
// problem has no line (line 0).
class InputError : public Error {
public:
    InputError(const std::string& source, std::size_t line, const std::string& message)
        : Error(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message),
          m_source(source), m_line(line) {}

    const std::string& source() const { return m_source; }
    std::size_t line() const { return m_line; }

private:
    std::string m_source;
    std::size_t m_line;
};

// A command used wrongly: bad arguments, a missing token, an unusable path.
class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(message) {}
};

// The results database failed or refused: open, migrate, read or write.
class StoreError : public Error {
public:
    explicit StoreError(const std::string& message) : Error(message) {}
};

// An HTTP exchange that could not be made; `status` is 0 when no response arrived.
class HttpError : public Error {
public:
    HttpError(const std::string& message, int status, bool retryable)
        : Error(message), m_status(status), m_retryable(retryable) {}

    int status() const { return m_status; }
    bool retryable() const { return m_retryable; }

private:
    int m_status;
    bool m_retryable;
};

// The Arazzo workflow or its source description is unusable, or a request cannot be built from it.
class WorkflowError : public Error {
public:
    explicit WorkflowError(const std::string& message) : Error(message) {}
};

// A run stopped before its work was done: a refused refresh token, repeated auth failures, a 403.
class RunAborted : public Error {
public:
    explicit RunAborted(const std::string& message) : Error(message) {}
};

} // namespace onboard

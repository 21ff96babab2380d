#pragma once

#include <optional>
#include <string>

namespace onboard::http {

// A URL as libcurl will read it when it connects: the host checked is the host contacted.
struct UrlParts {
    std::string scheme;        // lower case
    std::string host;          // without the brackets of an IPv6 literal
    bool has_userinfo = false; // "user@" or "user:password@" before the host
};

// nullopt when libcurl cannot parse `url` as an absolute URL.
std::optional<UrlParts> parse_url(const std::string& url);

// 127.0.0.1, ::1 or localhost: where plain http stays on this machine.
bool is_loopback_host(const std::string& host);

} // namespace onboard::http

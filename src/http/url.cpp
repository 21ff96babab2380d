#include "http/url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace onboard::http {

namespace {

struct UrlHandleDeleter {
    void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};

std::string lower_case(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::optional<std::string> url_part(CURLU* handle, CURLUPart part) {
    char* value = nullptr;
    if (curl_url_get(handle, part, &value, 0) != CURLUE_OK || value == nullptr) {
        return std::nullopt;
    }
    std::string copy(value);
    curl_free(value);
    return copy;
}

} // namespace

std::optional<UrlParts> parse_url(const std::string& url) {
    std::unique_ptr<CURLU, UrlHandleDeleter> handle(curl_url());
    // No guessed scheme: "example.com" is not taken for http://example.com.
    if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(),
                                CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        return std::nullopt;
    }
    UrlParts parts;
    parts.scheme = lower_case(url_part(handle.get(), CURLUPART_SCHEME).value_or(""));
    parts.host = url_part(handle.get(), CURLUPART_HOST).value_or("");
    if (parts.host.size() >= 2 && parts.host.front() == '[' && parts.host.back() == ']') {
        parts.host = parts.host.substr(1, parts.host.size() - 2);
    }
    parts.has_userinfo = url_part(handle.get(), CURLUPART_USER).has_value() ||
                         url_part(handle.get(), CURLUPART_PASSWORD).has_value();
    return parts;
}

bool is_loopback_host(const std::string& host) {
    const std::string lower = lower_case(host);
    return lower == "127.0.0.1" || lower == "::1" || lower == "localhost";
}

} // namespace onboard::http

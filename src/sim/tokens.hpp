#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace onboard::sim {

// Mints and checks HS256 JWT access tokens ({"sub","exp","iat","jti"}) with a per-process secret.
class TokenIssuer {
public:
    enum class Verdict { valid, malformed, bad_signature, expired };

    // `secret` signs tokens; each lives `ttl_seconds`.
    TokenIssuer(std::string secret, std::int64_t ttl_seconds);

    // A signed token issued at `now` (seconds since the epoch); `tenant_id` is added when not empty.
    std::string issue(std::int64_t now, std::string_view tenant_id);
    // Whether `token` was signed here and has not expired at `now`; never throws.
    Verdict verify(std::string_view token, std::int64_t now) const;

private:
    std::string sign(std::string_view signing_input) const;
    Verdict check(std::string_view token, std::int64_t& exp) const;

    std::string m_secret;
    std::int64_t m_ttl_seconds;
    std::atomic<std::uint64_t> m_next_id{1};
    // The expiry of tokens whose signature was checked already: a client sends one token many times,
    // and an HMAC and a JSON parse per request would cost more than the request's work.
    mutable std::shared_mutex m_verified_mutex;
    mutable std::unordered_map<std::string, std::int64_t> m_verified;
};

// base64url without padding, as JWTs use.
std::string base64url_encode(std::string_view bytes);

} // namespace onboard::sim

#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

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

    std::string m_secret;
    std::int64_t m_ttl_seconds;
    std::atomic<std::uint64_t> m_next_id{1};
};

// base64url without padding, as JWTs use.
std::string base64url_encode(std::string_view bytes);

} // namespace onboard::sim

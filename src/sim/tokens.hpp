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
    enum class Verdict { valid, malformed, bad_signature, expired, revoked };

    // `secret` signs tokens; each lives `ttl_seconds`.
    TokenIssuer(std::string secret, std::int64_t ttl_seconds);

    // A signed token issued at `now` (seconds since the epoch); `tenant_id` is added when not empty.
    std::string issue(std::int64_t now, std::string_view tenant_id);
    // Whether `token` was signed here, has not expired at `now` and was not revoked; never throws.
    Verdict verify(std::string_view token, std::int64_t now) const;
    // Refuses every token issued so far (as when a user's sessions are revoked); new ones work.
    void revoke_all() { m_revoked_through = m_next_id.load() - 1; }

private:
    std::string sign(std::string_view signing_input) const;
    Verdict check(std::string_view token, std::int64_t& exp, std::uint64_t& jti) const;
    Verdict judge(std::int64_t exp, std::uint64_t jti, std::int64_t now) const;

    std::string m_secret;
    std::int64_t m_ttl_seconds;
    std::atomic<std::uint64_t> m_next_id{1};
    std::atomic<std::uint64_t> m_revoked_through{0}; // jti of the last token revoke_all refused
    // The expiry of tokens whose signature was checked already: a client sends one token many times,
    // and an HMAC and a JSON parse per request would cost more than the request's work.
    mutable std::shared_mutex m_verified_mutex;
    mutable std::unordered_map<std::string, std::pair<std::int64_t, std::uint64_t>> m_verified; // exp, jti
};

// base64url without padding, as JWTs use.
std::string base64url_encode(std::string_view bytes);

} // namespace onboard::sim

#include "sim/tokens.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "sim/customers.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

namespace onboard::sim {

namespace {

constexpr std::size_t k_verified_tokens = 4096;

} // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out = base64_encode(bytes);
    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    for (char& c : out) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return out;
}

TokenIssuer::TokenIssuer(std::string secret, std::int64_t ttl_seconds)
    : m_secret(std::move(secret)), m_ttl_seconds(ttl_seconds) {}

std::string TokenIssuer::sign(std::string_view signing_input) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), m_secret.data(), static_cast<int>(m_secret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), digest, &length);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string TokenIssuer::issue(std::int64_t now, std::string_view tenant_id) {
    core::Json payload = core::Json::object();
    payload.set("sub", "prismatic-sim-user");
    if (!tenant_id.empty()) {
        payload.set("tenant_id", std::string(tenant_id));
    }
    payload.set("iat", now);
    payload.set("exp", now + m_ttl_seconds);
    payload.set("jti", std::to_string(m_next_id.fetch_add(1)));
    std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload.dump());
    const std::string signature = sign(token);
    token += '.';
    token += signature;
    return token;
}

TokenIssuer::Verdict TokenIssuer::verify(std::string_view token, std::int64_t now) const {
    std::string key(token);
    {
        const std::shared_lock lock(m_verified_mutex);
        if (const auto it = m_verified.find(key); it != m_verified.end()) {
            return judge(it->second.first, it->second.second, now);
        }
    }
    std::int64_t exp = 0;
    std::uint64_t jti = 0;
    if (const Verdict verdict = check(token, exp, jti); verdict != Verdict::valid) {
        return verdict;
    }
    {
        const std::lock_guard lock(m_verified_mutex);
        // Only tokens signed here get in, so only our own refreshes can fill it.
        if (m_verified.size() >= k_verified_tokens) {
            m_verified.clear();
        }
        m_verified.emplace(std::move(key), std::make_pair(exp, jti));
    }
    return judge(exp, jti, now);
}

TokenIssuer::Verdict TokenIssuer::judge(std::int64_t exp, std::uint64_t jti, std::int64_t now) const {
    if (jti <= m_revoked_through.load()) {
        return Verdict::revoked;
    }
    return now < exp ? Verdict::valid : Verdict::expired;
}

// Checks the signature and reads the `exp` claim; valid means signed here with a numeric exp, expired
// or not.
TokenIssuer::Verdict TokenIssuer::check(std::string_view token, std::int64_t& exp, std::uint64_t& jti) const {
    const auto first = token.find('.');
    const auto last = token.rfind('.');
    if (first == std::string_view::npos || first == last) {
        return Verdict::malformed;
    }
    const std::string expected = sign(token.substr(0, last));
    const std::string_view given = token.substr(last + 1);
    if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
        return Verdict::bad_signature;
    }
    const auto payload_text = base64_decode(token.substr(first + 1, last - first - 1));
    if (!payload_text) {
        return Verdict::malformed;
    }
    try {
        const core::Json payload = core::Json::parse(*payload_text);
        const core::Json* claim = payload.find("exp");
        if (claim == nullptr || !claim->is_number()) {
            return Verdict::malformed;
        }
        exp = claim->as_int();
        const core::Json* id = payload.find("jti");
        jti = id != nullptr && id->is_string() ? std::strtoull(id->as_string().c_str(), nullptr, 10) : 0;
        return Verdict::valid;
    } catch (const Error&) {
        return Verdict::malformed;
    }
}

} // namespace onboard::sim

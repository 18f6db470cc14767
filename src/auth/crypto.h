// The cryptography Loupe's access control and secret store use, all from libsodium:
// random tokens, token hashes (SHA-256: tokens are 256 random bits, so a fast hash is
// enough), Argon2id password hashes, and secretbox (XSalsa20-Poly1305) sealing.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace loupe::auth {

// Initialises libsodium; safe to call from several threads and many times.
[[nodiscard]] Status InitCrypto();

// `prefix` followed by `bytes` random bytes in URL-safe base64 without padding.
std::string RandomToken(std::string_view prefix, size_t bytes = 32);
// Hex SHA-256 of a token, session or code: what the store keeps instead of the value.
std::string HashToken(std::string_view token);

// Argon2id with libsodium's interactive limits (64 MiB, about 0.1 s).
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(const std::string& hash, std::string_view password);

inline constexpr size_t kSecretKeyBytes = 32;
// base64(nonce || ciphertext) of `plain` under `key` (kSecretKeyBytes).
Result<std::string> Seal(std::string_view plain, const std::string& key);
// The plain text of what Seal() returned; Corrupt when it was altered or the key differs.
Result<std::string> Open(std::string_view sealed, const std::string& key);
// Standard base64 of raw bytes and back (for key files and environment variables).
std::string ToBase64(std::string_view bytes);
Result<std::string> FromBase64(std::string_view text);

}  // namespace loupe::auth

#include "auth/crypto.h"

#include <sodium.h>

#include <vector>

namespace loupe::auth {

namespace {

std::string Base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return Status::Internal("libsodium cannot be initialised");
  return Status::Ok();
}

std::string RandomToken(std::string_view prefix, size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return std::string(prefix) + Base64(raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string HashToken(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::Unavailable("not enough memory to hash a password; retry shortly");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_argon2id_STRBYTES) return false;
  return crypto_pwhash_argon2id_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Result<std::string> Seal(std::string_view plain, const std::string& key) {
  if (key.size() != crypto_secretbox_KEYBYTES) return Status::Internal("the secret key has the wrong size");
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), nonce, reinterpret_cast<const unsigned char*>(key.data()));
  std::string out = ToBase64(box);
  sodium_memzero(box.data(), box.size());
  return out;
}

Result<std::string> Open(std::string_view sealed, const std::string& key) {
  if (key.size() != crypto_secretbox_KEYBYTES) return Status::Internal("the secret key has the wrong size");
  LOUPE_ASSIGN_OR_RETURN(std::string box, FromBase64(sealed));
  if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return Status::Corrupt("a sealed secret is too short");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 box.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return Status::Corrupt("a sealed secret does not open with this key (altered, or the key changed)");
  }
  return plain;
}

std::string ToBase64(std::string_view bytes) { return Base64(bytes, sodium_base64_VARIANT_ORIGINAL); }

Result<std::string> FromBase64(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), " \n\r\t",
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::InvalidArgument("not valid base64");
  }
  out.resize(len);
  return out;
}

}  // namespace loupe::auth

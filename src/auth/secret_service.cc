#include "auth/secret_service.h"

#include <sodium.h>

#include "auth/crypto.h"
#include "common/file_util.h"
#include "common/time_util.h"

namespace loupe::auth {

Status ValidateSecretName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Status::InvalidArgument("a secret's name has 1 to 64 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.';
    if (!ok) return Status::InvalidArgument("a secret's name may hold letters, digits, '_', '-' and '.' only");
  }
  return Status::Ok();
}

SecretService::SecretService(SecretStore& store, SecretOptions options) : store_(store), options_(std::move(options)) {}

SecretService::~SecretService() {
  if (!key_.empty()) sodium_memzero(key_.data(), key_.size());
}

Status SecretService::Init() {
  LOUPE_RETURN_IF_ERROR(InitCrypto());
  if (!options_.key_base64.empty()) {
    Result<std::string> key = FromBase64(options_.key_base64);
    if (!key.ok() || key->size() != kSecretKeyBytes) {
      return Status::InvalidArgument("LOUPE_SECRET_KEY must be the base64 of 32 bytes (e.g. `head -c32 /dev/urandom | base64`)");
    }
    key_ = *key;
    return Status::Ok();
  }
  const std::string path = options_.data_dir + "/secret.key";
  Result<std::string> text = ReadFileUpTo(path, 1024);
  if (text.ok()) {
    MakeOwnerOnly(path);  // a key others can read is no key: tightened like local.token
    Result<std::string> key = FromBase64(*text);
    if (!key.ok() || key->size() != kSecretKeyBytes) {
      return Status::Corrupt("the secret key file (secret.key in the data folder) does not hold a 32-byte key");
    }
    key_ = *key;
    return Status::Ok();
  }
  if (text.status().code() != Code::kNotFound) return text.status();
  std::string key(kSecretKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  LOUPE_RETURN_IF_ERROR(WriteFileDurably(path, ToBase64(key) + "\n", "the secret key file", 0600));
  key_ = std::move(key);
  return Status::Ok();
}

Status SecretService::Put(const std::string& name, const std::string& value, const std::string& by) {
  LOUPE_RETURN_IF_ERROR(ValidateSecretName(name));
  // "." and ".." read as path steps in a URL (/api/v1/secrets/.. is /api/v1): such a secret
  // could not be named again to delete it.
  if (name.find_first_not_of('.') == std::string::npos) {
    return Status::InvalidArgument("a secret's name needs a letter, digit, '_' or '-' (not only dots)");
  }
  if (value.empty()) return Status::InvalidArgument("a secret's value cannot be empty");
  if (value.size() > options_.max_value_bytes) {
    return Status::TooLarge("a secret's value has at most " + std::to_string(options_.max_value_bytes) + " bytes");
  }
  if (key_.empty()) return Status::Unavailable("the secret store has no key");
  LOUPE_ASSIGN_OR_RETURN(std::string sealed, Seal(value, key_));
  // Four characters say which key it is without giving away a short one.
  std::string hint = value.size() >= 12 ? value.substr(value.size() - 4) : "";
  return store_.PutSecret({name, sealed, hint, NowMicros(), by}, options_.max_count);
}

Result<std::vector<SealedSecret>> SecretService::List() { return store_.ListSecrets(); }

Status SecretService::Delete(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateSecretName(name));
  return store_.DeleteSecret(name);
}

Result<std::string> SecretService::Reveal(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateSecretName(name));
  if (key_.empty()) return Status::Unavailable("the secret store has no key");
  LOUPE_ASSIGN_OR_RETURN(SealedSecret s, store_.GetSecret(name));
  return Open(s.sealed, key_);
}

}  // namespace loupe::auth

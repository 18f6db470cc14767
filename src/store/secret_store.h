// SecretStore: provider and cloud credentials, sealed before they reach the store
// (auth/secret_service.h encrypts; the store never sees a clear value).
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct SealedSecret {
  std::string name;
  std::string sealed;  // base64 of nonce || ciphertext (libsodium secretbox)
  std::string hint;    // the value's last four characters
  int64_t update_time = 0;
  std::string updated_by;
};

class SecretStore {
 public:
  virtual ~SecretStore() = default;
  // Inserts or replaces; refuses a new name beyond `max_count` secrets.
  virtual Status PutSecret(const SealedSecret& s, int64_t max_count) = 0;
  virtual Result<SealedSecret> GetSecret(const std::string& name) = 0;
  virtual Result<std::vector<SealedSecret>> ListSecrets() = 0;  // `sealed` left empty
  virtual Status DeleteSecret(const std::string& name) = 0;
};

}  // namespace loupe

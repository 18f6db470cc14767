// SecretService: provider and cloud credentials (API keys for model providers, RunPod,
// S3), sealed with libsodium's secretbox before they are stored. The key comes from
// LOUPE_SECRET_KEY (base64 of 32 bytes) or <data-dir>/secret.key (mode 0600, made on
// first start). Values are write-only through the API: lists show a name, the last
// four characters and who set it; only server-side code calls Reveal().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/secret_store.h"

namespace loupe::auth {

struct SecretOptions {
  std::string data_dir = "./data";
  std::string key_base64;  // from LOUPE_SECRET_KEY; empty: the key file
  int64_t max_count = 1000;
  size_t max_value_bytes = 16384;
};

class SecretService {
 public:
  SecretService(SecretStore& store, SecretOptions options);
  ~SecretService();
  [[nodiscard]] Status Init();  // loads or creates the key

  Status Put(const std::string& name, const std::string& value, const std::string& by);
  Result<std::vector<SealedSecret>> List();
  Status Delete(const std::string& name);
  // The clear value, for the server's own outbound calls; never returned by the API.
  Result<std::string> Reveal(const std::string& name);

 private:
  SecretStore& store_;
  SecretOptions options_;
  std::string key_;
};

// A secret's name: 1 to 64 letters, digits, '_', '-', '.'.
Status ValidateSecretName(const std::string& name);

}  // namespace loupe::auth

// A Loupe server as the CLI's commands reach it over HTTP (libcurl): JSON in, the reply's
// "data" out, a non-2xx reply an error with the server's message. The address is --url,
// else LOUPE_URL, else http://127.0.0.1:8080; the credential LOUPE_API_KEY, else, for a
// server on this machine, its local token (found through its runtime file, as the Python
// SDK does), which is then never sent through a proxy.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace loupe::cli {

class ServerClient {
 public:
  // Initialises libcurl once per process.
  static ServerClient For(const std::string& url_flag);
  ServerClient(std::string base, std::string token, bool direct);

  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const nlohmann::json* body = nullptr);
  const std::string& base() const { return base_; }

 private:
  std::string base_;
  std::string token_;
  bool direct_ = false;
};

}  // namespace loupe::cli

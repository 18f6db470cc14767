#include "launch/webhook_sender.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

namespace loupe::launch {

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

WebhookSender::WebhookSender() : thread_([this] { Loop(); }) {}

WebhookSender::~WebhookSender() { Stop(); }

void WebhookSender::Post(std::string url, std::string json_body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= 1000) {
      spdlog::warn("launch: 1,000 budget alerts wait for their webhooks; dropping one for {}", url);
      return;
    }
    queue_.emplace_back(std::move(url), std::move(json_body));
  }
  cv_.notify_one();
}

void WebhookSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int WebhookSender::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

int WebhookSender::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

void WebhookSender::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [url, body] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    CURL* c = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (c) {
      curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
      curl_easy_setopt(c, CURLOPT_URL, url.c_str());
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
      curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
      rc = curl_easy_perform(c);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
      curl_slist_free_all(headers);
      curl_easy_cleanup(c);
    }
    const bool ok = rc == CURLE_OK && status >= 200 && status < 300;
    if (!ok) {
      spdlog::warn("launch: budget alert webhook {} failed: {}", url,
                   rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status));
    }
    lock.lock();
    (ok ? delivered_ : failed_) += 1;
  }
}

}  // namespace loupe::launch

// Posts budget alerts to a job's webhook: JSON bodies sent one after another on a thread of
// its own (libcurl, 10 s per call), so a slow or dead endpoint never holds the supervisor.
// At most 1,000 wait; more are dropped with a warning. Stop() abandons what still waits.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace loupe::launch {

class WebhookSender {
 public:
  WebhookSender();
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void Post(std::string url, std::string json_body);
  void Stop();
  // How many calls answered 2xx, and how many failed, since start (for tests and logs).
  int delivered() const;
  int failed() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool stopping_ = false;
  int delivered_ = 0;
  int failed_ = 0;
  std::thread thread_;
};

}  // namespace loupe::launch

#include "web/stream_workers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loupe {
namespace {

// Collects what a download sends; "reads" at once.
class RecordingStream final : public EventStream {
 public:
  bool Send(std::string data) override {
    std::lock_guard<std::mutex> lock(mu);
    sent += data;
    return true;
  }
  void Close() override {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    cv.notify_all();
  }
  bool WaitBelow(size_t, int64_t) override { return true; }
  bool WaitClosed() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return closed; });
  }
  std::mutex mu;
  std::condition_variable cv;
  std::string sent;
  bool closed = false;
};

TEST(StreamWorkers, ThePlaceIsTakenWhenTheDownloadIsAcceptedNotWhenItOpens) {
  StreamWorkers workers(2);
  auto a = workers.Reserve();
  auto b = workers.Reserve();
  ASSERT_TRUE(a && b);
  // Two accepted downloads whose streams have not opened yet already fill the pool: a third
  // is refused before its headers go out, instead of being answered 200 and then closed.
  EXPECT_EQ(workers.Reserve(), nullptr);
  a.reset();  // the client left before its stream opened: the place comes back
  auto c = workers.Reserve();
  ASSERT_TRUE(c);
  EXPECT_EQ(workers.Reserve(), nullptr);

  auto stream = std::make_shared<RecordingStream>();
  int calls = 0;
  workers.Start(b, stream, [&](std::string& chunk) -> Result<bool> {
    chunk = "line " + std::to_string(++calls) + "\n";
    return calls < 3;
  });
  ASSERT_TRUE(stream->WaitClosed());
  EXPECT_EQ(stream->sent, "line 1\nline 2\nline 3\n");
  b.reset();
  c.reset();
  // Both places are free once the finished worker's thread has ended (the stream closes
  // just before), reaped by the next Reserve.
  std::shared_ptr<StreamWorkers::Slot> d, e;
  for (int i = 0; i < 500 && !(d && e); ++i) {
    if (!d) d = workers.Reserve();
    if (!e) e = workers.Reserve();
    if (!(d && e)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(d && e);
}

TEST(StreamWorkers, AStoppingServerClosesADownloadItHadAccepted) {
  StreamWorkers workers(1);
  auto slot = workers.Reserve();
  ASSERT_TRUE(slot);
  workers.Stop();
  EXPECT_EQ(workers.Reserve(), nullptr);
  auto stream = std::make_shared<RecordingStream>();
  workers.Start(slot, stream, [](std::string& chunk) -> Result<bool> {
    chunk = "never";
    return false;
  });
  EXPECT_TRUE(stream->closed);
  EXPECT_EQ(stream->sent, "");
}

}  // namespace
}  // namespace loupe

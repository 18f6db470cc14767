#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

namespace loupe {

Status ConfigureLogging(const LogOptions& options) {
  spdlog::level::level_enum level = spdlog::level::from_str(options.level);
  // from_str answers "off" for any name it does not know; only "off" itself means off.
  if (level == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument("unknown log level '" + options.level +
                                   "': use trace, debug, info, warn, error or off");
  }
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
  if (!options.file.empty()) {
    // spdlog would create missing folders; a mistyped path should be an error instead.
    std::filesystem::path parent = std::filesystem::path(options.file).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent)) {
      return Status::InvalidArgument("cannot open log file " + options.file + ": " + parent.string() +
                                     " is not a folder");
    }
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    } catch (const spdlog::spdlog_ex& e) {
      return Status::InvalidArgument("cannot open log file " + options.file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("loupe", sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%t] %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  return Status::Ok();
}

bool LogLimiter::Allow(int64_t& held_back) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  if (window_.exchange(now) != now) in_window_ = 0;
  if (in_window_.fetch_add(1) >= per_second_) {
    held_back_++;
    return false;
  }
  held_back = held_back_.exchange(0);
  return true;
}

}  // namespace loupe

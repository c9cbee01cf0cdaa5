#pragma once
// A log sink that keeps every message, for tests of what coloop logs.

#include <coloop/core/log.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace coloop::test {

struct captured {
  log_level level;
  std::string origin;
  std::string text;
};

/// Installs a capturing sink for its life (and restores the default sink and level after).
class capture_sink {
 public:
  capture_sink() { coloop::set_log_sink(&receive, this); }
  ~capture_sink() {
    coloop::set_log_sink(nullptr);
    coloop::set_log_level(log_level::info);
  }
  capture_sink(const capture_sink&) = delete;
  capture_sink& operator=(const capture_sink&) = delete;
  std::vector<captured> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  /// The texts of the messages containing `part`.
  std::vector<std::string> containing(std::string_view part) {
    std::vector<std::string> out;
    for (const captured& c : records()) {
      if (c.text.find(part) != std::string::npos) out.push_back(c.text);
    }
    return out;
  }

 private:
  static void receive(void* self, const coloop::log_record& r) noexcept {
    auto* s = static_cast<capture_sink*>(self);
    std::lock_guard lock(s->mutex_);
    s->records_.push_back({r.level, std::string(r.origin), std::string(r.text)});
  }
  std::mutex mutex_;
  std::vector<captured> records_;
};

}  // namespace coloop::test

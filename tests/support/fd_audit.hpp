#pragma once
// fd leak audit: snapshots the open file descriptors (/proc/self/fd) when constructed and, when
// destroyed (or on check()), fails the current test if the set changed, naming each fd that was
// opened or closed and what it points to. Use it as the first member of a test fixture so it
// outlives everything the test creates.

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

namespace coloop::test {

/// The open fds of this process and their /proc/self/fd link targets (Linux only).
inline std::map<int, std::string> open_fds() {
  std::map<int, std::string> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    ADD_FAILURE() << "fd_audit: cannot open /proc/self/fd";
    return fds;
  }
  const int own = ::dirfd(dir);
  while (const dirent* ent = ::readdir(dir)) {
    const std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    const int fd = std::atoi(name.c_str());
    if (fd == own) continue;
    char target[512];
    const std::string path = "/proc/self/fd/" + name;
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    fds.emplace(fd, n < 0 ? std::string("?") : std::string(target, static_cast<std::size_t>(n)));
  }
  ::closedir(dir);
  return fds;
}

class fd_audit {
 public:
  fd_audit() : start_(open_fds()) {}
  fd_audit(const fd_audit&) = delete;
  fd_audit& operator=(const fd_audit&) = delete;
  ~fd_audit() { check(); }

  /// Fails the current test when the set of open fds differs from the one at construction.
  void check() const {
    const std::map<int, std::string> now = open_fds();
    EXPECT_EQ(now.size(), start_.size()) << "open fd count changed during the test";
    for (const auto& [fd, target] : now) {
      auto it = start_.find(fd);
      EXPECT_TRUE(it != start_.end() && it->second == target)
          << "fd " << fd << " -> " << target << " leaked";
    }
    for (const auto& [fd, target] : start_) {
      EXPECT_TRUE(now.count(fd) == 1) << "fd " << fd << " -> " << target << " closed by the test";
    }
  }

 private:
  std::map<int, std::string> start_;
};

}  // namespace coloop::test

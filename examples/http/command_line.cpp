#include "http/command_line.hpp"

#include <cstdio>
#include <cstdlib>

namespace coloop::http {

void command_line::parse(int argc, char** argv,
                         const std::function<bool(const std::string& flag)>& extra) {
  argc_ = argc;
  argv_ = argv;
  for (i_ = 1; i_ < argc_; ++i_) {
    flag_ = argv_[i_];
    if (flag_ == "--port") {
      port = static_cast<int>(number(0, 65535));
    } else if (flag_ == "--host") {
      host = value();
    } else if (flag_ == "--workers") {
      workers = static_cast<unsigned>(number(1, 1024));
    } else if (flag_ == "--help" || flag_ == "-h") {
      usage("");
    } else if (!extra || !extra(flag_)) {
      usage("unknown argument: " + flag_);
    }
  }
  if (port < 0) usage("--port is required");
}

std::string command_line::value() {
  if (i_ + 1 >= argc_) usage("missing value after " + flag_);
  return argv_[++i_];
}

long command_line::number(long low, long high) {
  const std::string v = value();
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < low || n > high) usage("bad value for " + flag_ + ": " + v);
  return n;
}

void command_line::usage(const std::string& problem) const {
  if (!problem.empty()) std::fprintf(stderr, "%s: %s\n", program_, problem.c_str());
  std::fprintf(stderr, "usage: %s", usage_);
  std::exit(problem.empty() ? 0 : 2);
}

}  // namespace coloop::http

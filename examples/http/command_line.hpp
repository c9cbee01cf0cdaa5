#pragma once
// The command line the HTTP examples share: --port P (required; 0 picks a free port), --host H
// (default 127.0.0.1), --workers N (default 1) and --help, plus each program's own flags. A bad
// or missing value prints "<program>: <problem>" and the usage, and exits with status 2.

#include <functional>
#include <string>

namespace coloop::http {

class command_line {
 public:
  /// `usage`: the text after "usage: ", ending in a newline.
  command_line(const char* program, const char* usage) : program_(program), usage_(usage) {}

  /// Parses argv; a flag not listed above goes to `extra(flag)`, which takes its value with
  /// value() or number() and returns false for a flag it does not know either.
  void parse(int argc, char** argv, const std::function<bool(const std::string& flag)>& extra = {});
  /// The argument after the current flag.
  std::string value();
  /// The argument after the current flag, a decimal number in [low, high].
  long number(long low, long high);
  /// Prints the problem (none: just the usage, for --help) and exits.
  [[noreturn]] void usage(const std::string& problem) const;

  std::string host = "127.0.0.1";
  int port = -1;
  unsigned workers = 1;

 private:
  const char* program_;
  const char* usage_;
  int argc_ = 0;
  char** argv_ = nullptr;
  int i_ = 0;
  std::string flag_;
};

}  // namespace coloop::http

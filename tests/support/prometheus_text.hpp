#pragma once
// Reads Prometheus text exposition (format 0.0.4) back for tests, checking its shape on the way:
// every sample belongs to the family whose HELP and TYPE lines precede it, each family appears
// once, label values are unescaped. Throws std::runtime_error naming the bad line.

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <coloop/core/metrics.hpp>

namespace coloop::test {

struct prom_sample {
  std::string name;  // the sample's name (NAME_total, NAME_bucket, ...)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prom_text {
  std::map<std::string, std::string> types;  // family -> counter | gauge | histogram
  std::map<std::string, std::string> helps;
  std::vector<prom_sample> samples;

  /// Sum of the samples called `name` whose labels include every pair of `match`.
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double s = 0;
    for (const prom_sample& x : samples) {
      if (x.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = x.labels.find(k);
        ok = ok && it != x.labels.end() && it->second == v;
      }
      if (ok) s += x.value;
    }
    return s;
  }
  bool has(const std::string& name) const {
    for (const prom_sample& x : samples) {
      if (x.name == name) return true;
    }
    return false;
  }
};

inline double prom_number(const std::string& s) {
  if (s == "+Inf") return 1.0 / 0.0;
  if (s == "-Inf") return -1.0 / 0.0;
  return std::stod(s);
}

inline prom_text parse_prometheus(const std::string& text) {
  prom_text out;
  std::istringstream in(text);
  std::string line, family;
  auto bad = [&](const char* why) { throw std::runtime_error(std::string(why) + ": " + line); };
  while (std::getline(in, line)) {
    if (line.empty()) bad("empty line");
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      family = rest.substr(0, rest.find(' '));
      if (out.helps.count(family) != 0) bad("family repeated");
      out.helps[family] = rest.substr(family.size() + 1);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      if (rest.substr(0, rest.find(' ')) != family) bad("TYPE without its HELP");
      out.types[family] = rest.substr(family.size() + 1);
      continue;
    }
    prom_sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (s.name.rfind(family, 0) != 0 || family.empty()) bad("sample outside its family");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line.at(i) != '}') {
        const std::size_t eq = line.find('=', i);
        const std::string key = line.substr(i, eq - i);
        i = eq + 1;
        if (line.at(i) != '"') bad("unquoted label value");
        std::string v;
        for (++i; line.at(i) != '"'; ++i) {
          if (line[i] == '\\') {
            const char e = line.at(++i);
            v += e == 'n' ? '\n' : e;
          } else {
            v += line[i];
          }
        }
        ++i;
        if (line.at(i) == ',') ++i;
        s.labels[key] = v;
      }
      ++i;
    }
    if (line.at(i) != ' ') bad("no space before the value");
    s.value = prom_number(line.substr(i + 1));
    out.samples.push_back(std::move(s));
  }
  return out;
}

/// coloop::metrics::write_prometheus() parsed back.
inline prom_text scrape() {
  std::ostringstream os;
  coloop::metrics::write_prometheus(os);
  return parse_prometheus(os.str());
}

}  // namespace coloop::test

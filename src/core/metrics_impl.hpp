#pragma once
// The registry's families (metrics_registry.cpp) and the exposition writer (metrics_text.cpp).

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <coloop/core/metrics.hpp>

#include "core/metrics_source.hpp"

namespace coloop::metrics {

struct registry::impl {
  enum class kind { counter, gauge, histogram };
  static const char* kind_name(kind k) noexcept {
    return k == kind::counter ? "counter" : k == kind::gauge ? "gauge" : "histogram";
  }
  struct series {
    label_set labels;
    std::unique_ptr<metrics::counter> c;
    std::unique_ptr<metrics::gauge> g;
    std::unique_ptr<metrics::histogram> h;
  };
  struct family {
    std::string name;  // as exposed (counters with _total)
    std::string help;
    kind type;
    std::vector<std::unique_ptr<series>> series_list;
  };
  /// The series, made on first use with its metric of kind `k` (a histogram's is `h`).
  series& find_or_add(std::string_view name, std::string_view help, kind k, label_set& labels,
                      std::unique_ptr<metrics::histogram> h = nullptr);
  void collect(detail::metric_writer& out) const;

  mutable std::mutex mutex;
  std::vector<std::unique_ptr<family>> families;
};

}  // namespace coloop::metrics

// The user-facing registry (coloop/core/metrics.hpp): families of series, registered under a
// mutex and never removed while the registry lives, so the references handed out stay valid and
// updates need no lock. Validation follows the Prometheus data model.

#include <coloop/core/metrics.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include "core/metrics_impl.hpp"

namespace coloop::metrics {
namespace {

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

void check_name(std::string_view name, std::string_view what, bool colon) {
  bool ok = !name.empty();
  for (std::size_t i = 0; ok && i < name.size(); ++i) ok = name_char(name[i], i == 0, colon);
  if (!ok) {
    throw std::invalid_argument(fmt::format(
        "coloop::metrics: invalid {} \"{}\" (expected [a-zA-Z_{}][a-zA-Z0-9_{}]*)", what, name,
        colon ? ":" : "", colon ? ":" : ""));
  }
}

void check_labels(std::string_view metric, const label_set& labels, bool is_histogram) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& n = labels[i].first;
    check_name(n, "label name", false);
    if (n.starts_with("__")) {
      throw std::invalid_argument(fmt::format(
          "coloop::metrics: label name \"{}\" of {} starts with __ (reserved)", n, metric));
    }
    if (is_histogram && n == "le") {
      throw std::invalid_argument(fmt::format(
          "coloop::metrics: label name \"le\" of histogram {} is reserved for its buckets",
          metric));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == n) {
        throw std::invalid_argument(
            fmt::format("coloop::metrics: label \"{}\" given twice for {}", n, metric));
      }
    }
  }
}

}  // namespace

void gauge::add(double d) noexcept { v_.fetch_add(d, std::memory_order_relaxed); }

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument(
          "coloop::metrics::histogram: bucket bounds must be finite and strictly increasing");
    }
  }
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) noexcept {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // le: v <= bound
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) n += bucket_count(i);
  return n;
}

std::vector<double> default_latency_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,     10};
}

registry::registry() : impl_(std::make_unique<impl>()) {}
registry::~registry() = default;

registry::impl::series& registry::impl::find_or_add(std::string_view name, std::string_view help,
                                                    kind k, label_set& labels,
                                                    std::unique_ptr<metrics::histogram> h) {
  check_name(name, "metric name", true);
  check_labels(name, labels, k == kind::histogram);
  std::string full(name);
  if (k == kind::counter && !full.ends_with("_total")) full += "_total";
  std::lock_guard lock(mutex);
  auto f = std::find_if(families.begin(), families.end(),
                        [&](const std::unique_ptr<family>& x) { return x->name == full; });
  if (f == families.end()) {
    families.push_back(std::make_unique<family>(family{full, std::string(help), k, {}}));
    f = families.end() - 1;
  } else if ((*f)->type != k) {
    throw std::invalid_argument(fmt::format(
        "coloop::metrics: \"{}\" is already registered as a {}", full, kind_name((*f)->type)));
  }
  for (const std::unique_ptr<series>& s : (*f)->series_list) {
    if (s->labels == labels) return *s;
  }
  auto s = std::make_unique<series>(series{std::move(labels), {}, {}, std::move(h)});
  if (k == kind::counter) s->c = std::make_unique<metrics::counter>();
  if (k == kind::gauge) s->g = std::make_unique<metrics::gauge>();
  (*f)->series_list.push_back(std::move(s));
  return *(*f)->series_list.back();
}

counter& registry::counter(std::string_view name, std::string_view help, label_set labels) {
  return *impl_->find_or_add(name, help, impl::kind::counter, labels).c;
}

gauge& registry::gauge(std::string_view name, std::string_view help, label_set labels) {
  return *impl_->find_or_add(name, help, impl::kind::gauge, labels).g;
}

histogram& registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds, label_set labels) {
  auto h = std::make_unique<metrics::histogram>(std::move(bounds));  // validates first
  return *impl_->find_or_add(name, help, impl::kind::histogram, labels, std::move(h)).h;
}

void registry::impl::collect(detail::metric_writer& out) const {
  std::lock_guard lock(mutex);
  for (const std::unique_ptr<family>& f : families) {
    for (const std::unique_ptr<series>& s : f->series_list) {
      if (s->c) out.counter(f->name, f->help, s->labels, static_cast<double>(s->c->value()));
      if (s->g) out.gauge(f->name, f->help, s->labels, s->g->value());
      if (s->h) {
        std::vector<std::uint64_t> counts(s->h->bounds().size() + 1);
        for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = s->h->bucket_count(i);
        out.histogram(f->name, f->help, s->labels, s->h->bounds(), counts, s->h->sum());
      }
    }
  }
}

registry& default_registry() {
  static registry r;
  return r;
}

}  // namespace coloop::metrics

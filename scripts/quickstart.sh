#!/usr/bin/env bash
# Quick start, from a bare Debian 12 machine to a built and tested tree:
#   ./scripts/quickstart.sh demo   build the release preset, run the examples and the micro benches
#   ./scripts/quickstart.sh test   build and test the release, asan, tsan, clang and portable presets
# CI runs the `test` form (.ci/run), so the dependency install below is what keeps a fresh CI
# machine working: nothing installed by hand survives a machine change.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# No colour when CI=true or when output is not a terminal (logs stay readable).
if [[ "${CI:-}" == "true" || ! -t 1 ]]; then
  bold="" red="" reset=""
  export NO_COLOR=1
else
  bold=$'\e[1m' red=$'\e[31m' reset=$'\e[0m'
fi
say() { printf '%s==> %s%s\n' "$bold" "$*" "$reset"; }
die() { printf '%squickstart: %s%s\n' "$red" "$*" "$reset" >&2; exit 1; }

# Sanitizer runtimes (libasan8, libtsan2, libubsan1) come with g++ via libgcc-12-dev.
# libuv1-dev: coloop's libuv backend (COLOOP_WITH_LIBUV, on when found), which the test suite
# runs every conformance test on; the echo benchmark's raw libuv peer uses it too. liburing-dev:
# the io_uring backend (COLOOP_WITH_IO_URING), likewise.
packages=(cmake ninja-build g++ clang pkg-config python3 libgtest-dev libgmock-dev
  libbenchmark-dev libfmt-dev libuv1-dev liburing-dev libhttp-parser-dev curl
  prometheus)  # promtool: tests/metrics check the metrics exposition with it when installed
# The demo's echo benchmark also runs the peer servers (Asio, asyncio + uvloop) and draws its
# chart with gnuplot; Go and Node join in when they are installed. The HTTP benchmark (wrk) and
# the scheduler benchmark's peers: nginx, Boost.Beast, Go net/http, asyncio/uvloop + httptools,
# and hyper and tokio built offline by cargo from the crates Debian ships. Benchmarks only: the
# test suite needs none of these.
demo_packages=(libasio-dev python3-uvloop gnuplot-nox wrk nginx-light libboost-dev golang-go
  python3-httptools cargo librust-hyper-dev librust-tokio-dev)

install_deps() {
  if ! command -v dpkg-query >/dev/null; then
    say "not a Debian system: make sure these are installed: ${packages[*]}"
    return
  fi
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null \
      || die "missing packages (${missing[*]}) and not root, no sudo: install them as root"
    sudo=(sudo)
    [[ "${CI:-}" == "true" ]] && sudo=(sudo -n)  # fail instead of prompting for a password
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  # nginx and prometheus ship daemons that listen on every interface: a policy-rc.d that says
  # no keeps them from starting, for this install only, where the machine has none of its own.
  local policy=/usr/sbin/policy-rc.d added_policy=0 status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" || status=$?
  [[ $added_policy -eq 1 ]] && "${sudo[@]}" rm -f "$policy"
  [[ $status -eq 0 ]] || die "apt-get install failed ($status)"
}

build() {
  say "configure + build preset $1"
  cmake --preset "$1" && cmake --build --preset "$1"
}

# Totals over all presets, from ctest's own "N% tests passed, F tests failed out of T" line.
passed=0 failed=0
summary() { echo "${passed} passed, ${failed} failed"; }

run_ctest() {
  local preset=$1; shift
  local log rc line total fail
  log=$(mktemp)
  say "ctest preset ${preset} $*"
  set +e
  ctest --preset "$preset" -j2 "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  rm -f "$log"
  if [[ -n "$line" ]]; then
    fail=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + total - fail))
    failed=$((failed + fail))
  elif [[ $rc -ne 0 ]]; then
    failed=$((failed + 1))  # ctest died before its summary: count the run as one failure
  fi
  if [[ $rc -ne 0 ]]; then
    printf '%squickstart: ctest failed for preset %s%s\n' "$red" "$preset" "$reset" >&2
    summary
    exit 1
  fi
}

cmd_test() {
  install_deps
  local preset
  for preset in release asan tsan clang portable; do
    if ! build "$preset"; then
      # Count a broken build as a failure so the closing line never reads "0 failed" on a red run.
      failed=$((failed + 1))
      printf '%squickstart: build failed for preset %s%s\n' "$red" "$preset" "$reset" >&2
      summary
      exit 1
    fi
    case $preset in
      release) run_ctest release ;;                              # everything, install tests too
      asan) run_ctest asan -LE "install|docs|compile" ;;         # packaging, doc and compile checks: not here
      tsan)  # TSan only matters with threads: the threaded suites, and every conformance
             # test's runtime flavours (Suite.Test/epoll_mt2, ...), wherever its suite is labelled
        run_ctest tsan -L threaded -LE 'install|docs' -E '_mt[0-9]+$'
        run_ctest tsan -R '_mt[0-9]+$' -LE 'install|docs' ;;
      clang) run_ctest clang -LE "install|docs" ;;              # the second compiler (DESIGN §9)
      # COLOOP_PORTABLE_FALLBACKS=ON: the OS calls macOS and the BSDs run (src/runtime/os/)
      portable) run_ctest portable -LE "install|docs|compile" ;;
    esac
  done
  summary
}

cmd_demo() {
  packages+=("${demo_packages[@]}")
  install_deps
  build release
  local example
  for example in hello timeouts; do
    say "build/release/examples/$example"
    "build/release/examples/$example"
  done
  say "echo benchmark: coloop's echo_server and its peers under load (one short round; the full run is python3 bench/echo/run.py)"
  python3 bench/echo/run.py --build build/release --quick --points 100x64,1x64
  local json=build/release/bench/micro.json
  say "micro benchmarks (median of 3, pinned to CPU 0; JSON in $json)"
  # Pinned so the table is comparable run to run (BENCHMARKS.md); taskset is in util-linux.
  local pin=()
  command -v taskset >/dev/null && pin=(taskset -c 0)
  "${pin[@]}" python3 bench/micro_report.py build/release/bench/coloop_bench "$json"
}

case "${1:-}" in
  demo) cmd_demo ;;
  test) cmd_test ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

# Self-test of the layering lint: cmake -DWORK_DIR=<scratch dir> -P check_layering_selftest.cmake
# Builds small source trees in WORK_DIR, one violation each, runs check_layering.cmake on them and
# expects it to fail naming the violation; a clean tree must pass. Fails on the first mismatch.
cmake_minimum_required(VERSION 3.22)
if(NOT WORK_DIR)
  message(FATAL_ERROR "pass -DWORK_DIR=<scratch directory>")
endif()
set(lint "${CMAKE_CURRENT_LIST_DIR}/check_layering.cmake")

# A clean tree: every layer of the table includes only what it may.
function(write_clean_tree root)
  file(REMOVE_RECURSE "${root}")
  file(WRITE "${root}/include/coloop/detail/scheduler.hpp" "#pragma once\n// layer: core\n")
  file(WRITE "${root}/include/coloop/detail/io_op.hpp" "#pragma once\n// layer: runtime\n")
  file(WRITE "${root}/include/coloop/core/task.hpp"
    "#pragma once\n#include <coloop/detail/scheduler.hpp>\n")
  file(WRITE "${root}/include/coloop/runtime/sleep.hpp"
    "#pragma once\n#include <coloop/core/task.hpp>\n#include <coloop/detail/io_op.hpp>\n")
  file(WRITE "${root}/src/runtime/loop_core.hpp" "#pragma once\n#include <coloop/core/task.hpp>\n")
  file(WRITE "${root}/src/sync/wait_list.hpp"
    "#pragma once\n#include <coloop/detail/scheduler.hpp>\n")
  file(WRITE "${root}/src/net/server.cpp"
    "#include \"runtime/loop_core.hpp\"\n#include \"sync/wait_list.hpp\"\n")
  file(WRITE "${root}/src/process/signal_set.cpp" "#include <coloop/runtime/sleep.hpp>\n")
  file(WRITE "${root}/include/coloop/coloop.hpp" "#pragma once\n#include <coloop/net/tcp.hpp>\n")
  file(WRITE "${root}/include/coloop/net/tcp.hpp" "#pragma once\n#include <coloop/runtime/sleep.hpp>\n")
endfunction()

# Runs the lint on `root`; `expect` is "pass" or a regex its output must match as it fails.
function(expect_lint name root expect)
  execute_process(COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${root}" -P "${lint}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(expect STREQUAL "pass")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${name}: the clean tree should pass the lint:\n${out}")
    endif()
  elseif(rc EQUAL 0)
    message(FATAL_ERROR "${name}: the lint passed a tree with a violation:\n${out}")
  elseif(NOT out MATCHES "${expect}")
    message(FATAL_ERROR "${name}: the lint failed without naming \"${expect}\":\n${out}")
  endif()
  message(STATUS "${name}: ok")
endfunction()

set(root "${WORK_DIR}/tree")
write_clean_tree("${root}")
expect_lint(clean "${root}" pass)

# Each case: a file (relative to the tree) and its text, and what the lint must report.
set(cases
  "public_upward|include/coloop/runtime/bad.hpp|#include <coloop/net/tcp.hpp>|include/coloop/runtime/bad.hpp:1: runtime includes net header coloop/net/tcp.hpp"
  "private_upward|src/sync/bad.cpp|#include \"runtime/loop_core.hpp\"|src/sync/bad.cpp:1: sync includes runtime header runtime/loop_core.hpp .sync may use core."
  "relative_escape|src/runtime/bad.cpp|#include \"../net/server.cpp\"|src/runtime/bad.cpp:1: runtime includes net header"
  "sibling|src/net/bad.cpp|#include <coloop/process/signal_set.hpp>|"
  "detail_upward|include/coloop/core/bad.hpp|#include <coloop/detail/io_op.hpp>|core includes runtime header coloop/detail/io_op.hpp .core may use no other layer."
  "detail_untagged|include/coloop/detail/bad.hpp|#pragma once|include/coloop/detail/bad.hpp:1: detail header without a .// layer: NAME. tag"
  "detail_bad_tag|include/coloop/detail/bad.hpp|// layer: services|tagged with .services., which is not a layer"
  "unknown_layer|include/coloop/services/pool.hpp|#pragma once|include/coloop/services/pool.hpp:1: not in a layer"
  "umbrella|include/coloop/net/bad.hpp|#include <coloop/coloop.hpp>|net includes the umbrella header"
  "os_header|include/coloop/core/bad.hpp|#include <sys/epoll.h>|OS/backend header <sys/epoll.h> in a public header")
foreach(c IN LISTS cases)
  string(REPLACE "|" ";" f "${c}")
  list(GET f 0 name)
  list(GET f 1 file)
  list(GET f 2 text)
  list(LENGTH f nf)
  set(expect "")
  if(nf GREATER 3)
    list(GET f 3 expect)
  endif()
  if(name STREQUAL "sibling")  # net may not include process, the layer above it
    file(WRITE "${root}/include/coloop/process/signal_set.hpp" "#pragma once\n")
    set(expect "src/net/bad.cpp:1: net includes process header coloop/process/signal_set.hpp")
  endif()
  file(WRITE "${root}/${file}" "${text}\n")
  expect_lint(${name} "${root}" "${expect}")
  write_clean_tree("${root}")
endforeach()
file(REMOVE_RECURSE "${root}")
message(STATUS "layering lint self-test: every violation caught")

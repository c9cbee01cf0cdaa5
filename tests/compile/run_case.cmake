# Runs one misuse case: cmake -DCXX=... -DSOURCE=... -DCASE=... -DEXPECT=pass|fail
#   [-DMATCH=<regex the diagnostic must contain>] -DINCLUDES="dir|dir" -P this-file.
# One compiler invocation with -fsyntax-only; the nodiscard warnings are made errors.
cmake_minimum_required(VERSION 3.22)

string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(include_flags "")
foreach(dir IN LISTS include_dirs)
  list(APPEND include_flags "-I${dir}")
endforeach()
# g++ reports a discarded [[nodiscard]] value under -Wunused-result, clang under -Wunused-value.
execute_process(
  COMMAND "${CXX}" -std=c++20 -fsyntax-only -Werror=unused-result -Werror=unused-value
    ${include_flags} "-DCOLOOP_CASE_${CASE}" "${SOURCE}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)

if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "case ${CASE} should compile cleanly but failed:\n${out}")
  endif()
  message(STATUS "case ${CASE} compiled cleanly")
elseif(rc EQUAL 0)
  message(FATAL_ERROR "case ${CASE} compiled, but this misuse must be a compile error")
elseif(MATCH AND NOT out MATCHES "${MATCH}")
  message(FATAL_ERROR "case ${CASE} failed, but the diagnostic lacks \"${MATCH}\":\n${out}")
else()
  message(STATUS "case ${CASE} failed as expected")
endif()

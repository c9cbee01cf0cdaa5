# Runs one consumer test: cmake -DMODE=find_package|add_subdirectory|pkg_config ... -P this-file.
# A CMake script rather than a shell script so it needs nothing ctest does not already have.
# Inputs (all set by tests/install/CMakeLists.txt): MODE SOURCE_DIR BUILD_DIR CONSUMER_DIR WORK_DIR
# GENERATOR MAKE_PROGRAM CXX CONFIG LIBDIR PKG_CONFIG.
cmake_minimum_required(VERSION 3.22)

function(run)
  list(JOIN ARGN " " shown)
  message(STATUS "+ ${shown}")
  execute_process(COMMAND ${ARGN} COMMAND_ERROR_IS_FATAL ANY)
endfunction()

# Start clean each time: a leftover prefix or cache could hide a broken install rule.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
# Lets a shared libcoloop be found at run time; harmless for the default static build.
set(ENV{LD_LIBRARY_PATH} "${prefix}/${LIBDIR}:$ENV{LD_LIBRARY_PATH}")

if(MODE STREQUAL "find_package" OR MODE STREQUAL "pkg_config")
  # Install elsewhere, then move the tree: proves the config and .pc files are relocatable.
  run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/staging" ${config_args})
  file(RENAME "${WORK_DIR}/staging" "${prefix}")
endif()

if(MODE STREQUAL "find_package" OR MODE STREQUAL "add_subdirectory")
  # Same generator, build type and compiler as the outer build, so a pass means the same setup.
  run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}" "-DCMAKE_CXX_COMPILER=${CXX}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCOLOOP_SOURCE_TREE=${SOURCE_DIR}")
  if(MODE STREQUAL "find_package")
    # A coloop already installed in /usr/local must not satisfy the test in place of ours.
    file(STRINGS "${WORK_DIR}/build/CMakeCache.txt" found REGEX "^coloop_DIR:")
    string(FIND "${found}" "=${prefix}/" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "find_package used the wrong coloop: ${found}")
    endif()
  endif()
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" ${config_args})
  set(exe "${WORK_DIR}/build/consumer")
  if(NOT EXISTS "${exe}")
    set(exe "${WORK_DIR}/build/${CONFIG}/consumer")  # multi-config generators
  endif()
  run("${exe}")
elseif(MODE STREQUAL "pkg_config")
  # Only our prefix is added: fmt.pc still comes from the system search path.
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
  # Both the plain and the --static query must link, whether libcoloop is static or shared.
  foreach(variant plain static)
    set(static_flag "")
    if(variant STREQUAL "static")
      set(static_flag --static)
    endif()
    execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs ${static_flag} coloop
      OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
    separate_arguments(flags UNIX_COMMAND "${flags}")
    run("${CXX}" "${CONSUMER_DIR}/main.cpp" ${flags} -o "${WORK_DIR}/consumer_${variant}")
    run("${WORK_DIR}/consumer_${variant}")
  endforeach()
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

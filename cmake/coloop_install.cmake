# Install rules: what find_package(coloop), pkg-config and a plain -I/-l consumer need.
# Everything installed is relocatable (no absolute prefix baked in), so a tree installed with
# `cmake --install --prefix X` can be moved or unpacked elsewhere; tests/install checks this.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Off by default under add_subdirectory (like fmt/spdlog): a parent that vendors coloop should not
# find coloop's headers and archive in its own install tree unless it asks for them.
option(COLOOP_INSTALL "Generate coloop's install rules" ${PROJECT_IS_TOP_LEVEL})
if(NOT COLOOP_INSTALL)
  return()
endif()

set(COLOOP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/coloop" CACHE STRING
  "Where coloop-config.cmake is installed, relative to the prefix")

# The include directory comes from the target's INSTALL_INTERFACE, so no INCLUDES DESTINATION.
install(TARGETS coloop EXPORT coloopTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/coloop" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_BINARY_DIR}/include/coloop/version.hpp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/coloop")
install(EXPORT coloopTargets NAMESPACE coloop:: DESTINATION "${COLOOP_INSTALL_CMAKEDIR}")

# A static libcoloop.a leaves fmt's symbols for the final link to resolve; a shared one does not,
# so only a static build makes fmt a dependency of its consumers (config and .pc alike).
get_target_property(_coloop_type coloop TYPE)
if(_coloop_type STREQUAL "STATIC_LIBRARY")
  set(COLOOP_STATIC ON)
else()
  set(COLOOP_STATIC OFF)
endif()

configure_package_config_file(cmake/coloop-config.cmake.in
  "${PROJECT_BINARY_DIR}/coloop-config.cmake"
  INSTALL_DESTINATION "${COLOOP_INSTALL_CMAKEDIR}")
# 0.x is pre-1.0: SameMajorVersion makes any 0.y satisfy "0.1"; tighten at 1.0 if ABI breaks then.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/coloop-config-version.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/coloop-config.cmake"
  "${PROJECT_BINARY_DIR}/coloop-config-version.cmake"
  DESTINATION "${COLOOP_INSTALL_CMAKEDIR}")

# pkg-config: the prefix is found from the .pc's own location (${pcfiledir}) so the file stays
# right after relocation. The path back up depends on how deep LIBDIR is (lib vs lib/<multiarch>).
set(_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(COLOOP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")  # absolute LIBDIR: cannot be relocatable
  set(COLOOP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _up "/root/${_pc_dir}" "/root")
  string(REGEX REPLACE "/$" "" _up "${_up}")
  set(COLOOP_PC_PREFIX "\${pcfiledir}/${_up}")
  set(COLOOP_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(COLOOP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(COLOOP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# Plain `pkg-config --libs` ignores the .private fields, so what a static archive needs at link
# time (fmt, -pthread) must be public for a static build and only private for a shared one.
set(COLOOP_PC_LIBS "-L\${libdir} -lcoloop")
if(COLOOP_SANITIZE)
  # A sanitized archive references the sanitizer runtime; the consumer's link must pull it in.
  string(APPEND COLOOP_PC_LIBS " -fsanitize=${COLOOP_SANITIZE}")
endif()
# The libuv backend's dependency follows fmt's: libuv.pc gives -luv and what it needs itself.
set(_pc_deps "fmt")
if(COLOOP_WITH_LIBUV)
  string(APPEND _pc_deps " libuv")
endif()
if(COLOOP_WITH_IO_URING)
  string(APPEND _pc_deps " liburing")
endif()
if(COLOOP_STATIC)
  set(COLOOP_PC_REQUIRES "${_pc_deps}")
  set(COLOOP_PC_REQUIRES_PRIVATE "")
  string(APPEND COLOOP_PC_LIBS " -pthread")
  set(COLOOP_PC_LIBS_PRIVATE "")
else()
  set(COLOOP_PC_REQUIRES "")
  set(COLOOP_PC_REQUIRES_PRIVATE "${_pc_deps}")
  set(COLOOP_PC_LIBS_PRIVATE "-pthread")
endif()
configure_file(cmake/coloop.pc.in "${PROJECT_BINARY_DIR}/coloop.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/coloop.pc" DESTINATION "${_pc_dir}")

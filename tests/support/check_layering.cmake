# Layering lint (DESIGN.md §1), run as: cmake -DSOURCE_DIR=<tree> -P check_layering.cmake
# The build already compiles each layer against only its own and its lower layers' headers (see
# cmake/coloop_layers.cmake), which catches an upward include in any header a layer's .cpp
# reaches. This lint covers the rest: a header no .cpp of its layer includes yet, a quoted
# relative path that escapes its folder, a detail/ header without a layer, an OS header in
# include/. It runs at every build (target coloop_layering) and as the ctest `layering`.
# Prints every violation as file:line and fails if there is any.
cmake_minimum_required(VERSION 3.22)
if(NOT SOURCE_DIR)
  get_filename_component(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
# The table of this checkout, whatever tree is scanned (the self-test scans a scratch tree).
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/coloop_layers.cmake")

# Public headers must stay portable and backend-agnostic: consumers compile them everywhere.
set(os_header_re "^(sys/.*|unistd\\.h|fcntl\\.h|uv\\.h|liburing\\.h|netinet/.*|arpa/.*|signal\\.h|pthread\\.h|poll\\.h)$")

# Layer of a repo-relative path, or "" for files outside the layered tree. The umbrella header
# is "top": nothing inside the library may include it. A detail/ header has the layer of its
# `// layer:` tag ("untagged" without one); a folder of include/coloop/ that is no layer of the
# table is "unknown". src/ folders that are no layer (helpers shared by all) are unchecked.
function(layer_of rel out)
  set(layer "")
  if(rel STREQUAL "include/coloop/coloop.hpp")
    set(layer top)
  elseif(rel STREQUAL "include/coloop/version.hpp")
    set(layer "")
  elseif(rel MATCHES "^include/coloop/detail/")
    coloop_detail_layer("${SOURCE_DIR}/${rel}" layer)
    if(layer STREQUAL "")
      set(layer untagged)
    endif()
  elseif(rel MATCHES "^src/backend/")
    set(layer runtime)  # backends implement the runtime's private reactor interface
  elseif(rel MATCHES "^(include/coloop|src)/([^/]+)/")
    if(CMAKE_MATCH_2 IN_LIST COLOOP_LAYERS)
      set(layer ${CMAKE_MATCH_2})
    elseif(CMAKE_MATCH_1 STREQUAL "include/coloop")
      set(layer unknown)
    endif()
  endif()
  set(${out} "${layer}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}" LIST_DIRECTORIES false
  "${SOURCE_DIR}/include/*" "${SOURCE_DIR}/src/*")
list(JOIN COLOOP_LAYERS ", " all_layers)
set(violations 0)
foreach(rel IN LISTS files)
  if(NOT rel MATCHES "\\.(h|hh|hpp|hxx|ipp|inl|tpp|c|cc|cpp|cxx)$")
    continue()
  endif()
  layer_of("${rel}" self)
  if(self STREQUAL "untagged")
    message("${rel}:1: detail header without a `// layer: NAME` tag on its first lines")
    math(EXPR violations "${violations} + 1")
    continue()
  elseif(self STREQUAL "unknown")
    message("${rel}:1: not in a layer of cmake/coloop_layers.cmake (${all_layers})")
    math(EXPR violations "${violations} + 1")
    continue()
  elseif(self AND NOT self STREQUAL "top" AND NOT self IN_LIST COLOOP_LAYERS)
    message("${rel}:1: tagged with `${self}`, which is not a layer (${all_layers})")
    math(EXPR violations "${violations} + 1")
    continue()
  endif()
  get_filename_component(dir "${rel}" DIRECTORY)
  file(READ "${SOURCE_DIR}/${rel}" text)
  # Turn the file into a CMake list of lines; ; [ ] and \ would otherwise split or glue elements.
  string(REGEX REPLACE "[][;\\\\]" " " text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
      continue()
    endif()
    set(quoted "${CMAKE_MATCH_1}")
    set(inc "${CMAKE_MATCH_2}")
    if(rel MATCHES "^include/" AND inc MATCHES "${os_header_re}")
      message("${rel}:${n}: OS/backend header <${inc}> in a public header")
      math(EXPR violations "${violations} + 1")
      continue()
    endif()
    if(self STREQUAL "" OR self STREQUAL "top")
      continue()  # coloop.hpp, version.hpp and unlayered files may include anything
    endif()
    # Resolve the include to a repo path: public <coloop/...>, a quoted path relative to the
    # including file, or a private header relative to src/ (the library's private include dir).
    set(target "")
    if(inc MATCHES "^coloop/")
      set(target "include/${inc}")
    elseif(quoted STREQUAL "\"" AND EXISTS "${SOURCE_DIR}/${dir}/${inc}")
      get_filename_component(abs "${SOURCE_DIR}/${dir}/${inc}" ABSOLUTE)
      file(RELATIVE_PATH target "${SOURCE_DIR}" "${abs}")
    elseif(EXISTS "${SOURCE_DIR}/src/${inc}")
      set(target "src/${inc}")
    endif()
    if(target STREQUAL "")
      continue()
    endif()
    layer_of("${target}" other)
    if(other STREQUAL "" OR other STREQUAL self OR other IN_LIST COLOOP_LAYER_USES_${self}
       OR other STREQUAL "untagged" OR other STREQUAL "unknown")  # reported at that file
      continue()
    endif()
    if(other STREQUAL "top")
      set(other "the umbrella")
    endif()
    list(JOIN COLOOP_LAYER_USES_${self} ", " may)
    if(may STREQUAL "")
      set(may "no other layer")
    endif()
    message("${rel}:${n}: ${self} includes ${other} header ${inc} (${self} may use ${may})")
    math(EXPR violations "${violations} + 1")
  endforeach()
endforeach()

list(LENGTH files scanned)
if(violations GREATER 0)
  message(FATAL_ERROR "layering: ${violations} violation(s) (see DESIGN.md §1)")
endif()
message("layering: ok (${scanned} files under include/ and src/)")

# The layers (DESIGN.md §1) and what each may use: the one table that both the build (each
# layer's OBJECT library links exactly these and sees only their headers) and the layering lint
# (tests/support/check_layering.cmake) read. Only layers that exist are listed; `uses` is the
# whole set a layer may include, not just the next one down, so the lint needs no closure.
# process sits above net (its subprocess pipes are net's stream_reader / stream_writer); net and
# fs are siblings, as are process and fs: none of those may include the other.
set(COLOOP_LAYERS core runtime sync executor io net process fs)
set(COLOOP_LAYER_USES_core "")
set(COLOOP_LAYER_USES_runtime core)
set(COLOOP_LAYER_USES_sync core)  # only the abstract scheduler and cancellation: no loop, no OS
set(COLOOP_LAYER_USES_executor core)
# io: async_fd, the public face of the runtime's fd registration and readiness/completion
# operations (src/runtime/io/), which the backends below the runtime need and so stay there.
set(COLOOP_LAYER_USES_io core runtime)
set(COLOOP_LAYER_USES_net core runtime sync executor io)
set(COLOOP_LAYER_USES_process core runtime sync executor io net)
# fs: files; io_uring SQEs through the runtime's reactor (start_file_op), else the executor's
# default pool. A sibling of net and process.
set(COLOOP_LAYER_USES_fs core runtime executor io)

# Layer of a header of include/coloop/detail/, from the `// layer: NAME` tag on one of its first
# lines: detail/ is shared by every layer, so a header's name or folder cannot tell. "" if the
# header has no tag (the lint reports that).
function(coloop_detail_layer file out)
  file(STRINGS "${file}" tag LIMIT_COUNT 1 LIMIT_INPUT 400 REGEX "^// layer: [a-z_]+")
  set(layer "")
  if(tag MATCHES "^// layer: ([a-z_]+)")
    set(layer "${CMAKE_MATCH_1}")
  endif()
  set(${out} "${layer}" PARENT_SCOPE)
endfunction()

# Where the build stages the headers a layer may include (coloop_stage_layer in the top
# CMakeLists.txt): the include directories a TU of `layer` compiles with, lowest first.
function(coloop_layer_include_dirs binary_dir layer out)
  set(dirs "${binary_dir}/include")  # version.hpp, generated
  foreach(l IN LISTS COLOOP_LAYER_USES_${layer} ITEMS ${layer})
    list(APPEND dirs "${binary_dir}/layers/${l}/include" "${binary_dir}/layers/${l}/src")
  endforeach()
  list(APPEND dirs "${binary_dir}/layers/unlayered/src")
  set(${out} "${dirs}" PARENT_SCOPE)
endfunction()

# Stages (symlinks, or copies where links fail) the headers of `layer` under
# <binary_dir>/layers/<layer>/: include/coloop/<layer>/, the detail/ headers tagged with it, and
# its private src/<layer>/ headers (src/backend/ for runtime). The pseudo-layer `unlayered` takes
# the src/ folders that are no layer, which every layer sees. Headers added or removed, or a
# detail/ tag changed, re-run CMake (CONFIGURE_DEPENDS and the directory property below).
function(coloop_stage_layer source_dir binary_dir layer)
  set(root "${binary_dir}/layers/${layer}")
  file(REMOVE_RECURSE "${root}")
  set(globs "${source_dir}/include/coloop/${layer}/*" "${source_dir}/src/${layer}/*")
  if(layer STREQUAL "runtime")
    list(APPEND globs "${source_dir}/src/backend/*")  # backends implement the runtime's reactor
  elseif(layer STREQUAL "unlayered")
    file(GLOB dirs CONFIGURE_DEPENDS LIST_DIRECTORIES true RELATIVE "${source_dir}/src"
      "${source_dir}/src/*")
    set(globs "")
    foreach(d IN LISTS dirs)
      if(IS_DIRECTORY "${source_dir}/src/${d}" AND NOT d IN_LIST COLOOP_LAYERS
         AND NOT d STREQUAL "backend")
        list(APPEND globs "${source_dir}/src/${d}/*")
      endif()
    endforeach()
  endif()
  set(files "")
  if(globs)
    file(GLOB_RECURSE files CONFIGURE_DEPENDS LIST_DIRECTORIES false ${globs})
  endif()
  file(GLOB details CONFIGURE_DEPENDS "${source_dir}/include/coloop/detail/*.hpp")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${details})
  foreach(f IN LISTS details)
    coloop_detail_layer("${f}" l)
    if(l STREQUAL layer)
      list(APPEND files "${f}")
    endif()
  endforeach()
  foreach(f IN LISTS files)
    if(NOT f MATCHES "\\.(h|hh|hpp|hxx|ipp|inl|tpp)$")
      continue()
    endif()
    file(RELATIVE_PATH rel "${source_dir}" "${f}")
    get_filename_component(dir "${root}/${rel}" DIRECTORY)
    file(MAKE_DIRECTORY "${dir}")
    file(CREATE_LINK "${f}" "${root}/${rel}" COPY_ON_ERROR SYMBOLIC)
  endforeach()
endfunction()

# The layering lint (tests/support/check_layering.cmake) as a build step: target coloop_layering,
# which `coloop` depends on, fails the build on a violation. It reruns when a file under include/
# or src/, the table or the lint changes; it takes well under a second.
function(coloop_add_layering_check target)
  set(lint "${PROJECT_SOURCE_DIR}/tests/support/check_layering.cmake")
  file(GLOB_RECURSE files CONFIGURE_DEPENDS
    "${PROJECT_SOURCE_DIR}/include/*" "${PROJECT_SOURCE_DIR}/src/*")
  set(stamp "${PROJECT_BINARY_DIR}/layers/layering.stamp")
  add_custom_command(OUTPUT "${stamp}"
    COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}" -P "${lint}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
    DEPENDS ${files} "${lint}" "${PROJECT_SOURCE_DIR}/cmake/coloop_layers.cmake"
    COMMENT "Checking the layering (DESIGN.md §1)" VERBATIM)
  add_custom_target(coloop_layering DEPENDS "${stamp}")
  add_dependencies(${target} coloop_layering)
endfunction()

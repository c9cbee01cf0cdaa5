# COLOOP_SANITIZE applies to every coloop target (library, tests, benches, examples).
function(coloop_set_sanitizers target)
  if(COLOOP_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${COLOOP_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
    target_link_options(${target} PUBLIC -fsanitize=${COLOOP_SANITIZE})
  endif()
endfunction()

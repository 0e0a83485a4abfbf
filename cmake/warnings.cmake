# One INTERFACE target carries the warning flags; every project target links it.
# -Werror only when CI is set, so that a new compiler's warning never blocks a local build.
add_library(eventfeed_warnings INTERFACE)
target_compile_options(eventfeed_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 reports Asio's coroutine-frame operator delete as mismatched at -O2: a false positive.
  -Wno-mismatched-new-delete)
if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
  target_compile_options(eventfeed_warnings INTERFACE -Werror)
endif()

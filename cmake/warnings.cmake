# One INTERFACE target carries the warning flags; every project target links it.
# -Werror only when CI is set, so that a new compiler's warning never blocks a local build.
add_library(eventfeed_warnings INTERFACE)
target_compile_options(eventfeed_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
  target_compile_options(eventfeed_warnings INTERFACE -Werror)
endif()

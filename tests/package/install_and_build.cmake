# tests/package/install_and_build.cmake (cmake -P): the installed package works for a project
# outside the tree. Installs the build in BINARY_DIR into a scratch prefix under WORK_DIR, then
# configures and builds EXAMPLE_DIR (examples/client: the plain and the async example) against
# that prefix alone with find_package(eventfeed), and runs each without arguments (it prints its
# usage and exits 2), which proves it links and starts; and checks that DOC_FILE (docs/client.md) shows
# the example as it is. CXX_FLAGS and LINK_FLAGS carry the sanitizer flags
# of the build under test, since the installed library was compiled with them.
foreach(var BINARY_DIR EXAMPLE_DIR WORK_DIR DOC_FILE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
endfunction()

# docs/client.md shows the example verbatim; a change to one without the other fails here.
file(READ ${EXAMPLE_DIR}/follow_room.cpp example_text)
file(READ ${DOC_FILE} doc_text)
string(FIND "${doc_text}" "${example_text}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${DOC_FILE} does not show ${EXAMPLE_DIR}/follow_room.cpp as it is")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run("cmake --install" ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
foreach(installed include/eventfeed/client.hpp include/eventfeed/follow.hpp
    include/eventfeed/follow_async.hpp lib/cmake/eventfeed/eventfeedConfig.cmake)
  if(NOT EXISTS ${prefix}/${installed})
    message(FATAL_ERROR "not installed: ${installed}")
  endif()
endforeach()
# The plain headers must not need Boost: an outside program includes them with no Boost
# include path (Boost's own headers are on the system path here, so look for the includes).
foreach(header client.hpp follow.hpp)
  file(STRINGS ${prefix}/include/eventfeed/${header} boost_includes REGEX "#include <boost/")
  if(boost_includes)
    message(FATAL_ERROR "include/eventfeed/${header} includes Boost: ${boost_includes}")
  endif()
endforeach()
run("configuring the example" ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
run("building the example" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
foreach(example follow_room follow_room_async)
  execute_process(COMMAND ${WORK_DIR}/build/${example} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "usage: ${example} ")
    message(FATAL_ERROR "${example} did not start as expected (${rc}): ${err}")
  endif()
endforeach()
message(STATUS "installed into ${prefix}; examples/client built and started against it")

# CTest `test_suites_registered`: every suite the embq_tests binary holds has a CTest test
# of its own (tests/CMakeLists.txt reads them from TEST(...) lines), so no test case is
# silently left out of `ctest`. Run as: cmake -DTESTS=<binary> "-DSUITES=<a;b;...>" -P this
cmake_minimum_required(VERSION 3.18)
execute_process(COMMAND ${TESTS} --gtest_list_tests OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TESTS} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(missing)
foreach(line IN LISTS lines)
  # Suite lines start at column 0 and end in '.'; a TEST_P suite is listed as Prefix/Suite.
  if(line MATCHES "^([A-Za-z0-9_]+/)?([A-Za-z0-9_]+)\\.")
    set(suite ${CMAKE_MATCH_2})
    if(NOT suite IN_LIST SUITES)
      list(APPEND missing ${suite})
    endif()
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "suites without a CTest test: ${missing} (is their TEST( line unusual?)")
endif()
list(LENGTH SUITES count)
message(STATUS "all ${count} suites are registered")

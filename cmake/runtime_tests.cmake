# The runtime tests (tests/runtime/): what needs only the runtime and its backends, run on the test
# models that a full build compiled (tests/runtime/compile_test_models.py): every model on every
# backend against PyTorch, tiled == full, session errors, damaged .tsr files. They build for any CPU:
# make test-arm64 cross-builds them for aarch64 and runs them under qemu-aarch64 (docs/arm64.md).
find_package(GTest REQUIRED)
find_package(nlohmann_json REQUIRED)
enable_testing()

# A full build makes its own test data; a runtime-only build (another CPU) reads a full build's.
if(TARGET compiled_testdata)
  set(RUNTIME_TESTDATA ${CMAKE_BINARY_DIR}/testdata)
else()
  set(TESSERA_TESTDATA_DIR "" CACHE PATH "the testdata/ folder of a full build (make test-arm64 sets it)")
  if(NOT EXISTS "${TESSERA_TESTDATA_DIR}/compiled/manifest.json")
    message(FATAL_ERROR "the runtime tests load test models compiled by a full build: build its "
                        "compiled_testdata target and configure with -DTESSERA_TESTDATA_DIR=<that build>/testdata, "
                        "or with -DTESSERA_BUILD_TESTS=OFF")
  endif()
  set(RUNTIME_TESTDATA ${TESSERA_TESTDATA_DIR})
endif()

file(GLOB RUNTIME_TEST_SOURCES CONFIGURE_DEPENDS tests/runtime/*.cpp)
if(NOT TARGET tessera_xnnpack)
  list(REMOVE_ITEM RUNTIME_TEST_SOURCES ${CMAKE_SOURCE_DIR}/tests/runtime/test_xnnpack_backend.cpp)
endif()
add_executable(tessera_runtime_tests EXCLUDE_FROM_ALL ${RUNTIME_TEST_SOURCES} tests/runtime_support.cpp
               tests/allocation_counter.cpp)
target_include_directories(tessera_runtime_tests PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests
                           ${CMAKE_BINARY_DIR}/generated)
target_include_directories(tessera_runtime_tests SYSTEM PRIVATE
  $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>
  $<TARGET_PROPERTY:flatbuffers::flatbuffers_shared,INTERFACE_INCLUDE_DIRECTORIES>)
set(RUNTIME_TEST_LIBRARIES tessera_runtime)
foreach(backend tessera_xnnpack tessera_onednn)
  if(TARGET ${backend})
    list(APPEND RUNTIME_TEST_LIBRARIES ${backend})
  endif()
endforeach()
target_link_libraries(tessera_runtime_tests PRIVATE ${RUNTIME_TEST_LIBRARIES} GTest::gtest GTest::gtest_main
                      nlohmann_json::nlohmann_json)
target_compile_definitions(tessera_runtime_tests PRIVATE TESSERA_TESTDATA_DIR="${RUNTIME_TESTDATA}")
if(TESSERA_SANITIZE)  # no allocation counting under a sanitizer's allocator (tests/allocation_counter.cpp)
  target_compile_definitions(tessera_runtime_tests PRIVATE TESSERA_SANITIZED=1)
endif()
if(TARGET compiled_testdata)
  add_dependencies(tessera_runtime_tests compiled_testdata)
endif()
include(GoogleTest)
# The tests are listed when ctest starts (the binary runs, under the emulator when cross-built): the
# models they run on come from the test data, which may change without a relink.
gtest_discover_tests(tessera_runtime_tests DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 120)

# The tests, built by make test (not by make build): unit, op and end-to-end tests of the compiler,
# images, command and Python package in one GoogleTest binary (tests of a backend only when it is
# built), the gigapixel images, an outside CMake project built against an installed tessera, and the
# build options an embedded user picks; and the test data that they and the runtime tests
# (cmake/runtime_tests.cmake) share.
find_package(GTest REQUIRED)
find_package(nlohmann_json REQUIRED)
enable_testing()

file(GLOB TEST_SOURCES CONFIGURE_DEPENDS tests/*.cpp tests/unit/*.cpp tests/ops/*.cpp tests/e2e/*.cpp)
set(ONEDNN_TESTS tests/e2e/test_onednn_backend.cpp tests/ops/test_narrow_conv.cpp tests/ops/test_pointwise_sum.cpp)
list(TRANSFORM ONEDNN_TESTS PREPEND ${CMAKE_SOURCE_DIR}/)
if(NOT TARGET tessera_onednn)
  list(REMOVE_ITEM TEST_SOURCES ${ONEDNN_TESTS})
endif()

# fuzz/: the fuzz targets' entry points, which tests/unit/test_fuzz_regressions.cpp replays reproducers through.
set(TEST_INCLUDES ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests ${CMAKE_BINARY_DIR}/generated ${CMAKE_SOURCE_DIR}/fuzz)
set(TEST_DEFINITIONS TESSERA_TESTDATA_DIR="${CMAKE_BINARY_DIR}/testdata" TESSERA_CLI_PATH="$<TARGET_FILE:tessera_cli>"
  TESSERA_FUZZ_REPRODUCERS_DIR="${CMAKE_SOURCE_DIR}/tests/data/fuzz")
add_executable(tessera_tests EXCLUDE_FROM_ALL ${TEST_SOURCES})
target_include_directories(tessera_tests PRIVATE ${TEST_INCLUDES})
# GDAL makes the GeoTIFF inputs of the georeferencing tests and reads their outputs back; libexif the
# EXIF blocks of the resolution tests.
target_link_libraries(tessera_tests PRIVATE ${TESSERA_LIBRARIES} GTest::gtest GTest::gtest_main
  nlohmann_json::nlohmann_json onnx_proto protobuf::libprotobuf flatbuffers::flatbuffers_shared PkgConfig::VIPS
  PkgConfig::GDAL PkgConfig::EXIF)
if(TARGET tessera_onednn)
  target_link_libraries(tessera_tests PRIVATE DNNL::dnnl OpenMP::OpenMP_CXX)
endif()
target_compile_definitions(tessera_tests PRIVATE ${TEST_DEFINITIONS})
if(TESSERA_SANITIZE)  # no allocation counting under a sanitizer's allocator (tests/allocation_counter.cpp)
  target_compile_definitions(tessera_tests PRIVATE TESSERA_SANITIZED=1)
endif()
add_dependencies(tessera_tests tessera_cli)
include(GoogleTest)
gtest_discover_tests(tessera_tests DISCOVERY_TIMEOUT 60)

# Test models and expected outputs, exported from PyTorch at build time (never committed).
set(TESTDATA_MANIFEST ${CMAKE_BINARY_DIR}/testdata/manifest.json)
file(GLOB MODEL_SCRIPTS CONFIGURE_DEPENDS tests/models/*.py)
add_custom_command(
  OUTPUT ${TESTDATA_MANIFEST}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/models/make_models.py ${CMAKE_BINARY_DIR}/testdata
  DEPENDS ${MODEL_SCRIPTS}
  COMMENT "Exporting test models from PyTorch")
add_custom_target(testdata DEPENDS ${TESTDATA_MANIFEST})
add_dependencies(tessera_tests testdata)

# The same models compiled by this build's tessera, and the reference backend's outputs on their
# inputs: what the runtime tests load, here and on other CPUs. The sanitizer lanes take a Release
# build's tessera instead (TESSERA_TEST_MODELS_CLI): under a sanitizer the 552 reference runs would
# take minutes of the build, and the lane's own reference then has to give the Release build's bits.
set(TESSERA_TEST_MODELS_CLI "" CACHE FILEPATH "the tessera that compiles the test models (default: this build's)")
set(TEST_MODELS_CLI ${TESSERA_TEST_MODELS_CLI})
if(NOT TEST_MODELS_CLI)
  set(TEST_MODELS_CLI tessera_cli)
endif()
set(COMPILED_MANIFEST ${CMAKE_BINARY_DIR}/testdata/compiled/manifest.json)
add_custom_command(
  OUTPUT ${COMPILED_MANIFEST}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/runtime/compile_test_models.py
          $<IF:$<BOOL:${TESSERA_TEST_MODELS_CLI}>,${TESSERA_TEST_MODELS_CLI},$<TARGET_FILE:tessera_cli>>
          ${CMAKE_BINARY_DIR}/testdata
  DEPENDS ${TESTDATA_MANIFEST} ${TEST_MODELS_CLI} ${CMAKE_SOURCE_DIR}/tests/runtime/compile_test_models.py
  COMMENT "Compiling the test models for the runtime tests")
add_custom_target(compiled_testdata DEPENDS ${COMPILED_MANIFEST})

# Images of gigabytes (tests/large). The 20000 x 20000 one (about half a minute) runs in make test;
# make test-large runs them all, the 4.4 GB BigTIFF output too (minutes).
file(GLOB LARGE_TEST_SOURCES CONFIGURE_DEPENDS tests/large/*.cpp)
add_executable(tessera_large_tests EXCLUDE_FROM_ALL ${LARGE_TEST_SOURCES} tests/test_support.cpp tests/runtime_support.cpp
               tests/image_support.cpp)
target_include_directories(tessera_large_tests PRIVATE ${TEST_INCLUDES})
target_link_libraries(tessera_large_tests PRIVATE ${TESSERA_LIBRARIES} GTest::gtest GTest::gtest_main
  nlohmann_json::nlohmann_json PkgConfig::VIPS)
target_compile_definitions(tessera_large_tests PRIVATE ${TEST_DEFINITIONS})
add_dependencies(tessera_large_tests tessera_cli testdata)
add_test(NAME HugeImages.A20000SquareImageStreamsUnder400MB
  COMMAND tessera_large_tests --gtest_filter=HugeImages.A20000SquareImageStreamsUnder400MB)

# ESRGAN golden data (tests/e2e/test_esrgan.cpp): scripts/fetch-models.sh fetches the UpscalerJS
# TF.js models from npm into .cache/models (never committed), listed in a manifest. A failed fetch
# leaves testdata/esrgan/fetch_error.txt for the tests to report, and is retried by the next build
# (the manifest is missing).
set(ESRGAN_MANIFEST ${CMAKE_BINARY_DIR}/testdata/esrgan/manifest.json)
add_custom_command(
  OUTPUT ${ESRGAN_MANIFEST}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/esrgan/make_testdata.py ${CMAKE_SOURCE_DIR}
          ${CMAKE_BINARY_DIR}/testdata/esrgan
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/esrgan/make_testdata.py ${CMAKE_SOURCE_DIR}/scripts/fetch-models.sh
  COMMENT "Fetching the ESRGAN models from npm")
add_custom_target(esrgan_testdata DEPENDS ${ESRGAN_MANIFEST})
add_dependencies(tessera_tests esrgan_testdata)

# An app's view: install into a temporary prefix, build examples/ as a project of its own with
# find_package(tessera), run both examples, and check what the runtime-only one links.
add_test(NAME OutsideProject.InstallsAndBuildsTheExamples
  COMMAND ${CMAKE_SOURCE_DIR}/tests/outside_project.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}/examples)
set_tests_properties(OutsideProject.InstallsAndBuildsTheExamples PROPERTIES TIMEOUT 600)

# The configurations an embedded user picks (the runtime alone, with XNNPACK) build.
add_test(NAME BuildOptions.EmbeddedConfigurationsBuild COMMAND ${CMAKE_SOURCE_DIR}/tests/build_options.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(BuildOptions.EmbeddedConfigurationsBuild PROPERTIES TIMEOUT 900)

# The Python package, installed with pip into a virtual environment (tests/python_package.sh), then its
# pytest suite (Debian's python3-pytest) and the dynamic-shapes example run against that install.
set(PYTHON_VENV ${CMAKE_BINARY_DIR}/python-venv/bin/python)
add_test(NAME Python.PipInstall COMMAND ${CMAKE_SOURCE_DIR}/tests/python_package.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(Python.PipInstall PROPERTIES FIXTURES_SETUP python_package TIMEOUT 300)
add_test(NAME Python.Pytest COMMAND ${PYTHON_VENV} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/tests/python
         WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
set_tests_properties(Python.Pytest PROPERTIES FIXTURES_REQUIRED python_package TIMEOUT 600
  ENVIRONMENT "TESSERA_TESTDATA_DIR=${CMAKE_BINARY_DIR}/testdata")
add_test(NAME Python.DynamicShapesExample COMMAND ${PYTHON_VENV} ${CMAKE_SOURCE_DIR}/examples/dynamic_shapes.py
         WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
set_tests_properties(Python.DynamicShapesExample PROPERTIES FIXTURES_REQUIRED python_package TIMEOUT 300
  PASS_REGULAR_EXPRESSION "Max difference: +0[.]00e[+]00 [(]bit-identical[)]")

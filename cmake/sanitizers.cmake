# Sanitizer builds, each in a build directory of its own (make test-asan, make test-tsan, make fuzz;
# docs/reliability.md). The flags apply to the whole project, libraries included; the system's
# libraries (protobuf, ONNX, libvips, XNNPACK, oneDNN) stay uninstrumented.
#   -DTESSERA_SANITIZE=address   AddressSanitizer + UndefinedBehaviorSanitizer (gcc or clang)
#   -DTESSERA_SANITIZE=thread    ThreadSanitizer
#   -DTESSERA_FUZZ=ON            libFuzzer targets (clang), with -DTESSERA_SANITIZE=address
set(TESSERA_SANITIZE "" CACHE STRING "sanitizers for the whole build: address (ASan + UBSan), thread (TSan) or empty")
option(TESSERA_FUZZ "the libFuzzer targets under fuzz/ (clang; configure with -DTESSERA_SANITIZE=address)" OFF)

if(TESSERA_SANITIZE STREQUAL "address")
  # Any undefined behaviour stops the process, so that a test or a fuzzer fails on it. -O1, as ASan's
  # documentation suggests: it compiles the command's files in about half the time of -O2 (-g1 does
  # the rest), and the lane's time in .ci/run is mostly its build.
  set(TESSERA_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(-O1)
elseif(TESSERA_SANITIZE STREQUAL "thread")
  set(TESSERA_SANITIZER_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT TESSERA_SANITIZE STREQUAL "")
  message(FATAL_ERROR "TESSERA_SANITIZE is address, thread or empty, not '${TESSERA_SANITIZE}'")
endif()
if(TESSERA_SANITIZER_FLAGS)
  # -g1: the line tables that reports need, without the types and variables that slow the build.
  add_compile_options(${TESSERA_SANITIZER_FLAGS} -g1)
  add_link_options(${TESSERA_SANITIZER_FLAGS})
endif()

if(TESSERA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "the fuzz targets need clang: configure with -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT TESSERA_SANITIZE STREQUAL "address")
    message(FATAL_ERROR "the fuzz targets run under ASan + UBSan: configure with -DTESSERA_SANITIZE=address")
  endif()
  # Coverage for every library; the fuzz targets add libFuzzer's main (fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Cross-builds for 64-bit Arm Linux with Debian's cross compiler (crossbuild-essential-arm64) against
# an arm64 sysroot made by scripts/arm64-sysroot.sh; the programs run under qemu-aarch64 (qemu-user).
#   scripts/arm64-sysroot.sh $PWD/build-arm64-sysroot
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DTESSERA_ARM64_SYSROOT=$PWD/build-arm64-sysroot ...   (or the environment variable)
#   qemu-aarch64 -L build-arm64-sysroot build-arm64/tessera_dynamic_shapes model.tsr 64x64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT DEFINED TESSERA_ARM64_SYSROOT AND DEFINED ENV{TESSERA_ARM64_SYSROOT})
  set(TESSERA_ARM64_SYSROOT "$ENV{TESSERA_ARM64_SYSROOT}")
endif()
set(TESSERA_ARM64_SYSROOT "${TESSERA_ARM64_SYSROOT}" CACHE PATH "arm64 sysroot made by scripts/arm64-sysroot.sh")
if(NOT IS_ABSOLUTE "${TESSERA_ARM64_SYSROOT}" OR NOT EXISTS "${TESSERA_ARM64_SYSROOT}/packages.txt")
  message(FATAL_ERROR "aarch64-linux-gnu.cmake needs an arm64 sysroot: make one with "
                      "scripts/arm64-sysroot.sh DIR and pass its absolute path as -DTESSERA_ARM64_SYSROOT=DIR "
                      "or in the environment variable TESSERA_ARM64_SYSROOT (now '${TESSERA_ARM64_SYSROOT}')")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TESSERA_ARM64_SYSROOT)  # the compiler checks' projects

# --sysroot rather than -isystem/-L: Debian's cross compiler keeps its own libc, libstdc++ and crt
# files under /usr/aarch64-linux-gnu, found relative to the compiler whatever the sysroot, while
# --sysroot replaces only the system folders (/usr/include, /lib/aarch64-linux-gnu,
# /usr/lib/aarch64-linux-gnu). So the sysroot needs no libc6-dev, the host's /usr/include (which the
# cross compiler searches by default) can no longer leak into the build, and the linker finds the
# libraries' own dependencies (libXNNPACK.so needs libpthreadpool.so.0) without -rpath-link.
set(CMAKE_SYSROOT "${TESSERA_ARM64_SYSROOT}")
# CMAKE_SYSROOT also roots every find_*: libraries, headers and CMake packages only from the sysroot
# (CMAKE_FIND_ROOT_PATH would add the same folder a second time), programs (flatc, which generates a
# header at build time) only from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CMAKE_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${CMAKE_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")

# Target programs CMake runs itself (gtest_discover_tests, add_test) go through qemu-user, whose -L
# makes the sysroot the root for the program's loader (/lib/ld-linux-aarch64.so.1) and libraries.
find_program(TESSERA_QEMU_AARCH64 qemu-aarch64 NO_CMAKE_FIND_ROOT_PATH REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${TESSERA_QEMU_AARCH64};-L;${CMAKE_SYSROOT}")

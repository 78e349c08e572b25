# cmake --install: headers, the libraries (one CMake component and one pkg-config file each), the
# command line, and a package config so that find_package(tessera 0.2 COMPONENTS runtime ...) works.
include(CMakePackageConfigHelpers)

set(TESSERA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
install(DIRECTORY include/tessera DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/include/tessera/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)

# pkg-config: a static library lists what it links under Libs, where pkg-config --libs finds it. The
# prefix is found from the .pc file's own folder, so that an install under any --prefix works.
file(RELATIVE_PATH PC_PREFIX_FROM_PCDIR /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)

# tessera_pkg_config(TARGET NAME DESCRIPTION REQUIRES LIBS): NAME.pc for TARGET, when it is built.
function(tessera_pkg_config target name description requires libs)
  if(NOT TARGET ${target})
    return()
  endif()
  set(PC_NAME ${name})
  set(PC_DESCRIPTION ${description})
  set(PC_REQUIRES ${requires})
  set(PC_LIBS ${libs})
  configure_file(${CMAKE_SOURCE_DIR}/cmake/tessera.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()

set(TESSERA_COMPONENTS)
foreach(target ${TESSERA_LIBRARIES})
  get_target_property(component ${target} EXPORT_NAME)
  list(APPEND TESSERA_COMPONENTS ${component})
  install(TARGETS ${target} EXPORT tessera-${component}-targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT tessera-${component}-targets NAMESPACE tessera:: DESTINATION ${TESSERA_CMAKE_DIR})
endforeach()

tessera_pkg_config(tessera_runtime tessera "tessera runtime: load a .tsr model and run it whole or in exact tiles" ""
                   "-ltessera_runtime -lz -pthread")
tessera_pkg_config(tessera_xnnpack tessera-xnnpack "tessera's XNNPACK backend" "tessera"
                   "-Wl,-u,tessera_xnnpack_backend -ltessera_xnnpack -lXNNPACK -lpthreadpool -lcpuinfo")
tessera_pkg_config(tessera_onednn tessera-onednn "tessera's oneDNN backend" "tessera"
                   "-Wl,-u,tessera_onednn_backend -ltessera_onednn -ldnnl -fopenmp")
tessera_pkg_config(tessera_compiler tessera-compiler "tessera's compiler: ONNX and TF.js models to .tsr"
                   "tessera protobuf libcrypto" "-ltessera_compiler -lonnx_proto")
tessera_pkg_config(tessera_images tessera-images
                   "tessera's image files, streamed through libvips (GeoTIFF georeferencing through GDAL, loaded when needed)"
                   "tessera vips-cpp libexif" "-ltessera_images")

if(TARGET tessera_cli)
  install(TARGETS tessera_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

configure_package_config_file(cmake/tesseraConfig.cmake.in ${CMAKE_BINARY_DIR}/tesseraConfig.cmake
                              INSTALL_DESTINATION ${TESSERA_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tesseraConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/tesseraConfig.cmake ${CMAKE_BINARY_DIR}/tesseraConfigVersion.cmake
        DESTINATION ${TESSERA_CMAKE_DIR})

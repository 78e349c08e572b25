// GDAL, loaded when the first TIFF needs it instead of with the program: linked, its hundred-odd
// libraries cost every process about 35 ms of start-up (the dynamic linker's relocations, measured
// on a 2-core EPYC), while only TIFFs use it (georef.cpp, the only file of the library that includes
// this one). A program that reads or writes TIFFs needs at run time the GDAL of this soname.
#pragma once

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_frmts.h>

#include <string>

#include "tessera/status.h"

namespace tessera {

// The GDAL functions georef.cpp calls.
#define TESSERA_GDAL_FUNCTIONS(X)                                                                                   \
  X(CPLAtof)                                                                                                         \
  X(CPLErrorReset)                                                                                                   \
  X(CPLGetErrorHandlerUserData)                                                                                      \
  X(CPLGetThreadLocalConfigOption)                                                                                   \
  X(CPLParseNameValue)                                                                                               \
  X(CPLPopErrorHandler)                                                                                              \
  X(CPLPushErrorHandlerEx)                                                                                           \
  X(CPLSetThreadLocalConfigOption)                                                                                   \
  X(GDALClose)                                                                                                       \
  X(GDALGetDescription)                                                                                              \
  X(GDALGetGCPCount)                                                                                                 \
  X(GDALGetGCPProjection)                                                                                            \
  X(GDALGetGCPs)                                                                                                     \
  X(GDALGetGeoTransform)                                                                                             \
  X(GDALGetMetadata)                                                                                                 \
  X(GDALGetProjectionRef)                                                                                            \
  X(GDALGetRasterBand)                                                                                               \
  X(GDALGetRasterColorInterpretation)                                                                                \
  X(GDALGetRasterCount)                                                                                              \
  X(GDALGetRasterNoDataValue)                                                                                        \
  X(GDALGetRasterOffset)                                                                                             \
  X(GDALGetRasterScale)                                                                                              \
  X(GDALOpenEx)                                                                                                      \
  X(GDALRegister_GTiff)                                                                                              \
  X(GDALSetDescription)                                                                                              \
  X(GDALSetGCPs)                                                                                                     \
  X(GDALSetGeoTransform)                                                                                             \
  X(GDALSetMetadata)                                                                                                 \
  X(GDALSetMetadataItem)                                                                                             \
  X(GDALSetProjection)                                                                                               \
  X(GDALSetRasterColorInterpretation)                                                                                \
  X(GDALSetRasterNoDataValue)                                                                                        \
  X(GDALSetRasterOffset)                                                                                             \
  X(GDALSetRasterScale)                                                                                              \
  X(VSIFree)  // what the macro CPLFree names

// Those functions in the loaded library, by their GDAL names.
struct GdalLibrary {
#define TESSERA_GDAL_POINTER(name) decltype(&::name) name = nullptr;
  TESSERA_GDAL_FUNCTIONS(TESSERA_GDAL_POINTER)
#undef TESSERA_GDAL_POINTER
};

// The GDAL this build was compiled against (its soname), loaded on the first call and kept; every
// later call returns the same (or the same error). Thread-safe.
Result<const GdalLibrary*> gdal_library();

// Loads `soname` and resolves the functions; an error names the library and how to install it.
Result<GdalLibrary> load_gdal_library(const std::string& soname);

}  // namespace tessera

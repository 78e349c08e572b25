#include "io/gdal_library.h"

#include <dlfcn.h>

#include <fmt/format.h>

namespace tessera {

Result<GdalLibrary> load_gdal_library(const std::string& soname) {
  // Never closed: GDAL keeps global state (drivers, caches) for the life of the process.
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  const std::string package = "lib" + soname.substr(3, soname.find('.') - 3) + soname.substr(soname.rfind('.') + 1);
  if (handle == nullptr)
    return Status(Error::Unsupported, fmt::format("TIFF files need GDAL ({}) for their georeferencing and bands, and "
                                                  "it cannot be loaded: {}; install the package that provides it "
                                                  "(Debian 12: apt-get install {})",
                                                  soname, dlerror(), package));
  GdalLibrary gdal;
  const char* missing = nullptr;
#define TESSERA_GDAL_RESOLVE(name)                                         \
  gdal.name = reinterpret_cast<decltype(gdal.name)>(dlsym(handle, #name)); \
  if (gdal.name == nullptr && missing == nullptr) missing = #name;
  TESSERA_GDAL_FUNCTIONS(TESSERA_GDAL_RESOLVE)
#undef TESSERA_GDAL_RESOLVE
  if (missing != nullptr) {
    dlclose(handle);
    return Status(Error::Unsupported, fmt::format("GDAL ({}) has no function {}: it is not the GDAL this tessera was "
                                                  "built with; install that one (Debian 12: apt-get install {})",
                                                  soname, missing, package));
  }
  return gdal;
}

Result<const GdalLibrary*> gdal_library() {
  static const Result<GdalLibrary> loaded = load_gdal_library(TESSERA_GDAL_SONAME);
  if (!loaded.ok()) return loaded.status();
  return &*loaded;
}

}  // namespace tessera

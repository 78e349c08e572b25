// Fuzz target: an image file decoded into the tiler and run (targets.h), with libvips on one thread
// and its operation cache off.
#include "targets.h"

namespace {

tessera::fuzz::ScratchDir* dir = nullptr;
std::shared_ptr<const tessera::Model> model;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (VIPS_INIT((*argv)[0])) std::abort();
  vips_concurrency_set(1);
  vips_cache_set_max(0);
  dir = new tessera::fuzz::ScratchDir;
  auto compiled = tessera::fuzz::image_model(*dir, TESSERA_FUZZ_TESTDATA);
  if (!compiled.ok()) {
    std::fprintf(stderr, "fuzz_image: %s\n", compiled.status().message().c_str());
    std::abort();
  }
  model = *compiled;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)tessera::fuzz::image_one(*dir, {reinterpret_cast<const char*>(data), size}, model);
  return 0;
}

// Runs a model over an image file of any size and writes the result, through the public tiled image
// API: the image is streamed band by band and cut into tiles that stitch to exactly the whole-image
// output, so it may be far larger than the model's maximum.
//   upscale_image MODEL.tsr IN.png OUT.png [THREADS]
#include <cstdio>
#include <string>

#include "tessera/image.h"
#include "tessera/version.h"

using namespace tessera;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.tsr IN OUT [THREADS]   (tessera %s)\n", argv[0], TESSERA_VERSION);
    return 2;
  }
  Result<std::shared_ptr<const Model>> model = Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
    return 1;
  }
  ImageRunOptions options;
  options.run.threads = argc > 4 ? std::stoi(argv[4]) : 2;
  options.run.on_tile = [](int64_t done) { std::fprintf(stderr, "\rtiles done: %ld", static_cast<long>(done)); };
  Result<ImageRunInfo> run = run_image_file(*model, argv[2], argv[3], options);
  std::fprintf(stderr, "\n");
  if (!run.ok()) {
    std::fprintf(stderr, "error: %s\n", run.status().message().c_str());
    return 1;
  }
  std::printf("%s %ldx%ld -> %s %ldx%ld in %ld tiles of %ldx%ld\n", argv[2], static_cast<long>(run->in_width),
              static_cast<long>(run->in_height), argv[3], static_cast<long>(run->out_width),
              static_cast<long>(run->out_height), static_cast<long>(run->tiles), static_cast<long>(run->core_width),
              static_cast<long>(run->core_height));
  return 0;
}

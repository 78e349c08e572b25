// Loads one .tsr model once and runs it at several input sizes from the same Session:
// the memory is planned at the upper bound, so no size needs a reload or a new allocation.
//   tessera_dynamic_shapes MODEL.tsr [--backend NAME] 1024x1024 512x512 288x288
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "tessera/session.h"

using namespace tessera;

int main(int argc, char** argv) {
  SessionOptions options;  // backend "auto": the fastest one linked into this program
  int first_size = 2;
  if (argc > 3 && std::strcmp(argv[2], "--backend") == 0) {
    options.backend = argv[3];
    first_size = 4;
  }
  if (argc <= first_size) {
    std::fprintf(stderr, "usage: %s MODEL.tsr [--backend NAME] HxW [HxW ...]\n", argv[0]);
    return 2;
  }
  Result<std::shared_ptr<const Model>> model = Model::load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
    return 1;
  }
  const ModelInfo& info = (*model)->info();
  Result<std::unique_ptr<Session>> session = Session::create(*model, options);
  if (!session.ok()) {
    std::fprintf(stderr, "error: %s\n", session.status().message().c_str());
    return 1;
  }
  std::printf("model file %.1f KiB, arena %.1f MiB planned once at the upper bound, backend %s\n",
              info.file_bytes / 1024.0, info.arena_bytes / 1048576.0, (*session)->backend().c_str());
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (int i = first_size; i < argc; ++i) {
    int64_t h = 0, w = 0;
    if (std::sscanf(argv[i], "%ldx%ld", &h, &w) != 2) {
      std::fprintf(stderr, "error: size '%s' is not HxW\n", argv[i]);
      return 2;
    }
    Tensor input((*model)->input_shape(h, w));
    for (int64_t k = 0; k < input.element_count(); ++k) input.data()[k] = uniform(rng);
    ConstTensorView view = input.view();
    auto start = std::chrono::steady_clock::now();
    Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!out.ok()) {
      std::fprintf(stderr, "error: %s\n", out.status().message().c_str());
      return 1;
    }
    std::printf("%5ldx%-5ld -> %s  %8.1f ms\n", h, w, (*out)[0].shape.to_string().c_str(), ms);
  }
  return 0;
}

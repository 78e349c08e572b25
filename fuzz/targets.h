// The fuzz targets' entry points, shared by the libFuzzer programs (fuzz_*.cpp) and the regression
// tests that replay committed reproducers (tests/unit/test_fuzz_regressions.cpp, tests/data/fuzz/).
// Each takes one input's bytes and returns the first error tessera reported (or OK); a crash, a
// leak or a sanitizer report is the fault.
#pragma once

#include <vips/vips.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "onnx_dims.h"
#include "tessera/compiler.h"
#include "tessera/image.h"
#include "tessera/npy.h"
#include "tfjs_split.h"

namespace tessera::fuzz {

// A .tsr file through Model::load (mmap + full verification), then one run at the smallest size in
// its dims' ranges on every backend (reference, xnnpack, onednn).
inline Status tsr_one(const ScratchDir& dir, std::string_view bytes) {
  const std::string path = dir.file("model.tsr");
  write_file(path, bytes.data(), bytes.size());
  auto model = Model::load(path);
  Status s = model.ok() ? run_on_every_backend(*model) : model.status();
  dir.clear();
  return s;
}

// An ONNX model through the public compiler (import, passes, dims checked over their ranges, memory
// plan, tiling analysis, .tsr written and loaded back), its dynamic dims bound to 32..48:8; a model
// that compiles then runs once at 32x32 on every backend.
inline Status onnx_one(const ScratchDir& dir, std::string_view bytes) {
  const std::string source = dir.file("model.onnx");
  write_file(source, bytes.data(), bytes.size());
  CompileOptions options;
  options.dims = small_onnx_dims(bytes.data(), bytes.size());
  auto model = compile_model(source, dir.file("model.tsr"), options);
  Status s = model.ok() ? run_on_every_backend(*model) : model.status();
  dir.clear();
  return s;
}

// A TF.js layers-model (model.json and its shards, tfjs_split.h) through the public compiler, height
// and width bound to 32..48:8 (or none when the model fixes them); a model that compiles then runs
// once at 32x32 on every backend. The k-th shard is written under the k-th manifest path when that
// is a plain file name; the importer reads whatever model.json names.
inline Status tfjs_one(const ScratchDir& dir, std::string_view bytes) {
  auto parts = split_tfjs_input(bytes);
  write_file(dir.file("model.json"), parts[0].data(), parts[0].size());
  std::vector<std::string> names;
  nlohmann::json root = nlohmann::json::parse(parts[0], nullptr, /*allow_exceptions=*/false);
  if (root.is_object() && root.contains("weightsManifest") && root["weightsManifest"].is_array())
    for (const auto& group : root["weightsManifest"])
      if (group.is_object() && group.contains("paths") && group["paths"].is_array())
        for (const auto& p : group["paths"])
          if (p.is_string()) names.push_back(p.get<std::string>());
  auto plain = [](const std::string& name) {
    return !name.empty() && name.size() < 128 && name != "." && name != ".." && name != "model.json" &&
           name != "model.tsr" && name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
  };
  for (size_t k = 1; k < parts.size() && k - 1 < names.size(); ++k)
    if (plain(names[k - 1])) write_file(dir.file(names[k - 1]), parts[k].data(), parts[k].size());

  CompileOptions options;
  options.dims = {{"height", kSmallRange.min, kSmallRange.max, kSmallRange.multiple_of},
                  {"width", kSmallRange.min, kSmallRange.max, kSmallRange.multiple_of}};
  auto model = compile_model(dir.file("model.json"), dir.file("model.tsr"), options);
  if (!model.ok() && model.status().message().find("has no dynamic dim") != std::string::npos) {
    options.dims.clear();  // a model with a fixed height or width
    model = compile_model(dir.file("model.json"), dir.file("model.tsr"), options);
  }
  Status s = model.ok() ? run_on_every_backend(*model) : model.status();
  dir.clear();
  return s;
}

// A .npy file through read_npy; what it reads is written back with write_npy and must read back.
inline Status npy_one(const ScratchDir& dir, std::string_view bytes) {
  const std::string path = dir.file("in.npy");
  write_file(path, bytes.data(), bytes.size());
  auto tensor = read_npy(path);
  Status s = tensor.status();
  if (tensor.ok() && tensor->element_count() <= kMaxInputElements) {
    const std::string again = dir.file("again.npy");
    s = write_npy(again, tensor->view());
    if (s.ok()) {
      auto back = read_npy(again);
      if (!back.ok() || !(back->shape() == tensor->shape())) __builtin_trap();  // a written file must read back
    }
  }
  dir.clear();
  return s;
}

// The image target's model: the sr_pixelshuffle test model (x2), compiled for 16..64.
inline Result<std::shared_ptr<const Model>> image_model(const ScratchDir& dir, const std::string& testdata) {
  CompileOptions options;
  options.dims = {{"height", 16, 64, 1}, {"width", 16, 64, 1}};
  return compile_model(testdata + "/sr_pixelshuffle.onnx", dir.file("image_model.tsr"), options);
}

// An image file (any format libvips reads) decoded into the tiler: run_image_file with 16-pixel
// tiles on the reference backend (streamed bands, pixel conversion, alpha, the output encoded and
// renamed), then read_image_tensor (the whole image, as tessera verify reads it). Images above
// 128 x 128 are skipped (their header is read, not their pixels). Leaves `dir` as it was.
inline Status image_one(const ScratchDir& dir, std::string_view bytes, const std::shared_ptr<const Model>& model) {
  const std::string in = dir.file("in.png"), out = dir.file("out.png");
  write_file(in, bytes.data(), bytes.size());
  Status s;
  bool small = true;
  if (VipsImage* header = vips_image_new_from_file(in.c_str(), nullptr)) {
    small = header->Xsize <= 128 && header->Ysize <= 128;
    g_object_unref(header);
  }
  vips_error_clear();
  if (small) {
    ImageRunOptions options;
    options.tiles.tile = 16;
    options.run.threads = 1;
    options.run.backend = "reference";
    s = run_image_file(model, in, out, options).status();
    Status whole = read_image_tensor(in, *model).status();
    if (s.ok()) s = whole;
  }
  std::remove(in.c_str());
  std::remove(out.c_str());
  return s;
}

}  // namespace tessera::fuzz

// Writes the fuzz targets' seed corpora from the test models, made at build time (never committed):
//   make_seeds TESTDATA MODELS_CACHE OUT
// TESTDATA: the exported test models (tests/models/make_models.py); MODELS_CACHE: .cache/models
// (scripts/fetch-models.sh; the ESRGAN TF.js models, used when present); OUT/<target>/ gets the seeds.
#include <vips/vips8>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "onnx_dims.h"
#include "tessera/compiler.h"
#include "tessera/npy.h"
#include "tfjs_split.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

constexpr size_t kMaxOnnxSeed = 64 << 10;

// .onnx test models, as they are (onnx/) and compiled at 32..48:8 (tsr/).
int onnx_and_tsr(const fs::path& testdata, const fs::path& out) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(testdata)) {
    if (e.path().extension() != ".onnx" || fs::file_size(e.path()) > kMaxOnnxSeed) continue;
    std::string bytes = read_file(e.path());
    fs::copy_file(e.path(), out / "onnx" / e.path().filename(), fs::copy_options::overwrite_existing);
    tessera::CompileOptions options;
    options.dims = tessera::fuzz::small_onnx_dims(bytes.data(), bytes.size());
    fs::path tsr = out / "tsr" / e.path().filename().replace_extension(".tsr");
    n += tessera::compile_model(e.path().string(), tsr.string(), options).ok();
  }
  return n;
}

// Small TF.js layers-models in the importer's vocabulary, and the ESRGAN-slim x2 model when fetched.
struct TfjsModel {
  json layers = json::array();
  json weights = json::array();
  std::string shard;
  std::string last = "x";
  std::mt19937 rng{7};

  explicit TfjsModel(int channels) {
    layers.push_back({{"class_name", "InputLayer"}, {"name", "x"},
                      {"config", {{"batch_input_shape", {nullptr, nullptr, nullptr, channels}}, {"dtype", "float32"}, {"name", "x"}}},
                      {"inbound_nodes", json::array()}});
  }
  TfjsModel& layer(const std::string& cls, const std::string& name, json config, const std::vector<std::string>& inputs) {
    json refs = json::array();
    for (const std::string& in : inputs) refs.push_back({in, 0, 0, json::object()});
    config["name"] = name;
    layers.push_back({{"class_name", cls}, {"name", name}, {"config", config}, {"inbound_nodes", {refs}}});
    last = name;
    return *this;
  }
  TfjsModel& weight(const std::string& name, const std::vector<int64_t>& shape) {
    weights.push_back({{"name", name}, {"shape", shape}, {"dtype", "float32"}});
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    for (int64_t i = 0; i < n; ++i) {
      float v = u(rng);
      shard.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    return *this;
  }
  TfjsModel& conv(const std::string& name, const std::string& input, int in_c, int out_c, int k,
                  const std::string& activation = "linear") {
    layer("Conv2D", name, {{"filters", out_c}, {"kernel_size", {k, k}}, {"strides", {1, 1}}, {"padding", "same"},
                           {"data_format", "channels_last"}, {"dilation_rate", {1, 1}}, {"groups", 1},
                           {"activation", activation}, {"use_bias", true}}, {input});
    return weight(name + "/kernel", {k, k, in_c, out_c}).weight(name + "/bias", {out_c});
  }
  std::string joined() const {
    json model = {{"class_name", "Functional"},
                  {"config", {{"name", "m"}, {"layers", layers}, {"input_layers", {{"x", 0, 0}}},
                              {"output_layers", {{last, 0, 0}}}}}};
    json root = {{"format", "layers-model"},
                 {"modelTopology", {{"keras_version", "2.10.0"}, {"model_config", model}}},
                 {"weightsManifest", {{{"paths", {"group1-shard1of1.bin"}}, {"weights", weights}}}}};
    return tessera::fuzz::join_tfjs_input(root.dump(), {shard});
  }
};

int tfjs(const fs::path& models_cache, const fs::path& out) {
  int n = 0;
  {
    TfjsModel m(3);
    m.conv("c1", "x", 3, 4, 3, "relu").conv("c2", "c1", 4, 3, 3).layer("Add", "sum", json::object(), {"x", "c2"});
    write_file(out / "tfjs" / "residual.tfjs", m.joined());
    ++n;
  }
  {
    TfjsModel m(3);
    m.conv("c1", "x", 3, 4, 3).layer("LeakyReLU", "lr", {{"alpha", 0.2}}, {"c1"})
        .layer("Concatenate", "cat", {{"axis", -1}}, {"x", "lr"}).conv("c2", "cat", 7, 3, 1)
        .layer("UpSampling2D", "up", {{"size", {2, 2}}, {"interpolation", "nearest"}}, {"c2"});
    write_file(out / "tfjs" / "concat_upsample.tfjs", m.joined());
    ++n;
  }
  {
    TfjsModel m(1);
    m.layer("Activation", "r", {{"activation", "relu"}}, {"x"}).layer("MultiplyBeta", "b", {{"beta", 0.2}}, {"r"})
        .layer("Add", "sum", json::object(), {"x", "r", "b"}).layer("PReLU", "p", {{"shared_axes", {1, 2}}}, {"sum"})
        .weight("p/alpha", {1, 1, 1})
        .layer("UpSampling2D", "up", {{"size", {2, 3}}, {"interpolation", "bilinear"}}, {"p"})
        .conv("c", "up", 1, 1, 3, "sigmoid");
    write_file(out / "tfjs" / "activations.tfjs", m.joined());
    ++n;
  }
  fs::path slim = models_cache / "esrgan-slim" / "models" / "x2";
  if (fs::exists(slim / "model.json") && fs::exists(slim / "group1-shard1of1.bin")) {
    write_file(out / "tfjs" / "esrgan_slim_x2.tfjs",
               tessera::fuzz::join_tfjs_input(read_file(slim / "model.json"), {read_file(slim / "group1-shard1of1.bin")}));
    ++n;
  }
  return n;
}

// .npy files of each rank, from write_npy, and the small inputs of the test models.
int npy(const fs::path& testdata, const fs::path& out) {
  int n = 0;
  std::vector<tessera::Shape> shapes = {tessera::Shape{}, tessera::Shape{3}, tessera::Shape{2, 3},
                                        tessera::Shape{1, 3, 4, 4}, tessera::Shape{1, 1, 2, 2, 2}};
  for (const tessera::Shape& s : shapes) {
    tessera::Tensor t(s);
    for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = 0.5f * static_cast<float>(i);
    n += tessera::write_npy((out / "npy" / ("rank" + std::to_string(s.rank()) + ".npy")).string(), t.view()).ok();
  }
  // Format 2.0 (4-byte header length) and a float64 file, by hand.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  header.append((64 - (12 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  uint32_t len = static_cast<uint32_t>(header.size());
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8) + std::string(reinterpret_cast<const char*>(&len), 4) + header +
                   std::string(16, '\0');
  write_file(out / "npy" / "v2.npy", v2);
  std::string f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  f8.append((64 - (10 + f8.size() + 1) % 64) % 64, ' ');
  f8.push_back('\n');
  write_file(out / "npy" / "f8.npy", std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(f8.size()) + '\0' + f8 +
                                         std::string(16, '\0'));
  n += 2;
  for (const auto& e : fs::recursive_directory_iterator(testdata))
    if (e.path().extension() == ".npy" && e.file_size() <= 4096 && n < 12) {
      fs::copy_file(e.path(), out / "npy" / (e.path().parent_path().filename().string() + "_" + e.path().filename().string()),
                    fs::copy_options::overwrite_existing);
      ++n;
    }
  return n;
}

// Small images in the formats and pixel types libvips writes: gray, RGB, alpha, 8 and 16 bits.
int images(const fs::path& out) {
  int n = 0;
  vips::VImage base = vips::VImage::xyz(23, 17);  // two bands: x, y
  vips::VImage rgb = base[0].bandjoin(base[1]).bandjoin(base[0] + base[1]).cast(VIPS_FORMAT_UCHAR);
  rgb = rgb.copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  vips::VImage gray = base[0].cast(VIPS_FORMAT_UCHAR).copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_B_W));
  vips::VImage rgba = rgb.bandjoin(255);
  vips::VImage gray16 = (base[1] * 1000).cast(VIPS_FORMAT_USHORT).copy(
      vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_GREY16));
  auto save = [&](const vips::VImage& im, const std::string& name) {
    try {
      im.write_to_file((out / "image" / name).string().c_str());
      ++n;
    } catch (const vips::VError&) {
      // a format this libvips cannot write: skipped
    }
  };
  save(rgb, "rgb.png");
  save(gray, "gray.png");
  save(rgba, "rgba.png");
  save(gray16, "gray16.png");
  save(rgb, "rgb.jpg");
  save(gray, "gray.jpg");
  save(rgb, "rgb.tif");
  save(gray16, "gray16.tif");
  save(rgba, "rgba.webp");
  save(rgb, "rgb.gif");
  save(gray, "gray.pgm");
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_seeds TESTDATA MODELS_CACHE OUT\n");
    return 2;
  }
  if (VIPS_INIT(argv[0])) return 1;
  fs::path testdata = argv[1], cache = argv[2], out = argv[3];
  for (const char* t : {"tsr", "onnx", "tfjs", "npy", "image"}) {
    fs::remove_all(out / t);
    fs::create_directories(out / t);
  }
  int tsr_onnx = onnx_and_tsr(testdata, out);
  int n_tfjs = tfjs(cache, out);
  int n_npy = npy(testdata, out);
  int n_images = images(out);
  std::printf("fuzz seeds: %d .tsr compiled from the test models, %d TF.js, %d .npy, %d images in %s\n", tsr_onnx,
              n_tfjs, n_npy, n_images, out.c_str());
  write_file(out / "stamp", "");
  return 0;
}

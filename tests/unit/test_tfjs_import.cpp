// The TF.js layers-model importer on hand-written model.json + shard files: every layer class
// against TensorFlow's definition computed here in NCHW, and every error path.
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <filesystem>
#include <functional>
#include <random>

#include "compile/dims.h"
#include "import/tfjs_import.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

// A Keras functional model as TF.js stores it: input "x" [null, height, width, channels], layers
// with their inbound layers, and every weight in one shard.
class TfjsModel {
 public:
  explicit TfjsModel(int64_t channels, json height = nullptr, json width = nullptr) {
    layers_.push_back({{"class_name", "InputLayer"},
                       {"name", "x"},
                       {"config", {{"batch_input_shape", {nullptr, height, width, channels}}, {"dtype", "float32"}, {"name", "x"}}},
                       {"inbound_nodes", json::array()}});
  }

  TfjsModel& layer(const std::string& cls, const std::string& name, json config, const std::vector<std::string>& inputs) {
    json refs = json::array();
    for (const std::string& in : inputs) refs.push_back({in, 0, 0, json::object()});
    config["name"] = name;
    layers_.push_back({{"class_name", cls}, {"name", name}, {"config", config}, {"inbound_nodes", {refs}}});
    output_ = name;
    return *this;
  }

  TfjsModel& weight(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data) {
    weights_.push_back({{"name", name}, {"shape", shape}, {"dtype", "float32"}});
    shard_.insert(shard_.end(), data.begin(), data.end());
    return *this;
  }

  json to_json() const {
    json model = {{"class_name", "Functional"},
                  {"config", {{"name", "m"}, {"layers", layers_}, {"input_layers", {{"x", 0, 0}}},
                              {"output_layers", {{output_, 0, 0}}}}}};
    return {{"format", "layers-model"},
            {"modelTopology", {{"keras_version", "2.10.0"}, {"model_config", model}}},
            {"weightsManifest", {{{"paths", {"group1-shard1of1.bin"}}, {"weights", weights_}}}}};
  }

  // Writes model.json and its shard into `dir`; returns the model.json path.
  std::string write(const TempDir& dir, const json& model) const {
    write_file(dir.file("group1-shard1of1.bin"),
               std::string(reinterpret_cast<const char*>(shard_.data()), shard_.size() * sizeof(float)));
    write_file(dir.file("model.json"), model.dump());
    return dir.file("model.json");
  }
  std::string write(const TempDir& dir) const { return write(dir, to_json()); }

 private:
  json layers_ = json::array();
  json weights_ = json::array();
  std::vector<float> shard_;
  std::string output_ = "x";
};

std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

Tensor tensor(const Shape& shape, const std::vector<float>& values) {
  Tensor t(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

// Compiles model.json for exactly the size of `x` and runs it on the reference backend.
Tensor run(const TempDir& dir, const std::string& model_json, const Tensor& x) {
  CompileOptions options;
  options.dims = {{"height", x.shape()[2], x.shape()[2], 1}, {"width", x.shape()[3], x.shape()[3], 1}};
  Result<ModelFile> compiled = compile_file(model_json, dir.file("m.tsr"), options);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  if (!compiled.ok()) return {};
  Result<std::shared_ptr<const Model>> model = Model::load(dir.file("m.tsr"));
  EXPECT_TRUE(model.ok()) << model.status().message();
  Result<std::unique_ptr<Session>> session = Session::create(*model, {"reference", 1});
  EXPECT_TRUE(session.ok()) << session.status().message();
  ConstTensorView view = x.view();
  Result<std::span<const TensorView>> out = (*session)->run({&view, 1});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? copy_of((*out)[0]) : Tensor();
}

void expect_near(const Tensor& actual, const Tensor& expected, float tolerance) {
  ASSERT_EQ(actual.shape(), expected.shape()) << actual.shape().to_string() << " vs " << expected.shape().to_string();
  for (int64_t i = 0; i < expected.element_count(); ++i)
    ASSERT_NEAR(actual.data()[i], expected.data()[i], tolerance) << "at element " << i;
}

// --- Conv2D against TensorFlow's definition ---------------------------------------------------

struct ConvCase {
  std::string label;
  int64_t in_c, out_c, kh, kw, stride, dilation, groups, h, w;
  std::string padding;
};

// TF's conv2d: 'same' gives ceil(size / stride) outputs and pads max((out - 1) * stride + k_eff - size, 0),
// the smaller half before; kernel [kh, kw, in/groups, out].
Tensor tf_conv(const ConvCase& c, const Tensor& x, const std::vector<float>& kernel, const std::vector<float>& bias) {
  auto geometry = [&](int64_t size, int64_t k) {
    int64_t eff = c.dilation * (k - 1) + 1;
    if (c.padding == "valid") return std::pair<int64_t, int64_t>{(size - eff) / c.stride + 1, 0};
    int64_t out = (size + c.stride - 1) / c.stride;
    return std::pair<int64_t, int64_t>{out, std::max<int64_t>((out - 1) * c.stride + eff - size, 0) / 2};
  };
  auto [oh, pad_top] = geometry(c.h, c.kh);
  auto [ow, pad_left] = geometry(c.w, c.kw);
  const int64_t in_per_group = c.in_c / c.groups, out_per_group = c.out_c / c.groups;
  Tensor y(Shape{1, c.out_c, oh, ow});
  for (int64_t o = 0; o < c.out_c; ++o)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double sum = bias.empty() ? 0.0 : bias[o];
        for (int64_t i = 0; i < in_per_group; ++i)
          for (int64_t ky = 0; ky < c.kh; ++ky)
            for (int64_t kx = 0; kx < c.kw; ++kx) {
              int64_t iy = oy * c.stride + ky * c.dilation - pad_top, ix = ox * c.stride + kx * c.dilation - pad_left;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              int64_t channel = o / out_per_group * in_per_group + i;
              sum += x.data()[(channel * c.h + iy) * c.w + ix] *
                     kernel[((ky * c.kw + kx) * in_per_group + i) * c.out_c + o];
            }
        y.data()[(o * oh + oy) * ow + ox] = static_cast<float>(sum);
      }
  return y;
}

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.label; }

class TfjsConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(TfjsConv, MatchesTensorFlowPaddingAndLayout) {
  const ConvCase& c = GetParam();
  std::vector<float> kernel = random_values(c.kh * c.kw * (c.in_c / c.groups) * c.out_c, 1);
  std::vector<float> bias = random_values(c.out_c, 2);
  TfjsModel m(c.in_c);
  m.layer("Conv2D", "conv",
          {{"filters", c.out_c}, {"kernel_size", {c.kh, c.kw}}, {"strides", {c.stride, c.stride}},
           {"padding", c.padding}, {"dilation_rate", {c.dilation, c.dilation}}, {"groups", c.groups},
           {"use_bias", true}, {"activation", "linear"}, {"data_format", "channels_last"}},
          {"x"});
  m.weight("conv/kernel", {c.kh, c.kw, c.in_c / c.groups, c.out_c}, kernel).weight("conv/bias", {c.out_c}, bias);
  TempDir dir;
  Tensor x = tensor(Shape{1, c.in_c, c.h, c.w}, random_values(c.in_c * c.h * c.w, 3));
  expect_near(run(dir, m.write(dir), x), tf_conv(c, x, kernel, bias), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, TfjsConv,
    ::testing::Values(ConvCase{"same3x3_odd", 2, 3, 3, 3, 1, 1, 1, 5, 7, "same"},
                      ConvCase{"same2x2_asymmetric", 2, 3, 2, 2, 1, 1, 1, 5, 7, "same"},
                      ConvCase{"same4x4_asymmetric", 1, 2, 4, 4, 1, 1, 1, 6, 5, "same"},
                      ConvCase{"same3x3_dilated", 2, 2, 3, 3, 1, 2, 1, 7, 6, "same"},
                      ConvCase{"same1x1_stride2", 3, 2, 1, 1, 2, 1, 1, 5, 7, "same"},
                      ConvCase{"valid3x3_odd", 2, 3, 3, 3, 1, 1, 1, 5, 7, "valid"},
                      ConvCase{"valid3x2_stride2", 2, 2, 3, 2, 2, 1, 1, 9, 7, "valid"},
                      ConvCase{"same3x3_groups2", 4, 6, 3, 3, 1, 1, 2, 5, 5, "same"}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return info.param.label; });

TEST(TfjsImport, ConvActivationIsItsOwnNodeAndBiasIsOptional) {
  TfjsModel m(1);
  m.layer("Conv2D", "conv", {{"filters", 1}, {"kernel_size", {1, 1}}, {"use_bias", false}, {"activation", "relu"}}, {"x"});
  m.weight("conv/kernel", {1, 1, 1, 1}, {-2.0f});
  TempDir dir;
  std::string path = m.write(dir);
  Result<ir::Graph> g = import_tfjs(path);
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->nodes.size(), 2u);
  EXPECT_EQ(g->nodes[0].op, ir::Op::Conv);
  EXPECT_EQ(g->nodes[0].inputs.size(), 2u);  // no bias
  EXPECT_EQ(g->nodes[1].op, ir::Op::Relu);
  expect_near(run(dir, path, tensor(Shape{1, 1, 1, 2}, {1.0f, -3.0f})), tensor(Shape{1, 1, 1, 2}, {0.0f, 6.0f}), 0);
}

TEST(TfjsImport, InputBecomesNchwWithNamedDynamicDims) {
  TfjsModel m(3, 32, nullptr);
  m.layer("Activation", "act", {{"activation", "relu"}}, {"x"});
  TempDir dir;
  Result<ir::Graph> g = import_tfjs(m.write(dir));
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->inputs.size(), 1u);
  const ir::Value& x = g->values[g->inputs[0]];
  EXPECT_EQ(x.name, "x");
  ASSERT_EQ(x.input_dims.size(), 4u);
  EXPECT_EQ(x.input_dims[0].fixed, 1);
  EXPECT_EQ(x.input_dims[1].fixed, 3);
  EXPECT_EQ(x.input_dims[2].fixed, 32);
  ASSERT_EQ(x.input_dims[3].dynamic, 0);
  ASSERT_EQ(g->dims.size(), 1u);
  EXPECT_EQ(g->dims[0].name, "width");
}

// --- Element-wise layers against their Keras formulas ----------------------------------------

struct ElementwiseCase {
  std::string label;
  std::string cls;
  json config;
  std::function<float(float x, int64_t channel)> keras;
};

void PrintTo(const ElementwiseCase& c, std::ostream* os) { *os << c.label; }

class TfjsElementwise : public ::testing::TestWithParam<ElementwiseCase> {};

TEST_P(TfjsElementwise, MatchesKeras) {
  const ElementwiseCase& c = GetParam();
  TfjsModel m(2);
  m.layer(c.cls, "layer", c.config, {"x"});
  if (c.cls == "PReLU") m.weight("layer/alpha", {1, 1, 2}, {0.1f, -0.5f});
  TempDir dir;
  Tensor x = tensor(Shape{1, 2, 3, 5}, random_values(30, 4, -8.0f, 8.0f));
  Tensor expected(x.shape());
  for (int64_t i = 0; i < x.element_count(); ++i) expected.data()[i] = c.keras(x.data()[i], i / 15);
  expect_near(run(dir, m.write(dir), x), expected, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(
    Layers, TfjsElementwise,
    ::testing::Values(
        ElementwiseCase{"relu", "Activation", {{"activation", "relu"}}, [](float x, int64_t) { return std::max(x, 0.0f); }},
        ElementwiseCase{"relu6", "Activation", {{"activation", "relu6"}},
                        [](float x, int64_t) { return std::clamp(x, 0.0f, 6.0f); }},
        ElementwiseCase{"sigmoid", "Activation", {{"activation", "sigmoid"}},
                        [](float x, int64_t) { return 1.0f / (1.0f + std::exp(-x)); }},
        ElementwiseCase{"tanh", "Activation", {{"activation", "tanh"}}, [](float x, int64_t) { return std::tanh(x); }},
        ElementwiseCase{"hard_sigmoid", "Activation", {{"activation", "hard_sigmoid"}},
                        [](float x, int64_t) { return std::clamp(0.2f * x + 0.5f, 0.0f, 1.0f); }},
        ElementwiseCase{"ReLU", "ReLU", json::object(), [](float x, int64_t) { return std::max(x, 0.0f); }},
        ElementwiseCase{"ReLU_max_value", "ReLU", {{"max_value", 2.5}},
                        [](float x, int64_t) { return std::clamp(x, 0.0f, 2.5f); }},
        ElementwiseCase{"ReLU_slope_and_max", "ReLU", {{"max_value", 3.0}, {"negative_slope", 0.1}},
                        [](float x, int64_t) { return x >= 3.0f ? 3.0f : x >= 0 ? x : 0.1f * x; }},
        ElementwiseCase{"LeakyReLU", "LeakyReLU", {{"alpha", 0.25}},
                        [](float x, int64_t) { return x >= 0 ? x : 0.25f * x; }},
        ElementwiseCase{"LeakyReLU_default_alpha", "LeakyReLU", json::object(),
                        [](float x, int64_t) { return x >= 0 ? x : 0.3f * x; }},
        ElementwiseCase{"PReLU_per_channel", "PReLU", {{"shared_axes", {1, 2}}},
                        [](float x, int64_t c) { return x >= 0 ? x : (c == 0 ? 0.1f : -0.5f) * x; }},
        ElementwiseCase{"MultiplyBeta", "MultiplyBeta", {{"beta", 0.2}}, [](float x, int64_t) { return x * 0.2f; }}),
    [](const ::testing::TestParamInfo<ElementwiseCase>& info) { return info.param.label; });

// --- Merging and resampling layers ------------------------------------------------------------

TEST(TfjsImport, AddSumsEveryInput) {
  TfjsModel m(1);
  m.layer("Activation", "r", {{"activation", "relu"}}, {"x"})
      .layer("MultiplyBeta", "b", {{"beta", 0.2}}, {"x"})
      .layer("Add", "sum", json::object(), {"x", "r", "b"});
  TempDir dir;
  Tensor x = tensor(Shape{1, 1, 1, 2}, {2.0f, -5.0f});
  expect_near(run(dir, m.write(dir), x), tensor(Shape{1, 1, 1, 2}, {2.0f + 2.0f + 0.4f, -5.0f + 0.0f - 1.0f}), 1e-6f);
}

TEST(TfjsImport, ConcatenateLastAxisStacksChannels) {
  TfjsModel m(2);
  m.layer("Activation", "r", {{"activation", "relu"}}, {"x"}).layer("Concatenate", "cat", {{"axis", -1}}, {"x", "r"});
  TempDir dir;
  Tensor x = tensor(Shape{1, 2, 1, 1}, {-1.0f, 3.0f});
  expect_near(run(dir, m.write(dir), x), tensor(Shape{1, 4, 1, 1}, {-1.0f, 3.0f, 0.0f, 3.0f}), 0);
}

TEST(TfjsImport, UpSamplingNearestRepeatsPixels) {
  TfjsModel m(1);
  m.layer("UpSampling2D", "up", {{"size", {2, 3}}, {"interpolation", "nearest"}}, {"x"});
  TempDir dir;
  Tensor y = run(dir, m.write(dir), tensor(Shape{1, 1, 2, 2}, {1, 2, 3, 4}));
  expect_near(y, tensor(Shape{1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}), 0);
}

// Keras bilinear upsampling samples at half-pixel centers: output x reads input (x + 0.5) / 2 - 0.5.
TEST(TfjsImport, UpSamplingBilinearUsesHalfPixelCenters) {
  TfjsModel m(1);
  m.layer("UpSampling2D", "up", {{"size", {2, 2}}, {"interpolation", "bilinear"}}, {"x"});
  TempDir dir;
  Tensor y = run(dir, m.write(dir), tensor(Shape{1, 1, 2, 2}, {0, 4, 8, 12}));
  expect_near(y, tensor(Shape{1, 1, 4, 4}, {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12}), 1e-6f);
}

// tf.depthToSpace in NHWC: output (i, j, c) of a 2x2 block reads channel (i * 2 + j) * C + c.
TEST(TfjsImport, PixelShuffleIsDepthToSpaceInDcrOrder) {
  TfjsModel m(8);
  m.layer("PixelShuffle2x", "shuffle", {{"scale", 2}}, {"x"});
  TempDir dir;
  // Two pixels; pixel p holds 10 * p + k in channel k.
  Tensor x = tensor(Shape{1, 8, 1, 2}, {0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15, 6, 16, 7, 17});
  Tensor expected = tensor(Shape{1, 2, 2, 4}, {0, 2, 10, 12, 4, 6, 14, 16,    // c = 0
                                               1, 3, 11, 13, 5, 7, 15, 17});  // c = 1
  expect_near(run(dir, m.write(dir), x), expected, 0);
}

// --- Errors -----------------------------------------------------------------------------------

TfjsModel one_conv(const json& changes = json::object()) {
  json config = {{"filters", 1}, {"kernel_size", {3, 3}}, {"padding", "same"}};
  config.update(changes);
  TfjsModel m(1);
  m.layer("Conv2D", "conv", config, {"x"});
  m.weight("conv/kernel", {3, 3, 1, 1}, std::vector<float>(9, 1.0f)).weight("conv/bias", {1}, {0.0f});
  return m;
}

Status import_error(const std::string& path) {
  Result<ir::Graph> g = import_tfjs(path);
  EXPECT_FALSE(g.ok()) << path << " imported";
  return g.status();
}

TEST(TfjsImportErrors, MissingShardNamesTheFile) {
  TempDir dir;
  std::string path = one_conv().write(dir);
  std::filesystem::remove(dir.file("group1-shard1of1.bin"));
  Status s = import_error(path);
  EXPECT_EQ(s.code(), Error::IoError);
  EXPECT_CONTAINS(s.message(), dir.file("group1-shard1of1.bin"));
  EXPECT_CONTAINS(s.message(), "missing");
}

TEST(TfjsImportErrors, ShortShardNamesTheFile) {
  TempDir dir;
  std::string path = one_conv().write(dir);
  std::string shard = read_file(dir.file("group1-shard1of1.bin"));
  write_file(dir.file("group1-shard1of1.bin"), shard.substr(0, shard.size() - 3));
  Status s = import_error(path);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), dir.file("group1-shard1of1.bin"));
  EXPECT_CONTAINS(s.message(), "is short");
}

// The model.json of one_conv() with its shard listed as `shard` instead of the file it writes.
std::string with_shard_path(const TempDir& dir, const std::string& shard) {
  json j = one_conv().to_json();
  j["weightsManifest"][0]["paths"][0] = shard;
  return one_conv().write(dir, j);
}

TEST(TfjsImportErrors, AShardThatIsNotARegularFileIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string shard = dir.file("group1-shard1of1.bin");
  std::string path = one_conv().write(dir);
  std::filesystem::remove(shard);
  std::filesystem::create_directory(shard);
  Status s = import_error(path);
  EXPECT_EQ(s.code(), Error::IoError);
  EXPECT_CONTAINS(s.message(), fmt::format("weight shard '{}' listed in '{}' is a directory, not a regular file", shard, path));
  EXPECT_CONTAINS(s.message(), "download the model again");
  std::filesystem::remove(shard);
  ASSERT_EQ(mkfifo(shard.c_str(), 0600), 0);  // no writer: opening it for reading would block
  EXPECT_CONTAINS(import_error(path).message(), "is a FIFO (named pipe), not a regular file");
  std::filesystem::remove(shard);
  std::filesystem::create_symlink("/dev/zero", shard);  // a link the folder's owner made is followed, to a device
  EXPECT_CONTAINS(import_error(path).message(), "is a character device, not a regular file");
}

TEST(TfjsImportErrors, ShardPathsStayInsideTheModelsFolder) {
  for (const char* outside : {"../../../../etc/passwd", "/etc/passwd", "/dev/zero", "sub/../../x.bin", "..", ""}) {
    SCOPED_TRACE(outside);
    TempDir dir;
    Status s = import_error(with_shard_path(dir, outside));
    EXPECT_EQ(s.code(), Error::InvalidModel);
    EXPECT_CONTAINS(s.message(), fmt::format("lists the weight shard '{}', which is not a file inside the model's folder", outside));
  }
  TempDir dir;  // a subfolder is inside
  std::string path = with_shard_path(dir, "sub/weights.bin");
  std::filesystem::create_directory(dir.file("sub"));
  std::filesystem::rename(dir.file("group1-shard1of1.bin"), dir.file("sub/weights.bin"));
  Result<ir::Graph> g = import_tfjs(path);
  EXPECT_TRUE(g.ok()) << g.status().message();
}

TEST(TfjsImportErrors, AShardLargerThanItsWeightsIsRefusedBeforeItIsRead) {
  TempDir dir;
  const std::string shard = dir.file("group1-shard1of1.bin");
  std::string path = one_conv().write(dir);
  write_file(shard, read_file(shard) + "xyz");
  Status s = import_error(path);
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), fmt::format("weight shard '{}' is too large", shard));
  // 64 GiB (sparse): refused from its size, not read.
  std::filesystem::resize_file(shard, int64_t{64} << 30);
  auto start = std::chrono::steady_clock::now();
  EXPECT_CONTAINS(import_error(path).message(), "is too large");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(TfjsImportErrors, UnknownLayerClassNamesTheLayerAndClass) {
  TfjsModel m(1);
  m.layer("Conv3D", "volume", {{"filters", 1}}, {"x"});
  TempDir dir;
  std::string path = m.write(dir);
  Status s = import_error(path);
  EXPECT_EQ(s.code(), Error::Unsupported);
  EXPECT_CONTAINS(s.message(), path);
  EXPECT_CONTAINS(s.message(), "layer 'volume'");
  EXPECT_CONTAINS(s.message(), "layer class 'Conv3D' is not supported");
  EXPECT_CONTAINS(s.message(), "Conv2D");  // the supported list
}

TEST(TfjsImportErrors, ChannelsFirst) {
  TempDir dir;
  Status s = import_error(one_conv({{"data_format", "channels_first"}}).write(dir));
  EXPECT_EQ(s.code(), Error::Unsupported);
  EXPECT_CONTAINS(s.message(), "layer 'conv' (Conv2D): data_format 'channels_first' is not supported");
}

TEST(TfjsImportErrors, BadJson) {
  TempDir dir;
  write_file(dir.file("model.json"), "{\"format\": \"layers-model\", \"modelTopology\": {");
  Status s = import_error(dir.file("model.json"));
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), dir.file("model.json"));
  EXPECT_CONTAINS(s.message(), "not valid JSON");
}

TEST(TfjsImportErrors, WrongConfigTypeNamesTheKey) {
  TempDir dir;
  Status s = import_error(one_conv({{"strides", "two"}}).write(dir));
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "layer 'conv' (Conv2D): 'strides' is \"two\"");
}

TEST(TfjsImportErrors, UnsupportedConfigValues) {
  const std::pair<json, const char*> cases[] = {
      {{{"activation", "elu"}}, "activation 'elu' is not supported"},
      {{{"padding", "causal"}}, "padding 'causal' is not supported"},
      {{{"strides", {2, 2}}}, "depends on the input size"},
      {{{"dtype", "float16"}}, "dtype 'float16' is not supported"},
  };
  for (const auto& [config, words] : cases) {
    TempDir dir;
    Status s = import_error(one_conv(config).write(dir));
    EXPECT_EQ(s.code(), Error::Unsupported) << config.dump();
    EXPECT_CONTAINS(s.message(), words);
  }
}

TEST(TfjsImportErrors, WeightMissingOrMisshapen) {
  TfjsModel m(1);
  m.layer("Conv2D", "conv", {{"filters", 2}, {"kernel_size", {3, 3}}}, {"x"});
  m.weight("conv/kernel", {3, 3, 1, 1}, std::vector<float>(9, 1.0f));
  TempDir dir;
  Status s = import_error(m.write(dir));
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "weight 'conv/kernel' has shape [3, 3, 1, 1]; expected [3, 3, ?, 2]");

  TfjsModel no_bias(1);
  no_bias.layer("Conv2D", "conv", {{"filters", 1}, {"kernel_size", {1, 1}}}, {"x"}).weight("conv/kernel", {1, 1, 1, 1}, {1});
  EXPECT_CONTAINS(import_error(no_bias.write(dir)).message(), "weight 'conv/bias' is not in the weightsManifest");
}

TEST(TfjsImportErrors, MultipleInputs) {
  TfjsModel m(1);
  m.layer("Activation", "a", {{"activation", "relu"}}, {"x"});
  json j = m.to_json();
  j["modelTopology"]["model_config"]["config"]["input_layers"].push_back({"y", 0, 0});
  TempDir dir;
  Status s = import_error(m.write(dir, j));
  EXPECT_EQ(s.code(), Error::Unsupported);
  EXPECT_CONTAINS(s.message(), "has 2 input_layers; tessera reads models with one input and one output");
}

TEST(TfjsImportErrors, PixelShuffleScaleDisagreesWithItsClass) {
  TfjsModel m(8);
  m.layer("PixelShuffle2x", "shuffle", {{"scale", 4}}, {"x"});
  TempDir dir;
  EXPECT_CONTAINS(import_error(m.write(dir)).message(), "'scale' is 4 but the class name says 2");
}

TEST(TfjsImportErrors, PerPixelPReLU) {
  TfjsModel m(2);
  m.layer("PReLU", "p", {{"shared_axes", nullptr}}, {"x"});
  TempDir dir;
  Status s = import_error(m.write(dir));
  EXPECT_EQ(s.code(), Error::Unsupported);
  EXPECT_CONTAINS(s.message(), "shared_axes=[1, 2]");
}

}  // namespace
}  // namespace tessera::testing

// Compile errors through the C++ API: each names what is wrong and suggests the fix, and a failed compile
// writes no output file.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <random>

#include "compile/dims.h"
#include "onnx_builder.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

// Compiles `source` with `dims`, expects a failure that leaves no output behind, and returns it.
Status compile_error(const std::string& source, const std::vector<std::string>& dims) {
  CompileOptions options;
  for (const std::string& d : dims) {
    Result<DimInfo> dim = parse_dim(d);
    EXPECT_TRUE(dim.ok()) << dim.status().message();
    if (dim.ok()) options.dims.push_back(dim.value());
  }
  TempDir dir;
  std::string output = dir.file("out.tsr");
  Result<ModelFile> compiled = compile_file(source, output, options);
  EXPECT_FALSE(compiled.ok()) << source << " compiled";
  EXPECT_FALSE(file_exists(output)) << "a failed compile wrote " << output;
  EXPECT_FALSE(temp_file_left(output)) << "a failed compile left a temporary file beside " << output;
  return compiled.status();
}

Status compile_ok(const std::string& source, const std::vector<std::string>& dims) {
  CompileOptions options;
  for (const std::string& d : dims) options.dims.push_back(parse_dim(d).value());
  TempDir dir;
  Result<ModelFile> compiled = compile_file(source, dir.file("out.tsr"), options);
  return compiled.status();
}

TEST(CompileErrors, UnboundDynamicDim) {
  Status s = compile_error(testdata("tiny.onnx"), {"width=256:1024"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "dynamic dim 'height' has no range");
  EXPECT_CONTAINS(s.message(), "--dim height=MIN:MAX");
}

TEST(CompileErrors, UnknownDimListsTheModelsDims) {
  Status s = compile_error(testdata("tiny.onnx"), {"height=256:1024", "width=256:1024", "depth=1:4"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "no dynamic dim 'depth'");
  EXPECT_CONTAINS(s.message(), "its dynamic dims: height, width");
}

TEST(CompileErrors, MalformedDimStrings) {
  const std::pair<const char*, const char*> cases[] = {
      {"height", "expected NAME=MIN:MAX"},
      {"height=1", "expected NAME=MIN:MAX"},
      {"height=a:b", "expected NAME=MIN:MAX"},
      {"height=1:", "expected NAME=MIN:MAX"},
      {"=1:2", "expected NAME=MIN:MAX"},
      {"height=1:2:3:4", "expected NAME=MIN:MAX"},
      {"height=10:5", "need 1 <= MIN <= MAX"},
      {"height=0:5", "need 1 <= MIN <= MAX"},
      {"height=-4:5", "need 1 <= MIN <= MAX"},
      {"height=1:5:0", "MULTIPLE >= 1"},
      {"height=1:99999999", "MAX and MULTIPLE may be at most 16777216"},
      {"height=5:7:4", "no multiple of 4 lies in 5..7"},
  };
  for (const auto& [text, part] : cases) {
    Result<DimInfo> d = parse_dim(text);
    ASSERT_FALSE(d.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(d.status().code(), Error::InvalidArgument) << text;
    EXPECT_CONTAINS(d.status().message(), fmt::format("'{}'", text));
    EXPECT_CONTAINS(d.status().message(), part);
  }
  Result<DimInfo> good = parse_dim("height=32:256:4");
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->name, "height");
  EXPECT_EQ(good->min, 32);
  EXPECT_EQ(good->max, 256);
  EXPECT_EQ(good->multiple_of, 4);
}

// unet needs height % 4 == 0 (two stride-2 convs, two x2 upsamplings, concat skips). Regression: the
// suggestion used to take the first multiple that worked, m=1, giving the one-value range "height must be at
// least 256; try --dim height=256:256" instead of the multiple of 4 that admits 57 values.
TEST(CompileErrors, UnetHeightNotAMultipleOf4) {
  Status s = compile_error(testdata("unet.onnx"), {"height=30:256", "width=32:256:4"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "--dim height=30:256 does not fit the model: at height=30");
  EXPECT_CONTAINS(s.message(), "height must be a multiple of 4");
  EXPECT_CONTAINS(s.message(), "try --dim height=32:256:4");
  EXPECT_TRUE(compile_ok(testdata("unet.onnx"), {"height=32:256:4", "width=32:256:4"}).ok());
}

TEST(CompileErrors, ValidConvsMinTooSmallSuggestsALargerMin) {
  // valid_convs shrinks H by 2, 4, 2, then a stride-2 3x3: it needs H >= 11 (and W >= 9: its 3x1 conv keeps W).
  Status s = compile_error(testdata("valid_convs.onnx"), {"height=8:200", "width=16:200"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "at height=8");
  EXPECT_CONTAINS(s.message(), "too small");
  EXPECT_CONTAINS(s.message(), "height must be at least 11; try --dim height=11:200");

  s = compile_error(testdata("valid_convs.onnx"), {"height=16:200", "width=4:200"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "width must be at least 9; try --dim width=9:200");

  // The suggestions are right: they compile, and one below does not.
  EXPECT_TRUE(compile_ok(testdata("valid_convs.onnx"), {"height=11:200", "width=9:200"}).ok());
  EXPECT_FALSE(compile_ok(testdata("valid_convs.onnx"), {"height=10:200", "width=9:200"}).ok());
}

// x [1, 1, height, width] → Conv "conv0" (3x3, pads 1) → `op` node `node_name` → y.
std::string write_onnx(const TempDir& dir, const std::string& op, const std::string& node_name,
                       const std::string& domain = "") {
  onnx::ModelProto model;
  onnx::GraphProto* g = start_image_model(model, "handmade", 1, 1);

  onnx::TensorProto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 1, 3, 3}) w->add_dims(d);
  for (int i = 0; i < 9; ++i) w->add_float_data(0.1f * i);

  onnx::NodeProto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv0");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_output("h");
  onnx::AttributeProto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int p : {1, 1, 1, 1}) pads->add_ints(p);

  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(node_name);
  n->set_domain(domain);
  n->add_input("h");
  n->add_output("y");

  return save_onnx(dir, model, op + ".onnx");
}

TEST(CompileErrors, HandmadeOnnxWithASupportedOpCompiles) {
  TempDir dir;  // the control for the test below: the same model with Relu is fine
  Status s = compile_ok(write_onnx(dir, "Relu", "act"), {"height=8:64", "width=8:64"});
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(CompileErrors, UnsupportedOpNamesTheOpAndNodeAndListsSupportedOps) {
  TempDir dir;
  for (const char* op : {"Softmax", "Elu", "InstanceNormalization"}) {
    std::string node = std::string("my_") + op;
    Status s = compile_error(write_onnx(dir, op, node), {"height=8:64", "width=8:64"});
    EXPECT_EQ(s.code(), Error::Unsupported) << op;
    EXPECT_CONTAINS(s.message(), fmt::format("node '{}' is op '{}'", node, op));
    EXPECT_CONTAINS(s.message(), "Supported ONNX ops: Conv, ConvTranspose, Relu");
  }
}

TEST(CompileErrors, NodeOfAnotherDomain) {
  TempDir dir;
  Status s = compile_error(write_onnx(dir, "FusedGelu", "gelu0", "com.microsoft"), {"height=8:64", "width=8:64"});
  EXPECT_EQ(s.code(), Error::Unsupported);
  EXPECT_CONTAINS(s.message(), "node 'gelu0' is op 'FusedGelu' of domain 'com.microsoft'");
}

TEST(CompileErrors, NotAnOnnxFile) {
  TempDir dir;
  std::string path = dir.file("noise.onnx");
  std::mt19937 rng(7);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  write_file(path, noise);
  Status s = compile_error(path, {"height=256:1024", "width=256:1024"});
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), path);

  write_file(path, "");  // an empty protobuf parses, but has no graph
  s = compile_error(path, {"height=256:1024", "width=256:1024"});
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "has no graph");
}

TEST(CompileErrors, MissingSourceFile) {
  TempDir dir;
  std::string path = dir.file("missing.onnx");
  Status s = compile_error(path, {"height=256:1024", "width=256:1024"});
  EXPECT_EQ(s.code(), Error::IoError);
  EXPECT_CONTAINS(s.message(), path);
}

TEST(CompileErrors, UnknownSourceExtension) {
  TempDir dir;
  std::string path = dir.file("tiny.pb");
  write_file(path, read_file(testdata("tiny.onnx")));
  Status s = compile_error(path, {"height=256:1024", "width=256:1024"});
  EXPECT_EQ(s.code(), Error::InvalidArgument);
  EXPECT_CONTAINS(s.message(), "unknown source model format");
  EXPECT_CONTAINS(s.message(), ".onnx");
}

TEST(CompileErrors, OutputIsTheSource) {
  TempDir dir;
  std::string source = dir.file("model.onnx");
  write_file(source, read_file(testdata("tiny.onnx")));
  std::string before = read_file(source);
  CompileOptions options;
  for (const char* d : {"height=256:1024", "width=256:1024"}) options.dims.push_back(parse_dim(d).value());
  for (const std::string& output : {source, dir.path() + "/./model.onnx"}) {
    Result<ModelFile> compiled = compile_file(source, output, options);
    ASSERT_FALSE(compiled.ok()) << output;
    EXPECT_EQ(compiled.status().code(), Error::InvalidArgument);
    EXPECT_CONTAINS(compiled.status().message(), "is the source model");
    EXPECT_TRUE(read_file(source) == before) << "the source model was overwritten";
  }
}

TEST(CompileErrors, UnwritableOutput) {
  CompileOptions options;
  for (const char* d : {"height=256:1024", "width=256:1024"}) options.dims.push_back(parse_dim(d).value());
  TempDir dir;
  std::string output = dir.file("no_such_folder/out.tsr");
  Result<ModelFile> compiled = compile_file(testdata("tiny.onnx"), output, options);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), Error::IoError);
  EXPECT_CONTAINS(compiled.status().message(), output);
}

// Ranges given through the API (not parsed from --dim) are checked the same way.
TEST(CompileErrors, EmptyRangeThroughTheApi) {
  TempDir dir;
  for (const auto& [height, message] : {std::pair{DimInfo{"height", 256, 32, 1}, "need 1 <= MIN <= MAX"},
                                        std::pair{DimInfo{"height", 5, 7, 8}, "no multiple of 8 lies in 5..7"},
                                        std::pair{DimInfo{"height", 0, 64, 1}, "need 1 <= MIN <= MAX"}}) {
    CompileOptions options{{height, {"width", 256, 1024, 1}}};
    Result<std::shared_ptr<const Model>> m = compile_model(testdata("tiny.onnx"), dir.file("out.tsr"), options);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Error::InvalidArgument);
    EXPECT_NE(m.status().message().find(message), std::string::npos) << m.status().message();
    EXPECT_FALSE(file_exists(dir.file("out.tsr")));
  }
}

// What the loader would refuse, the compiler refuses first, and writes nothing: sizes past the limit, a
// pad of 2e9, a Resize by a million.
TEST(CompileErrors, NoFileTheLoaderWouldRefuse) {
  Status s = compile_error(testdata("tiny.onnx"), {"height=5:3000000", "width=5:3000000"});
  EXPECT_EQ(s.code(), Error::InvalidModel);
  EXPECT_CONTAINS(s.message(), "would take 32.7 TiB at height=3000000, width=3000000; tessera plans at most 1.0 TiB");

  TempDir dir;
  std::mt19937 rng(7);
  onnx::ModelProto padded;
  add_conv(start_image_model(padded, "padded", 1, 1), rng, "x", "y", 1, 1, 3, {2000000000, 1, 1, 1});
  s = compile_error(save_onnx(dir, padded, "padded.onnx"), {"height=8:64", "width=8:64"});
  EXPECT_CONTAINS(s.message(), "node 'y' (Conv): pads 2000000000x1x1x1 is out of range (each must lie in 0..16777216)");

  onnx::ModelProto resized;
  onnx::GraphProto* g = start_image_model(resized, "resized", 1, 1);
  onnx::TensorProto* scales = g->add_initializer();
  scales->set_name("scales");
  scales->set_data_type(onnx::TensorProto::FLOAT);
  scales->add_dims(4);
  for (float f : {1.0f, 1.0f, 1e6f, 1e6f}) scales->add_float_data(f);
  add_node(g, "Resize", {"x", "", "scales"}, "y");
  s = compile_error(save_onnx(dir, resized, "resized.onnx"), {"height=8:64", "width=8:64"});
  EXPECT_CONTAINS(s.message(), "node 'y' (Resize): scale 1000000 is out of range (above 0, at most 64)");
}

}  // namespace
}  // namespace tessera::testing

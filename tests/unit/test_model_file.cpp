// A .tsr file round-trips what the compiler wrote; files the compiler writes with values no good file
// has are refused (the damaged copies of a good file: tests/runtime/test_damaged_model_files.cpp).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fmt/format.h>
#include <regex>

#include "compile/dims.h"
#include "format/header.h"
#include "format/tessera_generated.h"
#include "format/writer.h"
#include "runtime/model_data.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

CompileOptions tiny_options() {
  CompileOptions options;
  for (const char* d : {"height=256:1024", "width=256:1024"}) options.dims.push_back(parse_dim(d).value());
  return options;
}

class ModelFile : public ::testing::Test {
 protected:
  // The tiny model compiled once, and its bytes.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), dir_->file("tiny.tsr"), tiny_options());
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    good_ = read_file(dir_->file("tiny.tsr"));
    ASSERT_GE(good_.size(), sizeof(format::FileHeader));
    std::memcpy(&header_, good_.data(), sizeof(header_));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string good_;
  static inline format::FileHeader header_{};
};

// An arena the machine cannot give is an out-of-memory error that says what to change, not an internal one.
TEST_F(ModelFile, AnArenaTooLargeForTheMachineIsOutOfMemory) {
  Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), dir_->file("big_src.tsr"), tiny_options());
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  compiled->plan.arena_bytes = int64_t{1} << 40;  // the most a file may plan: 1 TiB
  std::string path = dir_->file("big_arena.tsr");
  ASSERT_TRUE(write_tsr(*compiled, path).ok());
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  Result<std::unique_ptr<Session>> s = Session::create(*m, {"reference", 1});
  ASSERT_FALSE(s.ok()) << "allocated 1 TiB";
  EXPECT_EQ(s.status().code(), Error::OutOfMemory);
  EXPECT_CONTAINS(s.status().message(), "cannot allocate the 1099511627776-byte arena");
  EXPECT_CONTAINS(s.status().message(), "compile it with a smaller --dim MAX");
}

// run maps pixels through the file's range: an infinite or empty one would write black images.
TEST_F(ModelFile, APixelRangeThatIsNotARangeIsRefused) {
  const float inf = std::numeric_limits<float>::infinity();
  for (auto [lo, hi] : {std::pair{0.0f, inf}, std::pair{std::nanf(""), 1.0f}, std::pair{1.0f, 1.0f}, std::pair{2.0f, 1.0f}}) {
    Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), dir_->file("range_src.tsr"), tiny_options());
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    compiled->pixel_min = lo;
    compiled->pixel_max = hi;
    std::string path = dir_->file("range.tsr");
    ASSERT_TRUE(write_tsr(*compiled, path).ok());
    EXPECT_FALSE(temp_file_left(path));
    Result<std::shared_ptr<const Model>> m = Model::load(path);
    ASSERT_FALSE(m.ok()) << lo << ":" << hi;
    EXPECT_CONTAINS(m.status().message(), "is not two finite numbers, the first below the second");
  }
}

// The planner only makes arenas of whole 64-byte blocks; a file claiming another size is corrupt (an
// unaligned size would also make Session::create's aligned_alloc invalid). Found by the fuzz loop under ASan.
TEST_F(ModelFile, ArenaSizeNotAMultipleOf64IsRefused) {
  Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), dir_->file("odd_arena_src.tsr"), tiny_options());
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  ASSERT_EQ(compiled->plan.arena_bytes % kArenaAlignment, 0);
  compiled->plan.arena_bytes += 1;
  std::string path = dir_->file("odd_arena.tsr");
  ASSERT_TRUE(write_tsr(*compiled, path).ok());
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_FALSE(m.ok()) << "loaded a model whose arena is " << compiled->plan.arena_bytes << " bytes";
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
}

TEST_F(ModelFile, RoundTripsTheModelFile) {
  TempDir dir;
  CompileOptions options = tiny_options();
  options.pixel_max = 255.0f;
  std::string path = dir.file("tiny.tsr");
  Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), path, options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_FALSE(temp_file_left(path));
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const ModelInfo& info = (*m)->info();

  EXPECT_EQ(info.source, "tiny.onnx");
  EXPECT_EQ(info.layout, "NCHW");
  ASSERT_EQ(info.dims.size(), 2u);
  EXPECT_EQ(info.dims[0].name, "height");
  EXPECT_EQ(info.dims[1].name, "width");
  for (const DimInfo& d : info.dims) {
    EXPECT_EQ(d.min, 256) << d.name;
    EXPECT_EQ(d.max, 1024) << d.name;
    EXPECT_EQ(d.multiple_of, 1) << d.name;
  }
  ASSERT_EQ(info.inputs.size(), 1u);
  EXPECT_EQ(info.inputs[0].name, "x");
  EXPECT_EQ(info.inputs[0].axes, (std::vector<std::string>{"1", "1", "height", "width"}));
  ASSERT_EQ(info.outputs.size(), 1u);
  EXPECT_EQ(info.outputs[0].name, "y");
  ASSERT_EQ(info.op_counts.size(), 2u);
  EXPECT_EQ(info.op_counts[0].op, "Conv");
  EXPECT_EQ(info.op_counts[0].count, 3);
  EXPECT_EQ(info.op_counts[1].op, "Relu");
  EXPECT_EQ(info.op_counts[1].count, 2);

  // Conv → Relu (in place) → Conv: two [1, 8, 1024, 1024] float tensors alive at once, at the upper bound.
  const int64_t tensor_bytes = int64_t{1} * 8 * 1024 * 1024 * 4;
  EXPECT_EQ(info.arena_bytes, 2 * tensor_bytes);
  EXPECT_EQ(info.lower_bound_bytes, 2 * tensor_bytes);
  EXPECT_EQ(info.arena_bytes, compiled->plan.arena_bytes);
  // Weights [8,1,3,3] [8] [8,8,3,3] [8] [1,8,3,3] [1], each padded to 64 bytes: 320+64+2304+64+320+64.
  EXPECT_EQ(info.weights_bytes, 3136);
  EXPECT_EQ(info.file_bytes, static_cast<int64_t>(std::filesystem::file_size(path)));
  EXPECT_EQ(info.pixel_min, 0.0f);
  EXPECT_EQ(info.pixel_max, 255.0f);

  Result<std::unique_ptr<Session>> s = Session::create(*m);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->arena_bytes(), info.arena_bytes);
}

// The content hash of a model compiled from `source` with `options`, as Model::load reports it.
std::string hash_of(const std::string& source, const std::string& name, const CompileOptions& options) {
  TempDir dir;
  std::string copy = dir.file(name + ".onnx");
  std::filesystem::copy_file(testdata(source), copy);
  EXPECT_TRUE(compile_file(copy, dir.file(name + ".tsr"), options).ok());
  Result<std::shared_ptr<const Model>> m = Model::load(dir.file(name + ".tsr"));
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? (*m)->info().content_hash : "";
}

TEST_F(ModelFile, ContentHashNamesWhatDeterminesTheOutputs) {
  const std::string hash = hash_of("tiny.onnx", "tiny", tiny_options());
  EXPECT_TRUE(std::regex_match(hash, std::regex("sha256:[0-9a-f]{64}"))) << hash;
  // The source file's name is not part of it; dims, pixel range and weights are.
  EXPECT_EQ(hash_of("tiny.onnx", "renamed", tiny_options()), hash);
  CompileOptions other_dims = tiny_options();
  other_dims.dims[0].max = 512;
  EXPECT_NE(hash_of("tiny.onnx", "tiny", other_dims), hash);
  CompileOptions other_range = tiny_options();
  other_range.pixel_max = 255.0f;
  EXPECT_NE(hash_of("tiny.onnx", "tiny", other_range), hash);
  EXPECT_NE(hash_of("valid_convs.onnx", "tiny", tiny_options()), hash);
}

// A file written before the hash existed has no content_hash field: the vtable slot of the root table
// is zero. Clearing that slot makes one (the metadata is not under the weights checksum).
TEST_F(ModelFile, FileWithoutHashLoadsAndSaysSo) {
  std::string bytes = good_;
  uint8_t* meta = reinterpret_cast<uint8_t*>(bytes.data()) + header_.meta_offset;
  const fb::Model* root = fb::GetModel(meta);
  ASSERT_NE(root->content_hash(), nullptr);
  const uint8_t* table = reinterpret_cast<const uint8_t*>(root);
  uint8_t* vtable = const_cast<uint8_t*>(table - flatbuffers::ReadScalar<flatbuffers::soffset_t>(table));
  ASSERT_GT(flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable), fb::Model::VT_CONTENT_HASH);
  flatbuffers::WriteScalar<flatbuffers::voffset_t>(vtable + fb::Model::VT_CONTENT_HASH, 0);

  std::string path = dir_->file("without_hash.tsr");
  write_file(path, bytes);
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)->info().content_hash, "");
  CliResult info = run_cli(*dir_, "info " + path);
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("hash     none (written before tessera 0.2)"), std::string::npos) << info.out;
  CliResult json = run_cli(*dir_, "info --json " + path);
  EXPECT_NE(json.out.find("\"content_hash\": null"), std::string::npos) << json.out;
}

TEST_F(ModelFile, InfoAndRunSummaryShowTheHash) {
  Result<std::shared_ptr<const Model>> m = Model::load(dir_->file("tiny.tsr"));
  ASSERT_TRUE(m.ok());
  const std::string hash = (*m)->info().content_hash;
  CliResult info = run_cli(*dir_, "info " + dir_->file("tiny.tsr"));
  EXPECT_NE(info.out.find("hash     " + hash + "\n"), std::string::npos) << info.out;
  CliResult json = run_cli(*dir_, "info --json " + dir_->file("tiny.tsr"));
  EXPECT_NE(json.out.find("\"content_hash\": \"" + hash + "\""), std::string::npos) << json.out;
  CliResult run = run_cli(*dir_, fmt::format("run {} {} {}", dir_->file("tiny.tsr"), testdata("tiny/in_256x256.npy"),
                                             dir_->file("out.npy")));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("model " + hash.substr(0, 19) + ")"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace tessera::testing

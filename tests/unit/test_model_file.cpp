// Model::load on untrusted .tsr files: every damaged file is refused with a Status (never a crash), and a
// good file round-trips what the compiler wrote.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fmt/format.h>
#include <random>
#include <regex>
#include <tuple>

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
  // The tiny model compiled once; each test writes damaged copies of its bytes.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    Result<tessera::ModelFile> compiled = compile_file(testdata("tiny.onnx"), dir_->file("tiny.tsr"), tiny_options());
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    good_ = read_file(dir_->file("tiny.tsr"));
    ASSERT_GE(good_.size(), sizeof(format::FileHeader));
    std::memcpy(&header_, good_.data(), sizeof(header_));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // Writes `bytes` to a file and loads it.
  static Result<std::shared_ptr<const Model>> load_bytes(const std::string& bytes) {
    std::string path = dir_->file("damaged.tsr");
    write_file(path, bytes);
    return Model::load(path);
  }

  static std::string with_header(const format::FileHeader& h) {
    std::string bytes = good_;
    std::memcpy(bytes.data(), &h, sizeof(h));
    return bytes;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string good_;
  static inline format::FileHeader header_{};
};

TEST_F(ModelFile, MissingFileIsIoError) {
  std::string path = dir_->file("no_such_model.tsr");
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::IoError);
  EXPECT_CONTAINS(m.status().message(), path);
}

TEST_F(ModelFile, EmptyFile) {
  Result<std::shared_ptr<const Model>> m = load_bytes("");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), "is empty");
}

TEST_F(ModelFile, BadMagic) {
  std::string bytes = good_;
  bytes[0] = 'X';
  Result<std::shared_ptr<const Model>> m = load_bytes(bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), "bad magic");
}

TEST_F(ModelFile, WrongFormatVersion) {
  format::FileHeader h = header_;
  h.format_version = format::kFormatVersion + 1;
  Result<std::shared_ptr<const Model>> m = load_bytes(with_header(h));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), fmt::format("format version {}", format::kFormatVersion + 1));
  EXPECT_CONTAINS(m.status().message(), "recompile");
}

TEST_F(ModelFile, HeaderSectionsOutsideTheFile) {
  std::vector<std::pair<const char*, format::FileHeader>> cases;
  auto add = [&](const char* what, auto change) {
    format::FileHeader h = header_;
    change(h);
    cases.emplace_back(what, h);
  };
  add("header_bytes", [](format::FileHeader& h) { h.header_bytes = 63; });
  add("meta past the end", [&](format::FileHeader& h) { h.meta_offset = good_.size(); });
  add("meta too long", [](format::FileHeader& h) { h.meta_bytes = UINT64_MAX - 8; });
  add("meta inside the header", [](format::FileHeader& h) { h.meta_offset = 8; });
  add("meta over the weights", [](format::FileHeader& h) { h.meta_bytes = h.weights_offset; });
  add("weights past the end", [](format::FileHeader& h) { h.weights_bytes += 64; });
  add("weights misaligned", [](format::FileHeader& h) { h.weights_offset += 4; h.weights_bytes -= 4; });
  // The flatbuffers Verifier checks alignment from the metadata's start: that start must be aligned.
  add("meta misaligned", [](format::FileHeader& h) { h.meta_offset += 4; h.meta_bytes -= 4; });
  for (const auto& [what, h] : cases) {
    Result<std::shared_ptr<const Model>> m = load_bytes(with_header(h));
    ASSERT_FALSE(m.ok()) << what;
    EXPECT_EQ(m.status().code(), Error::InvalidModel) << what;
    EXPECT_CONTAINS(m.status().message(), "truncated or corrupt") << what;
  }
}

TEST_F(ModelFile, ReservedHeaderWordsMustBeZero) {
  for (int word = 0; word < 3; ++word) {
    format::FileHeader h = header_;
    h.reserved[word] = 1;
    Result<std::shared_ptr<const Model>> m = load_bytes(with_header(h));
    ASSERT_FALSE(m.ok()) << word;
    EXPECT_CONTAINS(m.status().message(), "its header's reserved words are not zero");
  }
}

// A .tsr ends with its weights: bytes after them (a file appended to, 100 GB of them or one) are refused.
TEST_F(ModelFile, BytesAfterTheWeightsAreRefused) {
  for (size_t extra : {size_t{1}, size_t{64}, size_t{4096}}) {
    Result<std::shared_ptr<const Model>> m = load_bytes(good_ + std::string(extra, '\0'));
    ASSERT_FALSE(m.ok()) << extra;
    EXPECT_EQ(m.status().code(), Error::InvalidModel);
    EXPECT_CONTAINS(m.status().message(), fmt::format("{} bytes follow its weights", extra));
  }
}

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

TEST_F(ModelFile, TruncatedAtEveryLength) {
  for (size_t length = 0; length < good_.size(); length += 7) {
    Result<std::shared_ptr<const Model>> m = load_bytes(good_.substr(0, length));
    ASSERT_FALSE(m.ok()) << "a file truncated to " << length << " of " << good_.size() << " bytes loaded";
    EXPECT_EQ(m.status().code(), Error::InvalidModel) << length << ": " << m.status().message();
  }
}

TEST_F(ModelFile, FlippedWeightByteFailsTheChecksum) {
  for (uint64_t at : {header_.weights_offset, header_.weights_offset + header_.weights_bytes / 2,
                      header_.weights_offset + header_.weights_bytes - 1}) {
    std::string bytes = good_;
    bytes[at] ^= 0x01;
    Result<std::shared_ptr<const Model>> m = load_bytes(bytes);
    ASSERT_FALSE(m.ok()) << "byte " << at;
    EXPECT_EQ(m.status().code(), Error::InvalidModel);
    EXPECT_CONTAINS(m.status().message(), "weights checksum does not match");
  }
}

// Whether two loaded models would run identically: everything the runtime reads except names. Compares
// Conv attributes field by field, other attributes by kind only (the fuzzed model, tiny, has Conv and Relu).
bool same_semantics(const ModelData& a, const ModelData& b) {
  const ir::Graph &x = a.graph, &y = b.graph;
  auto dim = [](const ir::DynamicDim& d) { return std::tie(d.min, d.max, d.multiple_of); };
  auto weight_offset = [](const ModelData& m, const ir::Value& v) {
    return v.constant_data ? reinterpret_cast<const uint8_t*>(v.constant_data) - m.file->data() : -1;
  };
  auto conv = [](const ir::ConvAttrs& c) {
    return std::tie(c.kernel, c.strides, c.dilations, c.pads, c.output_padding, c.group);
  };
  if (x.dims.size() != y.dims.size() || x.values.size() != y.values.size() || x.nodes.size() != y.nodes.size() ||
      x.inputs != y.inputs || x.outputs != y.outputs || a.plan.offsets != b.plan.offsets ||
      a.plan.arena_bytes != b.plan.arena_bytes)
    return false;
  for (size_t i = 0; i < x.dims.size(); ++i)
    if (dim(x.dims[i]) != dim(y.dims[i])) return false;
  for (size_t i = 0; i < x.values.size(); ++i) {
    const ir::Value &u = x.values[i], &v = y.values[i];
    if (u.kind != v.kind || !(u.constant_shape == v.constant_shape) || weight_offset(a, u) != weight_offset(b, v) ||
        u.input_dims.size() != v.input_dims.size())
      return false;
    for (size_t k = 0; k < u.input_dims.size(); ++k)
      if (u.input_dims[k].fixed != v.input_dims[k].fixed || u.input_dims[k].dynamic != v.input_dims[k].dynamic)
        return false;
  }
  for (size_t i = 0; i < x.nodes.size(); ++i) {
    const ir::Node &u = x.nodes[i], &v = y.nodes[i];
    if (u.op != v.op || u.inputs != v.inputs || u.output != v.output || u.attrs.index() != v.attrs.index()) return false;
    if (auto* c = std::get_if<ir::ConvAttrs>(&u.attrs))
      if (conv(*c) != conv(std::get<ir::ConvAttrs>(v.attrs))) return false;
  }
  return true;
}

// 2000 random corruptions of the metadata: load returns a Status or succeeds; a model that loads creates
// a Session, and runs a 256x256 input, without crashing (either may return an error). A corruption that
// only renames things runs exactly like the original (run once here), so only models that differ in what
// the runtime reads are run: that keeps the loop at a few seconds.
TEST_F(ModelFile, FuzzedMetadataNeverCrashes) {
  Result<std::shared_ptr<const Model>> original = load_bytes(good_);
  ASSERT_TRUE(original.ok()) << original.status().message();
  Tensor input(Shape{1, 1, 256, 256});
  ConstTensorView view = input.view();
  {
    Result<std::unique_ptr<Session>> s = Session::create(*original);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->run({&view, 1}).ok());
  }

  std::mt19937 rng(20240607);
  const uint64_t meta_begin = header_.meta_offset, meta_bytes = header_.meta_bytes;
  ASSERT_EQ(meta_begin, 64u);
  int loaded = 0, ran = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = good_;
    std::string what;
    switch (i % 4) {
      case 0:
      case 1: {  // one byte
        uint64_t at = meta_begin + rng() % meta_bytes;
        bytes[at] ^= static_cast<char>(1 + rng() % 255);
        what = fmt::format("byte {}", at);
        break;
      }
      case 2: {  // 2..16 bytes anywhere in the metadata
        for (int k = 2 + rng() % 15; k > 0; --k) {
          uint64_t at = meta_begin + rng() % meta_bytes;
          bytes[at] = static_cast<char>(rng());
          what += fmt::format("{} ", at);
        }
        what = "bytes " + what;
        break;
      }
      default: {  // an aligned 32-bit word: offsets, lengths, indices
        uint64_t at = meta_begin + (rng() % (meta_bytes / 4)) * 4;
        uint32_t word = rng() % 3 == 0 ? rng() % 64 : static_cast<uint32_t>(rng());
        std::memcpy(bytes.data() + at, &word, 4);
        what = fmt::format("word {} = {}", at, word);
        break;
      }
    }
    SCOPED_TRACE(fmt::format("iteration {}: {}", i, what));
    Result<std::shared_ptr<const Model>> m = load_bytes(bytes);
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), Error::InvalidModel) << m.status().message();
      EXPECT_FALSE(m.status().message().empty());
      continue;
    }
    ++loaded;
    Result<std::unique_ptr<Session>> s = Session::create(*m);
    if (!s.ok() || same_semantics((*m)->data(), (*original)->data())) continue;
    Result<std::span<const TensorView>> out = (*s)->run({&view, 1});
    ++ran;
    if (!out.ok()) {
      EXPECT_FALSE(out.status().message().empty());
    }
  }
  // The loop must exercise all three outcomes, or it is not testing what it says.
  EXPECT_GT(loaded, 0);
  EXPECT_LT(loaded, 2000);
  EXPECT_GT(ran, 0);
  RecordProperty("loaded", loaded);
  RecordProperty("ran", ran);
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

// Model::load on untrusted .tsr files: every damaged copy of a good file (the tiny model as the build
// machine compiled it) is refused with a Status, never a crash, on every CPU.
#include <cstring>
#include <fmt/format.h>
#include <random>
#include <tuple>

#include "format/header.h"
#include "runtime/model_data.h"
#include "runtime_support.h"

namespace tessera::testing {
namespace {

class DamagedModelFile : public ::testing::Test {
 protected:
  // The tiny model's bytes; each test writes damaged copies of them.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    good_ = read_file(testdata("compiled/tiny.tsr"));
    ASSERT_GE(good_.size(), sizeof(format::FileHeader)) << "the build step writes compiled/tiny.tsr";
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

TEST_F(DamagedModelFile, MissingFileIsIoError) {
  std::string path = dir_->file("no_such_model.tsr");
  Result<std::shared_ptr<const Model>> m = Model::load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::IoError);
  EXPECT_CONTAINS(m.status().message(), path);
}

TEST_F(DamagedModelFile, EmptyFile) {
  Result<std::shared_ptr<const Model>> m = load_bytes("");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), "is empty");
}

TEST_F(DamagedModelFile, BadMagic) {
  std::string bytes = good_;
  bytes[0] = 'X';
  Result<std::shared_ptr<const Model>> m = load_bytes(bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), "bad magic");
}

TEST_F(DamagedModelFile, WrongFormatVersion) {
  format::FileHeader h = header_;
  h.format_version = format::kFormatVersion + 1;
  Result<std::shared_ptr<const Model>> m = load_bytes(with_header(h));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Error::InvalidModel);
  EXPECT_CONTAINS(m.status().message(), fmt::format("format version {}", format::kFormatVersion + 1));
  EXPECT_CONTAINS(m.status().message(), "recompile");
}

TEST_F(DamagedModelFile, HeaderSectionsOutsideTheFile) {
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

TEST_F(DamagedModelFile, ReservedHeaderWordsMustBeZero) {
  for (int word = 0; word < 3; ++word) {
    format::FileHeader h = header_;
    h.reserved[word] = 1;
    Result<std::shared_ptr<const Model>> m = load_bytes(with_header(h));
    ASSERT_FALSE(m.ok()) << word;
    EXPECT_CONTAINS(m.status().message(), "its header's reserved words are not zero");
  }
}

// A .tsr ends with its weights: bytes after them (a file appended to, 100 GB of them or one) are refused.
TEST_F(DamagedModelFile, BytesAfterTheWeightsAreRefused) {
  for (size_t extra : {size_t{1}, size_t{64}, size_t{4096}}) {
    Result<std::shared_ptr<const Model>> m = load_bytes(good_ + std::string(extra, '\0'));
    ASSERT_FALSE(m.ok()) << extra;
    EXPECT_EQ(m.status().code(), Error::InvalidModel);
    EXPECT_CONTAINS(m.status().message(), fmt::format("{} bytes follow its weights", extra));
  }
}

TEST_F(DamagedModelFile, TruncatedAtEveryLength) {
  for (size_t length = 0; length < good_.size(); length += 7) {
    Result<std::shared_ptr<const Model>> m = load_bytes(good_.substr(0, length));
    ASSERT_FALSE(m.ok()) << "a file truncated to " << length << " of " << good_.size() << " bytes loaded";
    EXPECT_EQ(m.status().code(), Error::InvalidModel) << length << ": " << m.status().message();
  }
}

TEST_F(DamagedModelFile, FlippedWeightByteFailsTheChecksum) {
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
TEST_F(DamagedModelFile, FuzzedMetadataNeverCrashes) {
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

}  // namespace
}  // namespace tessera::testing

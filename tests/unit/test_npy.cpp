// write_npy/read_npy: float32 C-order arrays round-trip; anything else is refused with a Status.
#include <cstring>
#include <filesystem>

#include "test_support.h"

namespace tessera::testing {
namespace {

Tensor counting_tensor(const Shape& shape) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.element_count(); ++i) t.data()[i] = 0.5f * static_cast<float>(i) - 3.0f;
  return t;
}

std::string float_bytes(int64_t count) { return std::string(static_cast<size_t>(count) * sizeof(float), '\0'); }

TEST(Npy, RoundTripRanks1To4) {
  TempDir dir;
  for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}, Shape{1, 2, 3, 5}}) {
    SCOPED_TRACE(shape.to_string());
    Tensor t = counting_tensor(shape);
    std::string path = dir.file("t.npy");
    Status w = write_npy(path, t.view());
    ASSERT_TRUE(w.ok()) << w.message();
    EXPECT_FALSE(temp_file_left(path));
    int64_t data_bytes = t.element_count() * 4;
    EXPECT_EQ((static_cast<int64_t>(std::filesystem::file_size(path)) - data_bytes) % 64, 0)
        << "the data should start 64-byte aligned";

    Result<Tensor> r = read_npy(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->shape(), shape);
    EXPECT_EQ(std::memcmp(r->data(), t.data(), data_bytes), 0);
  }
}

TEST(Npy, ReadsAHandWrittenFloat32File) {
  TempDir dir;
  std::string payload(6 * sizeof(float), '\0');
  const float values[6] = {1, 2, 3, 4, 5, 6};
  std::memcpy(payload.data(), values, payload.size());
  write_file(dir.file("a.npy"), npy_bytes("<f4", false, "(2, 3)", payload));
  Result<Tensor> r = read_npy(dir.file("a.npy"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->shape(), (Shape{2, 3}));
  EXPECT_EQ(r->data()[5], 6.0f);
}

TEST(Npy, TruncatedOrPaddedData) {
  TempDir dir;
  std::string path = dir.file("t.npy");
  Tensor t = counting_tensor(Shape{2, 3, 4});
  ASSERT_TRUE(write_npy(path, t.view()).ok());
  std::string good = read_file(path);

  write_file(path, good.substr(0, good.size() - 4));
  Result<Tensor> r = read_npy(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(r.status().message(), "truncated or padded");
  EXPECT_CONTAINS(r.status().message(), "[2, 3, 4] needs 96 bytes of data, the file has 92");

  write_file(path, good + "xxxx");
  r = read_npy(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(r.status().message(), "the file has 100");
}

TEST(Npy, TruncatedAtEveryLength) {
  TempDir dir;
  std::string path = dir.file("t.npy");
  ASSERT_TRUE(write_npy(path, counting_tensor(Shape{2, 3}).view()).ok());
  std::string good = read_file(path);
  for (size_t length = 0; length < good.size(); ++length) {
    write_file(path, good.substr(0, length));
    Result<Tensor> r = read_npy(path);
    ASSERT_FALSE(r.ok()) << "truncated to " << length << " of " << good.size() << " bytes, it read";
    EXPECT_EQ(r.status().code(), Error::InvalidArgument) << length << ": " << r.status().message();
  }
}

TEST(Npy, FortranOrder) {
  TempDir dir;
  write_file(dir.file("f.npy"), npy_bytes("<f4", true, "(2, 3)", float_bytes(6)));
  Result<Tensor> r = read_npy(dir.file("f.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(r.status().message(), "Fortran order");
}

TEST(Npy, Float64IsADTypeMismatch) {
  TempDir dir;
  write_file(dir.file("d.npy"), npy_bytes("<f8", false, "(2, 3)", std::string(6 * 8, '\0')));
  Result<Tensor> r = read_npy(dir.file("d.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::DTypeMismatch);
  EXPECT_CONTAINS(r.status().message(), "'<f8'");
  EXPECT_CONTAINS(r.status().message(), "float32");
  EXPECT_CONTAINS(r.status().message(), "astype(numpy.float32)");
}

TEST(Npy, OtherDTypesAreRefused) {
  TempDir dir;
  for (const char* descr : {">f4", "<i4", "<f2", "|u1"}) {
    write_file(dir.file("x.npy"), npy_bytes(descr, false, "(4,)", float_bytes(4)));
    Result<Tensor> r = read_npy(dir.file("x.npy"));
    ASSERT_FALSE(r.ok()) << descr;
    EXPECT_EQ(r.status().code(), Error::DTypeMismatch) << descr;
    EXPECT_CONTAINS(r.status().message(), descr);
  }
}

TEST(Npy, NotAnNpyFile) {
  TempDir dir;
  write_file(dir.file("x.npy"), "just some text, not an array");
  Result<Tensor> r = read_npy(dir.file("x.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(r.status().message(), "bad magic");
}

TEST(Npy, MissingFileAndMissingFolder) {
  TempDir dir;
  Result<Tensor> r = read_npy(dir.file("missing.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::IoError);
  EXPECT_CONTAINS(r.status().message(), dir.file("missing.npy"));

  std::string path = dir.file("no_such_folder/out.npy");
  Status w = write_npy(path, counting_tensor(Shape{3}).view());
  EXPECT_EQ(w.code(), Error::IoError);
  EXPECT_CONTAINS(w.message(), path);
  EXPECT_FALSE(file_exists(path));
}

// Each axis is below 2^32, but 2^31 * 2^31 * 4 overflows int64. Regression: the product used to wrap to 0,
// so a file with no data passed the size check and read_npy returned a Tensor whose shape claimed 2^64
// elements over a 64-byte buffer.
TEST(Npy, ShapeWhoseElementCountOverflowsIsRefused) {
  TempDir dir;
  write_file(dir.file("huge.npy"), npy_bytes("<f4", false, "(2147483648, 2147483648, 4)", ""));
  Result<Tensor> r = read_npy(dir.file("huge.npy"));
  ASSERT_FALSE(r.ok()) << "read a tensor of shape " << r->shape().to_string() << " from a file with no data";
  EXPECT_EQ(r.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(r.status().message(), "larger than the file");
}

// Header values of tens of kilobytes (a long dtype string, a long shape tuple) are read with one scan:
// std::regex recursed once per character and a 60 KB value overflowed the stack (found by fuzz_npy).
TEST(Npy, LongHeaderValuesAreReadWithoutRecursion) {
  TempDir dir;
  auto file = [](const std::string& dict) {
    std::string header = dict;
    header.append((64 - (12 + header.size() + 1) % 64) % 64, ' ');
    header.push_back('\n');
    uint32_t len = static_cast<uint32_t>(header.size());
    return std::string("\x93NUMPY\x02\x00", 8) + std::string(reinterpret_cast<const char*>(&len), 4) + header +
           float_bytes(1);
  };
  const std::string long_text(500000, 'a');
  write_file(dir.file("descr.npy"), file("{'descr': '" + long_text + "', 'fortran_order': False, 'shape': (1,), }"));
  Result<Tensor> r = read_npy(dir.file("descr.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::DTypeMismatch);

  std::string ones;
  for (int i = 0; i < 100000; ++i) ones += "1, ";
  write_file(dir.file("shape.npy"), file("{'descr': '<f4', 'fortran_order': False, 'shape': (" + ones + "), }"));
  r = read_npy(dir.file("shape.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_CONTAINS(r.status().message(), "bad shape");
}

}  // namespace
}  // namespace tessera::testing

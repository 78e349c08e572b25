// Session::run refuses inputs that do not fit the model with a specific code and a message that names
// the input, the axis, the value and the accepted range; a refused run leaves the session usable.
#include <limits>

#include "runtime_support.h"

namespace tessera::testing {
namespace {

class SessionErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tiny_ = load_test_model(test_model("tiny"));  // height, width 256:1024
    unet_ = load_test_model(test_model("unet"));  // height, width 32:256:4
  }
  static void TearDownTestSuite() {
    tiny_.reset();
    unet_.reset();
  }

  static std::unique_ptr<Session> session(const std::shared_ptr<const Model>& model) {
    Result<std::unique_ptr<Session>> s = Session::create(model);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Runs `shape` (zero-filled) and returns the error it must produce.
  static Status run_error(Session& s, const Shape& shape) {
    Tensor t(shape);
    ConstTensorView view = t.view();
    Result<std::span<const TensorView>> out = s.run({&view, 1});
    EXPECT_FALSE(out.ok()) << "shape " << shape.to_string() << " was accepted";
    return out.status();
  }

  static inline std::shared_ptr<const Model> tiny_;
  static inline std::shared_ptr<const Model> unet_;
};

TEST_F(SessionErrors, WrongInputCount) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Tensor a(Shape{1, 1, 256, 256}), b(Shape{1, 1, 256, 256});
  ConstTensorView two[] = {a.view(), b.view()};
  Result<std::span<const TensorView>> out = s->run(two);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Error::InputCountMismatch);
  EXPECT_CONTAINS(out.status().message(), "takes 1 input(s) ('x'), got 2");

  out = s->run({});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Error::InputCountMismatch);
  EXPECT_CONTAINS(out.status().message(), "got 0");
}

TEST_F(SessionErrors, NullData) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  ConstTensorView view(nullptr, Shape{1, 1, 256, 256});
  Result<std::span<const TensorView>> out = s->run({&view, 1});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Error::InvalidArgument);
  EXPECT_CONTAINS(out.status().message(), "input 'x' has no data");
}

TEST_F(SessionErrors, WrongRank) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Status st = run_error(*s, Shape{1, 256, 256});
  EXPECT_EQ(st.code(), Error::RankMismatch);
  EXPECT_CONTAINS(st.message(), "input 'x' has rank 3");
  EXPECT_CONTAINS(st.message(), "the model takes rank 4 [1, 1, height, width]");
}

TEST_F(SessionErrors, StaticDimMismatch) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Status st = run_error(*s, Shape{1, 3, 256, 256});
  EXPECT_EQ(st.code(), Error::StaticDimMismatch);
  EXPECT_CONTAINS(st.message(), "input 'x' axis 1 is 3; the model takes 1 there [1, 1, height, width]");

  st = run_error(*s, Shape{2, 1, 256, 256});  // batch is fixed too
  EXPECT_EQ(st.code(), Error::StaticDimMismatch);
  EXPECT_CONTAINS(st.message(), "axis 0 is 2");
}

TEST_F(SessionErrors, HeightBelowMin) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Status st = run_error(*s, Shape{1, 1, 255, 256});
  EXPECT_EQ(st.code(), Error::DimOutOfRange);
  EXPECT_CONTAINS(st.message(), "input 'x' axis 2 (height) is 255");
  EXPECT_CONTAINS(st.message(), "height in 256..1024");
}

TEST_F(SessionErrors, WidthAboveMax) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Status st = run_error(*s, Shape{1, 1, 256, 1025});
  EXPECT_EQ(st.code(), Error::DimOutOfRange);
  EXPECT_CONTAINS(st.message(), "input 'x' axis 3 (width) is 1025");
  EXPECT_CONTAINS(st.message(), "width in 256..1024");
}

TEST_F(SessionErrors, NotAMultiple) {
  ASSERT_TRUE(unet_);
  auto s = session(unet_);
  Status st = run_error(*s, Shape{1, 3, 34, 32});
  EXPECT_EQ(st.code(), Error::DimNotMultiple);
  EXPECT_CONTAINS(st.message(), "input 'x' axis 2 (height) is 34, not a multiple of 4");
  EXPECT_CONTAINS(st.message(), "height in 32..256, multiples of 4");

  st = run_error(*s, Shape{1, 3, 32, 255});
  EXPECT_EQ(st.code(), Error::DimNotMultiple);
  EXPECT_CONTAINS(st.message(), "axis 3 (width) is 255");

  st = run_error(*s, Shape{1, 3, 28, 32});  // a multiple, but below the min: the range is checked first
  EXPECT_EQ(st.code(), Error::DimOutOfRange);
}

TEST_F(SessionErrors, SessionStillRunsCorrectlyAfterErrors) {
  ASSERT_TRUE(tiny_);
  auto s = session(tiny_);
  Result<Tensor> input = read_npy(testdata("tiny/in_256x256.npy"));
  Result<Tensor> expected = read_npy(testdata("tiny/out_256x256.npy"));
  ASSERT_TRUE(input.ok() && expected.ok());
  ConstTensorView view = input->view();

  auto run_and_compare = [&](const char* when) {
    Result<std::span<const TensorView>> out = s->run({&view, 1});
    ASSERT_TRUE(out.ok()) << when << ": " << out.status().message();
    Difference d = compare((*out)[0], expected->view());
    EXPECT_LE(d.max_abs, 1e-4 * std::max(d.scale, 1e-2)) << when;
  };

  // Errors before the first good run, between runs of the same shape, and after a different good shape.
  (void)run_error(*s, Shape{1, 1, 100, 256});
  (void)run_error(*s, Shape{1, 2, 256, 256});
  run_and_compare("first run, after errors");
  (void)run_error(*s, Shape{1, 1, 2000, 256});
  (void)run_error(*s, Shape{256, 256});
  run_and_compare("second run, after errors");
  Tensor other(Shape{1, 1, 300, 280});
  ConstTensorView other_view = other.view();
  ASSERT_TRUE(s->run({&other_view, 1}).ok());
  (void)run_error(*s, Shape{1, 1, 256, 1025});
  run_and_compare("after another shape and an error");
}

// Reading the value of a Result that holds an error is a bug in the caller: it aborts with the
// error's message instead of reading an empty optional.
TEST(ResultDeathTest, ReadingTheValueOfAnErrorAbortsWithItsMessage) {
  Result<int> failed = Status(Error::IoError, "cannot open 'x.tsr'");
  EXPECT_DEATH((void)*failed, "holds an error \\(check ok\\(\\) first\\): \\[I/O error\\] cannot open 'x.tsr'");
  EXPECT_DEATH((void)Model::load("/nonexistent/model.tsr").value(), "/nonexistent/model.tsr");
  EXPECT_DEATH((void)failed.value(), "cannot open");
}

// A Result made from an OK status has no value to give: it holds an Internal error instead.
TEST(Result, FromAnOkStatusHoldsAnInternalError) {
  Result<int> r = Status();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Error::Internal);
  EXPECT_CONTAINS(r.status().message(), "made from an OK status");
}

TEST(ShapeDeathTest, PushBackBeyondTheMaximumRankAborts) {
  Shape s{1, 2, 3, 4, 5, 6};
  EXPECT_DEATH(s.push_back(7), "Shape::push_back beyond kMaxRank");
}

TEST(Shape, ElementCountSaturatesInsteadOfOverflowing) {
  const int64_t big = int64_t{1} << 32;
  EXPECT_EQ((Shape{big, big, big}.element_count()), std::numeric_limits<int64_t>::max());
  EXPECT_EQ((Shape{big, 0, big, big}.element_count()), 0);
  EXPECT_EQ((Shape{1, 3, 1024, 1024}.element_count()), 3 * 1024 * 1024);
}

TEST(Result, ValueOfATemporary) {
  EXPECT_EQ(*Result<int>(3), 3);
  const Result<std::string> named = std::string("abc");
  EXPECT_EQ(*named, "abc");
  EXPECT_EQ(named->size(), 3u);
}

}  // namespace
}  // namespace tessera::testing

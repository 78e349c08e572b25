// Session::run allocates nothing on the heap once warmed up: neither for a shape it has seen nor for a
// new shape in range. Counted with the replaced global operator new (tests/allocation_counter.h).
#include <memory>
#include <vector>

#include "allocation_counter.h"
#include "test_support.h"

namespace tessera::testing {
namespace {

// Keeps the compiler from removing an allocation whose result is unused.
void escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

TEST(Allocations, CounterCountsEveryForm) {
  long vector_count, aligned_count, array_count;
  {
    AllocationCounter counter;
    std::vector<float> v(1000);
    escape(v.data());
    vector_count = counter.count();
  }
  {
    AllocationCounter counter;
    struct alignas(128) Wide {
      float x[32];
    };
    auto w = std::make_unique<Wide>();
    escape(w.get());
    aligned_count = counter.count();
  }
  {
    AllocationCounter counter;
    auto a = std::make_unique<int[]>(64);
    escape(a.get());
    array_count = counter.count();
  }
  EXPECT_EQ(vector_count, 1);
  EXPECT_EQ(aligned_count, 1);
  EXPECT_EQ(array_count, 1);
  long after;
  {
    AllocationCounter counter;
    after = counter.count();
  }
  EXPECT_EQ(after, 0);  // outside the window nothing from above leaks in
}

// The reference backend, which does all its work in tessera's code. The optimized backends check
// their own code in their test files (oneDNN's primitive execute allocates inside the library).
TEST(Allocations, RunAllocatesNothingAfterWarmUp) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model, SessionOptions{"reference", 1});
  ASSERT_TRUE(session.ok()) << session.status().message();

  Tensor small(Shape{1, 1, 256, 256}), other(Shape{1, 1, 300, 280});
  ConstTensorView small_view = small.view(), other_view = other.view();
  ASSERT_TRUE((*session)->run({&small_view, 1}).ok());  // warm-up

  long seen_shape, new_shape;
  bool ok_seen, ok_new;
  Shape out_new;
  {
    AllocationCounter counter;
    Result<std::span<const TensorView>> out = (*session)->run({&other_view, 1});  // a shape not seen before
    ok_new = out.ok();
    if (ok_new) out_new = (*out)[0].shape;
    new_shape = counter.count();
  }
  {
    AllocationCounter counter;
    ok_seen = (*session)->run({&small_view, 1}).ok();  // the warm-up shape again
    seen_shape = counter.count();
  }
  ASSERT_TRUE(ok_new && ok_seen);
  EXPECT_EQ(out_new, (Shape{1, 1, 300, 280}));
  EXPECT_EQ(new_shape, 0) << "heap allocations in run() for a new in-range shape";
  EXPECT_EQ(seen_shape, 0) << "heap allocations in run() for a shape seen before";
}

}  // namespace
}  // namespace tessera::testing

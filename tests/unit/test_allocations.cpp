// Session::run allocates nothing on the heap once warmed up: neither for a shape it has seen nor for a
// new shape in range. Counted by replacing the global operator new (all forms) for this test binary;
// the count only runs while `g_counting` is on, so other tests are unaffected.
#include <atomic>
#include <cstdlib>
#include <new>

#include "test_support.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned_alloc(std::size_t size, std::align_val_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  std::size_t a = static_cast<std::size_t>(align);
  std::size_t rounded = (size + a - 1) / a * a;  // aligned_alloc takes a multiple of the alignment
  return std::aligned_alloc(a, rounded == 0 ? a : rounded);
}

void* or_throw(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return or_throw(counted_alloc(size)); }
void* operator new[](std::size_t size) { return or_throw(counted_alloc(size)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new(std::size_t size, std::align_val_t a) { return or_throw(counted_aligned_alloc(size, a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return or_throw(counted_aligned_alloc(size, a)); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(size, a);
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(size, a);
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace tessera::testing {
namespace {

// Counts the heap allocations made while it is alive.
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationCounter() { g_counting = false; }
  long count() const { return g_allocations.load(); }
};

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

TEST(Allocations, RunAllocatesNothingAfterWarmUp) {
  std::shared_ptr<const Model> model = compile_and_load(test_model("tiny"));
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model);
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

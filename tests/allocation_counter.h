// Counts heap allocations while a counter is alive, for tests that prove a path allocates nothing.
// allocation_counter.cpp replaces the global operator new (every form) for the whole test binary, and
// the C allocator's entry points (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign), so
// that allocations inside C libraries such as XNNPACK and pthreadpool are seen too. Nothing is counted
// while no counter is alive, so other tests are unaffected.
#pragma once

namespace tessera::testing {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  long count() const;    // calls to operator new
  long c_count() const;  // calls to the C allocator other than those operator new makes
};

}  // namespace tessera::testing

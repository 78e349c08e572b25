#include "allocation_counter.h"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <new>

// glibc's own allocator, under the names it exports for allocators that wrap it.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* p);
}

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_new_calls{0};
std::atomic<long> g_c_calls{0};

}  // namespace

// Sanitizer builds (make test-asan, test-tsan) keep their runtime's allocator: replacing malloc and
// operator new there would hand its memory to glibc's free. Nothing is counted; the lanes leave out
// the tests that count allocations (scripts/test-sanitizers.sh).
#ifndef TESSERA_SANITIZED
namespace {

void count(std::atomic<long>& calls) {
  if (g_counting.load(std::memory_order_relaxed)) calls.fetch_add(1, std::memory_order_relaxed);
}

void* new_alloc(std::size_t size) {
  count(g_new_calls);
  return __libc_malloc(size == 0 ? 1 : size);
}

void* new_aligned_alloc(std::size_t size, std::align_val_t align) {
  count(g_new_calls);
  return __libc_memalign(static_cast<std::size_t>(align), size == 0 ? 1 : size);
}

void* or_throw(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return or_throw(new_alloc(size)); }
void* operator new[](std::size_t size) { return or_throw(new_alloc(size)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return new_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return new_alloc(size); }
void* operator new(std::size_t size, std::align_val_t a) { return or_throw(new_aligned_alloc(size, a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return or_throw(new_aligned_alloc(size, a)); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_aligned_alloc(size, a);
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_aligned_alloc(size, a);
}

void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { __libc_free(p); }

// The C allocator, seen by every library in the process (the executable's definitions come first in
// symbol lookup); each forwards to glibc's.
extern "C" {
void* malloc(std::size_t size) {
  count(g_c_calls);
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  count(g_c_calls);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  count(g_c_calls);
  return __libc_realloc(p, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  count(g_c_calls);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count(g_c_calls);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  count(g_c_calls);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

#endif  // TESSERA_SANITIZED

namespace tessera::testing {

AllocationCounter::AllocationCounter() {
  g_new_calls = 0;
  g_c_calls = 0;
  g_counting = true;
}
AllocationCounter::~AllocationCounter() { g_counting = false; }
long AllocationCounter::count() const { return g_new_calls.load(); }
long AllocationCounter::c_count() const { return g_c_calls.load(); }

}  // namespace tessera::testing

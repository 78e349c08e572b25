// Happens-before edges for ThreadSanitizer where the synchronisation happens inside a library it
// does not instrument (pthreadpool, under XNNPACK): without them, every task a pool runs looks like a
// race with the thread that set it up. Nothing in other builds.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define TESSERA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TESSERA_TSAN 1
#endif
#endif

#ifdef TESSERA_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace tessera {

// What the releasing thread did before tsan_release(x) happens before what the acquiring thread does
// after tsan_acquire(x).
inline void tsan_release([[maybe_unused]] void* sync) {
#ifdef TESSERA_TSAN
  __tsan_release(sync);
#endif
}
inline void tsan_acquire([[maybe_unused]] void* sync) {
#ifdef TESSERA_TSAN
  __tsan_acquire(sync);
#endif
}

}  // namespace tessera

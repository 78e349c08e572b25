// Registers the oneDNN backend with the runtime when this library is linked. A static archive's
// unreferenced files are dropped, so the tessera::onednn target asks the linker for the symbol below.
#include "backends/onednn/onednn_backend.h"

// "auto" takes oneDNN on CPUs with AVX-512, where it measured fastest (docs/benchmarks.md), and
// XNNPACK before it elsewhere.
extern "C" const bool tessera_onednn_backend = tessera::register_backend(
    {"onednn", tessera::onednn::create_backend_session, nullptr,
     [] { return __builtin_cpu_supports("avx512f") ? 3 : 1; }});

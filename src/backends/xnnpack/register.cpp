// Registers the XNNPACK backend with the runtime when this library is linked. A static archive's
// unreferenced files are dropped, so the tessera::xnnpack target asks the linker for the symbol below.
#include "backends/xnnpack/xnnpack_backend.h"

// The portable fast path: "auto" takes it unless a backend made for this CPU is linked.
extern "C" const bool tessera_xnnpack_backend =
    tessera::register_backend({"xnnpack", tessera::xnnpack::create_backend_session, tessera::xnnpack::memory_plan,
                               [] { return 2; }});

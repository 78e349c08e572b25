// What a session really holds resident at a window shape: the arena is reserved at the model's
// upper bound, and only the pages that a run at a smaller shape writes ever become resident.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "tessera/session.h"
#include "tessera/tiling.h"

namespace tessera::tiling {

Result<int64_t> arena_resident_bytes(const Model& model, const std::string& backend, int64_t height, int64_t width) {
  std::shared_ptr<const Model> borrowed(&model, [](const Model*) {});
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(borrowed, SessionOptions{backend, 1}));
  return session->arena_resident_bytes(height, width);
}

int64_t process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return resident * (page > 0 ? page : 4096);
}

}  // namespace tessera::tiling

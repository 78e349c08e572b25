// Temporary output files (include/tessera/temp_files.h): named, registered for removal on a fatal
// signal, and swept when stale.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tessera/temp_files.h"

namespace tessera {

// A temporary file name beside `path`, unique to this process and call, with `path`'s extension
// (libvips picks its writer by it): "DIR/NAME.tessera-tmp-PID-HOST-N.EXT". Files are written there
// and renamed over `path` at the end. The name is registered for remove_temp_files_now() until
// temp_path_done(); stale temporary files of dead processes in the folder are removed first.
std::string temp_path_for(const std::string& path);

// The temporary file is gone (renamed or removed): a fatal signal no longer needs to remove it.
void temp_path_done(const std::string& temp);

// Removes the stale temporary files in `dir` (see temp_files.h); returns how many it removed.
int remove_stale_temp_files(const std::string& dir);

// The PID and host hash in a temporary file's name (no folder), if it has exactly that form.
struct TempName {
  long pid = 0;
  std::string host;
};
std::optional<TempName> parse_temp_name(std::string_view file_name);

// This process's host hash: 8 hex digits of the host name and the PID namespace.
const std::string& temp_host_hash();

}  // namespace tessera

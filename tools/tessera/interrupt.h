// Ctrl-C (SIGINT) and SIGTERM ask a long run to stop cleanly: the first one sets a flag the tiled
// runner checks between tiles; a second one removes the partial output file and ends the process.
#pragma once

#include <atomic>
#include <string>

namespace tessera::cli {

const std::atomic<bool>* install_interrupt_handler();

// The file a second interrupt removes before exiting (the output being written).
void remove_on_hard_interrupt(const std::string& path);

}  // namespace tessera::cli

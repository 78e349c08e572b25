// Signals. Every signal that would end the process and can be caught (SIGHUP, SIGINT, SIGQUIT,
// SIGTERM, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, ...) removes the temporary files
// being written, prints one line and exits with 128 + the signal's number; a crash (SIGSEGV,
// SIGABRT, ...) removes them and then dies as it would have. A long run that installs the
// interrupt handler turns SIGINT (Ctrl-C) and SIGTERM into a request: the first one sets a flag the
// tiled runner checks between tiles, a second one ends the process at once.
#pragma once

#include <atomic>

namespace tessera::cli {

// At the start of main: the clean ends above for every signal.
void install_signal_cleanup();

// For a long run: SIGINT and SIGTERM ask it to stop; the flag the run checks.
const std::atomic<bool>* install_interrupt_handler();

// The signal that asked the run to stop (SIGINT or SIGTERM), or 0.
int interrupt_signal();

}  // namespace tessera::cli

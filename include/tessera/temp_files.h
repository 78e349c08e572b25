// Files tessera writes (.tsr, .npy, images) go to a temporary name beside the target,
// "NAME.tessera-tmp-PID-HOST-N.EXT", and are renamed over it at the end, so that a failed or
// interrupted write never leaves a partial file under the target's name.
//
// A process that is killed while writing (SIGKILL, power loss) leaves its temporary file. The next
// write into the same folder removes such files: only names of exactly that form, regular files
// owned by this user, made on this host (HOST is a hash of the host name and the PID namespace)
// by a process that no longer exists.
#pragma once

namespace tessera {

// Removes every temporary file this process is writing and returns how many it removed.
// Async-signal-safe: for the handler of a signal that ends the process (the tessera command calls
// it on SIGHUP, SIGTERM, SIGPIPE, ...).
int remove_temp_files_now() noexcept;

}  // namespace tessera

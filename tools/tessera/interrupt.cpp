#include "interrupt.h"

#include <csignal>
#include <cstring>
#include <unistd.h>

namespace tessera::cli {

namespace {

std::atomic<bool> interrupted{false};
char partial_file[4096] = "";  // a fixed buffer: the handler may only call async-signal-safe functions

void say(const char* message) { [[maybe_unused]] ssize_t n = write(STDERR_FILENO, message, std::strlen(message)); }

void on_signal(int) {
  if (interrupted.exchange(true)) {
    if (partial_file[0] != '\0') unlink(partial_file);
    say("\ntessera: stopped; nothing was written\n");
    _exit(130);
  }
  say("\ntessera: stopping after the tiles in progress (again to quit at once)\n");
}

}  // namespace

const std::atomic<bool>* install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return &interrupted;
}

void remove_on_hard_interrupt(const std::string& path) {
  std::strncpy(partial_file, path.c_str(), sizeof(partial_file) - 1);
}

}  // namespace tessera::cli

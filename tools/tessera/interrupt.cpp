#include "interrupt.h"

#include <csignal>
#include <cstring>
#include <unistd.h>

#include "tessera/temp_files.h"

namespace tessera::cli {

namespace {

std::atomic<bool> interrupted{false};
std::atomic<int> stop_signal{0};

// A signal handler may call only async-signal-safe functions: write(2), no formatting, no allocation.
void say(const char* message) { [[maybe_unused]] ssize_t n = write(STDERR_FILENO, message, std::strlen(message)); }

const char* signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP (the terminal closed)";
    case SIGINT: return "SIGINT (Ctrl-C)";
    case SIGQUIT: return "SIGQUIT";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE (a closed pipe)";
    case SIGALRM: return "SIGALRM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGXCPU: return "SIGXCPU (CPU time limit)";
    case SIGXFSZ: return "SIGXFSZ (file size limit)";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGIO: return "SIGIO";
    case SIGPWR: return "SIGPWR";
    case SIGSTKFLT: return "SIGSTKFLT";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return "a signal";
  }
}

[[noreturn]] void stop_now(int sig) {
  int removed = remove_temp_files_now();
  // A closed pipe (tessera info | head) ends quietly unless it cut a file short.
  if (sig != SIGPIPE || removed > 0) {
    say("\ntessera: stopped by ");
    say(signal_name(sig));
    say(removed > 0 ? "; the partial output was removed, nothing was written\n" : "; no partial output left\n");
  }
  _exit(128 + sig);
}

void on_terminating_signal(int sig) { stop_now(sig); }

void on_crash(int sig) {
  remove_temp_files_now();
  signal(sig, SIG_DFL);  // then die as the signal would have (a core dump, the same wait status)
  raise(sig);
}

void on_interrupt(int sig) {
  if (interrupted.exchange(true)) stop_now(sig);
  stop_signal.store(sig);
  say("\ntessera: stopping after the tiles in progress (again to quit at once)\n");
}

constexpr int kTerminating[] = {SIGHUP, SIGINT,  SIGQUIT,   SIGTERM, SIGPIPE, SIGALRM, SIGUSR1,   SIGUSR2,
                                SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT};
constexpr int kCrashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

void handle(int sig, void (*handler)(int), int flags = 0) {
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigfillset(&action.sa_mask);  // one handler at a time: the first signal decides
  sigaction(sig, &action, nullptr);
}

// Whether `sig` still does what it does by default: a signal ignored by whoever started tessera
// (nohup's SIGHUP) stays ignored, and a handler installed before main (a profiler's SIGPROF, a
// sanitizer's SIGSEGV) stays in place.
bool at_default(int sig) {
  struct sigaction old {};
  return sigaction(sig, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
}

}  // namespace

void install_signal_cleanup() {
  for (int sig : kTerminating)
    if (at_default(sig)) handle(sig, on_terminating_signal);
  for (int sig : kCrashes)
    if (at_default(sig)) handle(sig, on_crash, SA_RESETHAND);
}

const std::atomic<bool>* install_interrupt_handler() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    if (old.sa_handler != SIG_DFL && old.sa_handler != on_terminating_signal) continue;  // someone else's
    handle(sig, on_interrupt);
  }
  return &interrupted;
}

int interrupt_signal() { return stop_signal.load(); }

}  // namespace tessera::cli

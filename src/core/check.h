// TESSERA_CHECK: the check for untrusted input inside tessera, with a message built by fmt.
#pragma once

#include <fmt/format.h>

#include "tessera/status.h"

// Return a Status built from a format string when `cond` is false (for untrusted input).
#define TESSERA_CHECK(cond, code, ...)                                            \
  do {                                                                            \
    if (!(cond)) return ::tessera::Status((code), ::fmt::format(__VA_ARGS__));    \
  } while (0)

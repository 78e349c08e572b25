// How many CPUs this process may run on.
#pragma once

#include <sched.h>

#include <algorithm>
#include <thread>

namespace tessera {

// The CPUs in this process's affinity mask (taskset, cpusets), at least 1. More threads than
// this only take turns on the same CPUs.
inline int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace tessera

// How many CPUs this process may use: its affinity mask (taskset, cpusets) and its cgroup's CPU
// quota (a container's --cpus, systemd's CPUQuota), whichever is smaller.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

// The CPUs in this process's affinity mask, limited by its cgroup CPU quota (rounded up), at least
// 1. More threads than this only take turns on the same CPUs. Read once, then cached.
int usable_cpus();

// The CPUs in this process's affinity mask, at least 1.
int affinity_cpus();

// The CPU quota of this process's cgroup and its ancestors (the smallest), in CPUs (1.5: one and a
// half CPUs' time per period); nullopt when none is set or the files cannot be read.
std::optional<double> cgroup_cpu_quota();

// The parts of cgroup_cpu_quota, on the files' contents so that they can be tested anywhere.
// cgroup v2 `cpu.max`: "QUOTA PERIOD" or "max PERIOD".
std::optional<double> parse_cpu_max(std::string_view cpu_max);
// cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`; a quota of -1 is no limit.
std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);
// The quota from /proc/self/cgroup and /proc/self/mountinfo, reading the cgroup files through
// `read_file` (nullopt: missing). Walks from the process's cgroup up to its mount's root.
std::optional<double> cgroup_cpu_quota_from(
    std::string_view proc_self_cgroup, std::string_view mountinfo,
    const std::function<std::optional<std::string>(const std::string& path)>& read_file);

}  // namespace tessera

#include "core/cpus.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace tessera {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> parse_int(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool has_token(std::string_view list, std::string_view token) {
  for (std::string_view t : split(list, ','))
    if (t == token) return true;
  return false;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A cgroup hierarchy that holds the CPU controller: where it is mounted, the cgroup path its
// mount shows as its root, and this process's cgroup in it.
struct CpuHierarchy {
  bool v2 = false;
  std::string mount_point;
  std::string mount_root;
  std::string cgroup;
};

// The hierarchies with a CPU controller, from /proc/self/mountinfo ("ID PARENT M:N ROOT MOUNT OPTS
// [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS") and /proc/self/cgroup ("ID:CONTROLLERS:PATH"; v2: "0::PATH").
std::vector<CpuHierarchy> cpu_hierarchies(std::string_view proc_self_cgroup, std::string_view mountinfo) {
  std::optional<std::string> v2_path, v1_path;
  for (std::string_view line : split(proc_self_cgroup, '\n')) {
    std::vector<std::string_view> f = split(line, ':');
    if (f.size() < 3) continue;
    std::string path(line.substr(f[0].size() + f[1].size() + 2));  // a path may hold ':'
    if (f[0] == "0" && f[1].empty()) v2_path = path;
    else if (has_token(f[1], "cpu")) v1_path = path;
  }
  std::vector<CpuHierarchy> out;
  for (std::string_view line : split(mountinfo, '\n')) {
    std::vector<std::string_view> f;
    for (std::string_view w : split(line, ' '))
      if (!w.empty()) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    const std::string_view fstype = dash[1], superopts = dash[3];
    CpuHierarchy h;
    h.mount_root = std::string(f[3]);
    h.mount_point = std::string(f[4]);
    if (fstype == "cgroup2" && v2_path) {
      h.v2 = true;
      h.cgroup = *v2_path;
    } else if (fstype == "cgroup" && v1_path && has_token(superopts, "cpu")) {
      h.cgroup = *v1_path;
    } else {
      continue;
    }
    out.push_back(h);
  }
  return out;
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view cpu_max) {
  std::vector<std::string_view> f = split(trim(cpu_max), ' ');
  if (f.size() != 2 || f[0] == "max") return std::nullopt;
  std::optional<int64_t> quota = parse_int(f[0]), period = parse_int(f[1]);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  std::optional<int64_t> quota = parse_int(quota_us), period = parse_int(period_us);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;  // -1: no limit
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> cgroup_cpu_quota_from(
    std::string_view proc_self_cgroup, std::string_view mountinfo,
    const std::function<std::optional<std::string>(const std::string& path)>& read_file) {
  std::optional<double> smallest;
  for (const CpuHierarchy& h : cpu_hierarchies(proc_self_cgroup, mountinfo)) {
    // The process's cgroup below the mount's root; outside it (another namespace's view), the mount itself.
    std::string rel = h.cgroup;
    if (h.mount_root != "/") {
      const bool inside = rel.compare(0, h.mount_root.size(), h.mount_root) == 0 &&
                          (rel.size() == h.mount_root.size() || rel[h.mount_root.size()] == '/');
      if (inside) rel.erase(0, h.mount_root.size());
      else rel.clear();
    }
    // A limit on any ancestor applies too.
    for (;;) {
      while (!rel.empty() && rel.back() == '/') rel.pop_back();
      const std::string dir = h.mount_point + rel + "/";
      std::optional<double> q;
      if (h.v2) {
        if (std::optional<std::string> s = read_file(dir + "cpu.max")) q = parse_cpu_max(*s);
      } else {
        std::optional<std::string> quota = read_file(dir + "cpu.cfs_quota_us");
        std::optional<std::string> period = read_file(dir + "cpu.cfs_period_us");
        if (quota && period) q = parse_cfs_quota(*quota, *period);
      }
      if (q && (!smallest || *q < *smallest)) smallest = q;
      if (rel.empty()) break;
      rel.erase(rel.rfind('/'));
    }
  }
  return smallest;
}

std::optional<double> cgroup_cpu_quota() {
  std::optional<std::string> cgroup = read_small_file("/proc/self/cgroup");
  std::optional<std::string> mountinfo = read_small_file("/proc/self/mountinfo");
  if (!cgroup || !mountinfo) return std::nullopt;
  return cgroup_cpu_quota_from(*cgroup, *mountinfo, read_small_file);
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int usable_cpus() {
  static const int cpus = [] {
    int n = affinity_cpus();
    // 1.5 CPUs of quota keep two threads busy part of the time: round up.
    if (std::optional<double> q = cgroup_cpu_quota()) n = std::min(n, std::max(1, static_cast<int>(std::ceil(*q - 1e-9))));
    return n;
  }();
  return cpus;
}

}  // namespace tessera

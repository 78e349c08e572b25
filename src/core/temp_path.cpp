#include "core/temp_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace tessera {

namespace {

constexpr std::string_view kMarker = ".tessera-tmp-";

// The temporary files being written, for a signal handler: fixed buffers (no allocation there).
// state: 0 free, 1 being changed, 2 holds a path.
struct Slot {
  std::atomic<int> state{0};
  char path[PATH_MAX] = "";
};
std::array<Slot, 64> slots;

void register_path(const std::string& path) {
  if (path.size() >= PATH_MAX) return;  // not removed on a signal; the next write's sweep removes it
  for (Slot& s : slots) {
    int expected = 0;
    if (!s.state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.state.store(2);
    return;
  }
}

bool all_digits(std::string_view s, size_t max_length) {
  if (s.empty() || s.size() > max_length || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

const std::string& temp_host_hash() {
  static const std::string hash = [] {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char ns[128] = "";
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    std::string key = std::string(host) + "/" + (n > 0 ? std::string(ns, static_cast<size_t>(n)) : std::string());
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : key) h = (h ^ c) * 16777619u;
    char text[9];
    std::snprintf(text, sizeof text, "%08x", h);
    return std::string(text);
  }();
  return hash;
}

std::optional<TempName> parse_temp_name(std::string_view name) {
  size_t marker = name.rfind(kMarker);
  if (marker == std::string_view::npos || marker == 0) return std::nullopt;
  std::string_view rest = name.substr(marker + kMarker.size());
  // PID-HOST-N[.EXT]
  size_t dash1 = rest.find('-');
  if (dash1 == std::string_view::npos || !all_digits(rest.substr(0, dash1), 10)) return std::nullopt;
  std::string_view host = rest.substr(dash1 + 1, 8);
  if (host.size() != 8 || rest.size() < dash1 + 10 || rest[dash1 + 9] != '-') return std::nullopt;
  for (char c : host)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  std::string_view tail = rest.substr(dash1 + 10);
  size_t dot = tail.find('.');
  std::string_view counter = tail.substr(0, dot);
  if (!all_digits(counter, 10)) return std::nullopt;
  if (dot != std::string_view::npos) {
    std::string_view ext = tail.substr(dot + 1);
    if (ext.find('.') != std::string_view::npos || ext.find('/') != std::string_view::npos) return std::nullopt;
  }
  TempName t;
  t.pid = std::stol(std::string(rest.substr(0, dash1)));
  t.host = std::string(host);
  if (t.pid <= 0 || t.pid > INT_MAX) return std::nullopt;
  return t;
}

int remove_stale_temp_files(const std::string& dir) {
  DIR* d = opendir(dir.empty() ? "." : dir.c_str());
  if (!d) return 0;
  int removed = 0;
  const long self = static_cast<long>(getpid());
  while (dirent* e = readdir(d)) {
    std::optional<TempName> t = parse_temp_name(e->d_name);
    if (!t || t->host != temp_host_hash() || t->pid == self) continue;
    if (kill(static_cast<pid_t>(t->pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    struct stat st {};
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0) ++removed;
  }
  closedir(d);
  return removed;
}

std::string temp_path_for(const std::string& path) {
  static std::atomic<int> counter{0};
  std::filesystem::path p(path);
  remove_stale_temp_files(p.has_parent_path() ? p.parent_path().string() : ".");
  std::string name = p.stem().string() + std::string(kMarker) + std::to_string(getpid()) + "-" + temp_host_hash() +
                     "-" + std::to_string(counter++) + p.extension().string();
  std::string temp = (p.parent_path() / name).string();
  register_path(temp);
  return temp;
}

void temp_path_done(const std::string& temp) {
  for (Slot& s : slots) {
    int expected = 2;
    if (!s.state.compare_exchange_strong(expected, 1)) continue;  // held while compared
    if (temp != s.path) {
      s.state.store(2);
      continue;
    }
    s.path[0] = '\0';
    s.state.store(0);
    return;
  }
}

int remove_temp_files_now() noexcept {
  int removed = 0;
  for (Slot& s : slots)
    if (s.state.load() == 2 && unlink(s.path) == 0) ++removed;
  return removed;
}

}  // namespace tessera

#include "io/vips_util.h"

#include "tessera/image.h"

#include <vips/vips.h>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <string_view>

namespace tessera {

namespace {

// libvips reports many decoder problems (a zero width, a size above libpng's limits) only as warnings
// followed by an error with no text; they are kept here and given with the error.
std::mutex warnings_mutex;
std::string warnings;

void keep_warning(const char*, GLogLevelFlags, const char* message, void*) {
  if (std::string_view(message).starts_with("error in tile")) return;  // the error itself says more
  std::lock_guard<std::mutex> lock(warnings_mutex);
  if (warnings.size() < 4096) warnings += std::string(message) + "\n";
}

std::string take_warnings() {
  std::lock_guard<std::mutex> lock(warnings_mutex);
  return std::exchange(warnings, {});
}

}  // namespace

Status ensure_vips() {
  static Status started = [] {
    if (vips_init("tessera") != 0) return Status(Error::Internal, "libvips failed to start: " + take_vips_error());
    // No operation cache: each run builds its pipeline once, and an image decoded twice (the alpha
    // channel) needs two independent sequential decoders.
    vips_cache_set_max(0);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, keep_warning, nullptr);
    return Status();
  }();
  return started;
}

bool has_field(const vips::VImage& image, const char* field) {
  return vips_image_get_typeof(image.get_image(), field) != 0;
}

std::string take_vips_error() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  return one_line(text);
}

std::string one_line(const std::string& vips_message) {
  std::string text = vips_message + "\n" + take_warnings();
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    if (!part.empty() && line.find(part) == std::string::npos) line += (line.empty() ? "" : "; ") + part;
    start = end + 1;
  }
  return line.empty() ? "libvips gave no reason" : line;
}

bool is_image_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext != ".npy";
}

}  // namespace tessera

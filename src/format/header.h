// The fixed 64-byte header at the start of every .tsr file (little-endian).
#pragma once

#include <cstdint>

namespace tessera::format {

inline constexpr char kMagic[8] = {'T', 'E', 'S', 'S', 'E', 'R', 'A', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kWeightsAlignment = 64;

struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_bytes;    // sizeof(FileHeader)
  uint64_t meta_offset;     // the flatbuffer (tessera.fbs)
  uint64_t meta_bytes;
  uint64_t weights_offset;  // 64-byte aligned float32 segment
  uint64_t weights_bytes;
  uint32_t weights_crc32;   // zlib crc32 of the weights segment
  uint32_t reserved[3];
};
static_assert(sizeof(FileHeader) == 64);

}  // namespace tessera::format

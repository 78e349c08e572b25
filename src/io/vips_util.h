// The libvips glue shared by the image reader and writer: start-up, and libvips errors as Status.
#pragma once

#include <vips/vips8>

#include <string>

#include "tessera/status.h"

namespace tessera {

// Starts libvips once per process; an error when it cannot start.
Status ensure_vips();

// A libvips error message with the warnings libvips logged before it, on one line (distinct lines
// joined by "; ").
std::string one_line(const std::string& vips_message);

// Whether `image`'s header has the metadata field `field`.
bool has_field(const vips::VImage& image, const char* field);

// libvips' pending error message, on one line, and clears it.
std::string take_vips_error();

}  // namespace tessera

#include <cstdio>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera {

namespace {

// The length of the valid UTF-8 sequence at text[i] and its code point, or 0 if it is not one.
size_t utf8_sequence(std::string_view text, size_t i, char32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  size_t length = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  char32_t c = length == 1 ? b : b & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kSmallest[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;  // overlong, surrogate
  *code_point = c;
  return length;
}

bool unsafe(char32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||  // C0, DEL, C1 (CSI 0x9B drives terminals)
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||  // bidirectional overrides
         c == 0x2028 || c == 0x2029;                                       // line and paragraph separators
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buffer[16];
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    size_t length = utf8_sequence(text, i, &c);
    if (length == 0) {  // not UTF-8: the byte itself
      std::snprintf(buffer, sizeof buffer, "\\x%02X", static_cast<unsigned char>(text[i]));
      out += buffer;
      ++i;
      continue;
    }
    if (!unsafe(c)) {
      out.append(text.substr(i, length));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      std::snprintf(buffer, sizeof buffer, c < 0x80 ? "\\x%02X" : "\\u%04X", static_cast<unsigned>(c));
      out += buffer;
    }
    i += length;
  }
  return out;
}

}  // namespace tessera

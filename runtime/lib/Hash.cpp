//===- Hash.cpp - XXH64 for artifact files --------------------------------===//
//
// XXH64 as specified in xxHash's doc/xxhash_spec.md (version 0.1.1): four
// 64-bit lanes over 32-byte stripes, then the tail and an avalanche. Reads
// are little-endian byte by byte, so the result does not depend on the host.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Hash.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <vector>

namespace kiln::runtime {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t read64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

uint32_t read32(const unsigned char *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

uint64_t round(uint64_t acc, uint64_t lane) {
  acc += lane * kPrime2;
  return rotl(acc, 31) * kPrime1;
}

uint64_t merge(uint64_t acc, uint64_t lane) {
  acc ^= round(0, lane);
  return acc * kPrime1 + kPrime4;
}

} // namespace

Xxh64::Xxh64(uint64_t seed)
    : acc{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1},
      seed(seed) {}

void Xxh64::update(const void *data, size_t size) {
  const auto *p = static_cast<const unsigned char *>(data);
  total += size;
  if (buffered + size < 32) {
    std::memcpy(buffer + buffered, p, size);
    buffered += size;
    return;
  }
  if (buffered) {
    size_t fill = 32 - buffered;
    std::memcpy(buffer + buffered, p, fill);
    for (int i = 0; i < 4; ++i)
      acc[i] = round(acc[i], read64(buffer + 8 * i));
    p += fill;
    size -= fill;
    buffered = 0;
  }
  for (; size >= 32; p += 32, size -= 32)
    for (int i = 0; i < 4; ++i)
      acc[i] = round(acc[i], read64(p + 8 * i));
  std::memcpy(buffer, p, size);
  buffered = size;
}

uint64_t Xxh64::digest() const {
  uint64_t h;
  if (total >= 32) {
    h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18);
    for (uint64_t lane : acc)
      h = merge(h, lane);
  } else {
    h = seed + kPrime5;
  }
  h += total;
  const unsigned char *p = buffer;
  size_t left = buffered;
  for (; left >= 8; p += 8, left -= 8)
    h = rotl(h ^ round(0, read64(p)), 27) * kPrime1 + kPrime4;
  if (left >= 4) {
    h = rotl(h ^ (uint64_t(read32(p)) * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4;
    left -= 4;
  }
  for (; left > 0; ++p, --left)
    h = rotl(h ^ (*p * kPrime5), 11) * kPrime1;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

uint64_t xxh64(const void *data, size_t size, uint64_t seed) {
  Xxh64 state(seed);
  state.update(data, size);
  return state.digest();
}

std::string formatHash(uint64_t hash) {
  char text[24];
  std::snprintf(text, sizeof text, "xxh64:%016llx",
                static_cast<unsigned long long>(hash));
  return text;
}

bool parseHash(const std::string &text, uint64_t &hash) {
  const std::string prefix = "xxh64:";
  if (text.size() != prefix.size() + 16 || text.compare(0, 6, prefix) != 0)
    return false;
  uint64_t v = 0;
  for (size_t i = prefix.size(); i < text.size(); ++i) {
    char c = text[i];
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
    if (digit < 0)
      return false;
    v = v << 4 | uint64_t(digit);
  }
  hash = v;
  return true;
}

bool hashFile(const std::string &path, uint64_t &bytes, uint64_t &hash,
              std::string &error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  Xxh64 state;
  std::vector<unsigned char> chunk(1 << 20);
  uint64_t size = 0;
  for (;;) {
    size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
    state.update(chunk.data(), n);
    size += n;
    if (n < chunk.size())
      break;
  }
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) {
    error = path + ": read error";
    return false;
  }
  bytes = size;
  hash = state.digest();
  return true;
}

} // namespace kiln::runtime

//===- Hash.h - content hashes of artifact files ----------------*- C++ -*-===//
//
// The manifest records a content hash of every data file of an artifact, so
// a truncated, extended or bit-flipped file is refused before anything reads
// it. The hash is XXH64 (seed 0), a fast non-cryptographic 64-bit hash with a
// public specification: it detects corruption, it does not authenticate (an
// attacker who can rewrite the files can rewrite the manifest too; see
// docs/trust.md). Written from the specification; no dependency.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_HASH_H
#define KILN_RUNTIME_HASH_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::runtime {

/// Streaming XXH64: update() any number of times, then digest().
class Xxh64 {
public:
  explicit Xxh64(uint64_t seed = 0);
  void update(const void *data, size_t size);
  uint64_t digest() const;

private:
  uint64_t acc[4];
  uint64_t seed;
  uint64_t total = 0;
  unsigned char buffer[32];
  size_t buffered = 0;
};

/// XXH64 of one buffer.
uint64_t xxh64(const void *data, size_t size, uint64_t seed = 0);

/// The manifest spelling of a hash: `xxh64:` and 16 lower-case hex digits.
std::string formatHash(uint64_t hash);

/// Parses formatHash's spelling; false on anything else.
bool parseHash(const std::string &text, uint64_t &hash);

/// Reads `path` in chunks, returning its size and hash; false with `error`
/// set when it cannot be read.
bool hashFile(const std::string &path, uint64_t &bytes, uint64_t &hash,
              std::string &error);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_HASH_H

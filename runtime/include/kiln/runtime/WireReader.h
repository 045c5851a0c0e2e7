//===- WireReader.h - bounds-checked protobuf wire-format reader -*- C++ -*-===//
//
// The one hand-written protobuf reader in kiln, header-only so that both the
// runtime (which must build without protobuf: TensorProto files) and the
// importer (which finds raw_data offsets in ModelProto bytes without copying
// them) can use it. Every read is checked against the end of the buffer and
// fails, rather than reading past it, on malformed input.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_WIREREADER_H
#define KILN_RUNTIME_WIREREADER_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kiln::runtime {

/// A bounds-checked cursor over protobuf wire-format bytes [p, end).
struct WireReader {
  const uint8_t *p;
  const uint8_t *end;

  bool atEnd() const { return p >= end; }

  /// A base-128 varint (at most 10 bytes).
  bool varint(uint64_t &v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end)
        return false;
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }

  /// A field key: its number and wire type.
  bool key(uint64_t &field, uint32_t &wireType) {
    uint64_t k;
    if (!varint(k))
      return false;
    field = k >> 3;
    wireType = uint32_t(k & 7);
    return true;
  }

  /// `n` fixed-width bytes (wire types 1 and 5), copied to `out`.
  bool fixed(void *out, size_t n) {
    if (size_t(end - p) < n)
      return false;
    std::memcpy(out, p, n);
    p += n;
    return true;
  }

  /// A length-delimited payload (wire type 2), left in place.
  bool bytes(const uint8_t *&data, size_t &len) {
    uint64_t n;
    if (!varint(n) || n > uint64_t(end - p))
      return false;
    data = p;
    len = size_t(n);
    p += n;
    return true;
  }

  /// Skips a value of `wireType`; groups (3, 4) and invalid types fail.
  bool skip(uint32_t wireType) {
    uint64_t v;
    const uint8_t *d;
    size_t n;
    switch (wireType) {
    case 0:
      return varint(v);
    case 1:
      return fixed(&v, 8);
    case 2:
      return bytes(d, n);
    case 5:
      return fixed(&v, 4);
    default:
      return false;
    }
  }
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_WIREREADER_H

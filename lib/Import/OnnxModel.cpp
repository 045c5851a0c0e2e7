//===- OnnxModel.cpp - ONNX protobuf parse and raw_data walker ------------===//
//
// The only translation unit of the importer that calls into protobuf's
// parser. Parsing goes through a CodedInputStream with the total-bytes limit
// raised to 2 GiB so large inline models load; protobuf reports malformed
// input by return value, never by exception. The raw_data walker reads the
// wire format directly so weight offsets come without a second parse.
//
//===----------------------------------------------------------------------===//

#include "OnnxModel.h"

#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>

#include <limits>
#include <optional>

using namespace kiln::import;

LoadedModel::~LoadedModel() = default;

bool kiln::import::parseModelProto(llvm::StringRef bytes, LoadedModel &model,
                                   std::string &error) {
  if (bytes.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) {
    error = "model file is larger than 2 GiB; store the weights as external "
            "data";
    return false;
  }
  model.proto = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  stream.SetRecursionLimit(256);
  if (!model.proto->ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    error = "not a valid ONNX ModelProto (truncated or corrupt protobuf)";
    return false;
  }
  return true;
}

namespace {
/// A bounds-checked reader over protobuf wire-format bytes.
class WireReader {
public:
  WireReader(const uint8_t *begin, const uint8_t *end, const uint8_t *base)
      : pos(begin), end(end), base(base) {}

  bool atEnd() const { return pos >= end; }

  bool readVarint(uint64_t &value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end)
        return false;
      uint8_t byte = *pos++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }

  /// Reads one field header and, for length-delimited fields, the payload
  /// bounds; skips other wire types. Returns false on malformed data.
  bool next(uint64_t &field, int &wireType, const uint8_t *&payload,
            uint64_t &length) {
    uint64_t key;
    if (!readVarint(key))
      return false;
    field = key >> 3;
    wireType = static_cast<int>(key & 7);
    payload = nullptr;
    length = 0;
    switch (wireType) {
    case 0: {
      uint64_t ignored;
      return readVarint(ignored);
    }
    case 1:
      return skip(8);
    case 5:
      return skip(4);
    case 2:
      if (!readVarint(length) || length > static_cast<uint64_t>(end - pos))
        return false;
      payload = pos;
      pos += length;
      return true;
    default:
      return false; // groups (3, 4) are not used by onnx.proto
    }
  }

  int64_t offsetOf(const uint8_t *p) const { return p - base; }

private:
  bool skip(uint64_t n) {
    if (n > static_cast<uint64_t>(end - pos))
      return false;
    pos += n;
    return true;
  }

  const uint8_t *pos, *end, *base;
};
} // namespace

bool kiln::import::findRawDataOffsets(llvm::StringRef bytes,
                                      llvm::StringMap<RawDataSpan> &spans,
                                      std::string &error) {
  const auto *base = reinterpret_cast<const uint8_t *>(bytes.data());
  WireReader model(base, base + bytes.size(), base);
  uint64_t field, length;
  int wireType;
  const uint8_t *payload;
  while (!model.atEnd()) {
    if (!model.next(field, wireType, payload, length)) {
      error = "malformed protobuf wire data in ModelProto";
      return false;
    }
    if (field != 7 || wireType != 2)
      continue;
    WireReader graph(payload, payload + length, base);
    while (!graph.atEnd()) {
      if (!graph.next(field, wireType, payload, length)) {
        error = "malformed protobuf wire data in GraphProto";
        return false;
      }
      if (field != 5 || wireType != 2)
        continue;
      WireReader tensor(payload, payload + length, base);
      std::string name;
      std::optional<RawDataSpan> raw;
      while (!tensor.atEnd()) {
        if (!tensor.next(field, wireType, payload, length)) {
          error = "malformed protobuf wire data in an initializer";
          return false;
        }
        if (wireType != 2)
          continue;
        if (field == 8)
          name.assign(reinterpret_cast<const char *>(payload), length);
        else if (field == 9)
          raw = RawDataSpan{tensor.offsetOf(payload),
                            static_cast<int64_t>(length)};
      }
      if (raw)
        spans[name] = *raw;
    }
  }
  return true;
}

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

#include "kiln/runtime/WireReader.h"

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

using kiln::runtime::WireReader;

namespace {
/// Reads the next field of `r`: its number, wire type and, for a
/// length-delimited field, its payload (other values are skipped; `payload`
/// is null for them). False on malformed data.
bool nextField(WireReader &r, uint64_t &field, uint32_t &wireType,
               const uint8_t *&payload, size_t &length) {
  payload = nullptr;
  length = 0;
  if (!r.key(field, wireType))
    return false;
  return wireType == 2 ? r.bytes(payload, length) : r.skip(wireType);
}
} // namespace

bool kiln::import::findRawDataOffsets(llvm::StringRef bytes,
                                      llvm::StringMap<RawDataSpan> &spans,
                                      std::string &error) {
  const auto *base = reinterpret_cast<const uint8_t *>(bytes.data());
  WireReader model{base, base + bytes.size()};
  uint64_t field;
  uint32_t wireType;
  const uint8_t *payload;
  size_t length;
  while (!model.atEnd()) {
    if (!nextField(model, field, wireType, payload, length)) {
      error = "malformed protobuf wire data in ModelProto";
      return false;
    }
    if (field != 7 || wireType != 2)
      continue;
    WireReader graph{payload, payload + length};
    while (!graph.atEnd()) {
      if (!nextField(graph, field, wireType, payload, length)) {
        error = "malformed protobuf wire data in GraphProto";
        return false;
      }
      if (field != 5 || wireType != 2)
        continue;
      WireReader tensor{payload, payload + length};
      std::string name;
      std::optional<RawDataSpan> raw;
      while (!tensor.atEnd()) {
        if (!nextField(tensor, field, wireType, payload, length)) {
          error = "malformed protobuf wire data in an initializer";
          return false;
        }
        if (wireType != 2)
          continue;
        if (field == 8)
          name.assign(reinterpret_cast<const char *>(payload), length);
        else if (field == 9)
          raw = RawDataSpan{static_cast<int64_t>(payload - base),
                            static_cast<int64_t>(length)};
      }
      if (raw)
        spans[name] = *raw;
    }
  }
  return true;
}

//===- OnnxModel.h - ONNX protobuf loading for the importer -----*- C++ -*-===//
//
// Internal to the importer: parses ModelProto bytes, locates the byte offset
// of every inline raw_data initializer payload in the file (a small
// wire-format walker, no second parse) and describes where each initializer's
// bytes live (inline, raw_data in the file, or an external-data file).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_ONNXMODEL_H
#define KILN_LIB_IMPORT_ONNXMODEL_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace kiln::import {

/// Offset and length (bytes) of a raw_data payload inside the model file.
struct RawDataSpan {
  int64_t offset = 0;
  int64_t length = 0;
};

/// A parsed model plus what the wire walker learned about it.
struct LoadedModel {
  std::unique_ptr<onnx::ModelProto> proto;
  /// Initializer name -> raw_data payload position in the model bytes.
  llvm::StringMap<RawDataSpan> rawData;
  ~LoadedModel();
};

/// Parses `bytes` as a ModelProto (no size limit below 2 GiB). On failure
/// returns false and sets `error` to a one-line reason.
bool parseModelProto(llvm::StringRef bytes, LoadedModel &model,
                     std::string &error);

/// Walks the protobuf wire format of a ModelProto: graph(7) ->
/// initializer(5) -> {name(8), raw_data(9)} and records the payload offset
/// of every raw_data. Returns false (with `error`) on malformed wire data.
bool findRawDataOffsets(llvm::StringRef bytes,
                        llvm::StringMap<RawDataSpan> &spans,
                        std::string &error);

} // namespace kiln::import

#endif // KILN_LIB_IMPORT_ONNXMODEL_H

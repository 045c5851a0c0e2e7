//===- OnnxImporter.h - ONNX to kiln graph IR -------------------*- C++ -*-===//
//
// Entry point of the ONNX importer: reads an ONNX model (protobuf, with
// initializers inline or in external-data files) and builds one func.func of
// graph-level kiln ops with static shapes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IMPORT_ONNXIMPORTER_H
#define KILN_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace kiln {

/// Options of an import.
/// The step a KV-cache build imports (docs/kv-cache.md): the importer finds
/// the token ids, past key/value and attention-mask inputs by their role in
/// the graph and binds batch = `batch`, sequence = `seq`, past =
/// `maxSeq - seq` and total = `maxSeq`, tags the role inputs with
/// `kiln.role`, and checks that no constant computed from the past length
/// reaches anything but an attention mask (else `kiln.kv_unsafe`).
struct KvStepShape {
  int64_t batch = 1;
  int64_t seq = 1;
  int64_t maxSeq = 0;
};

struct ImportOptions {
  /// Values for symbolic dims (`--bind past_len=7`).
  std::map<std::string, int64_t> binds;
  /// Name of the function to create.
  std::string functionName = "main";
  /// Set for a KV-cache step import (`kiln-compile --max-seq-len`).
  std::optional<KvStepShape> kvStep;
};

/// Parses one `--bind NAME=N` value (N >= 0) into `options.binds`; returns
/// false for anything else.
bool addBind(ImportOptions &options, llvm::StringRef nameEqualsValue);

/// Imports the ONNX model at `path`. On failure every problem found has been
/// reported through the context's diagnostic engine (located at the file and
/// ONNX node name) and failure is returned; never crashes on bad input.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxFile(mlir::MLIRContext &context, llvm::StringRef path,
               const ImportOptions &options);

/// Same as importOnnxFile for a model held in memory (`path` is used in
/// diagnostics and to resolve external-data files).
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxBytes(mlir::MLIRContext &context, llvm::StringRef bytes,
                llvm::StringRef path, const ImportOptions &options);

} // namespace kiln

#endif // KILN_IMPORT_ONNXIMPORTER_H

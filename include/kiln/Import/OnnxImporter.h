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
#include <string>

namespace kiln {

/// Options of an import.
struct ImportOptions {
  /// Values for symbolic dims (`--bind past_len=7`).
  std::map<std::string, int64_t> binds;
  /// Name of the function to create.
  std::string functionName = "main";
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

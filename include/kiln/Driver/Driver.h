//===- Driver.h - shared plumbing of the kiln tools -------------*- C++ -*-===//
//
// What kiln-run, kiln-compile and kiln-node-tests share: loading a model from
// any of the forms a user hands them (.onnx, .mlir, a .kiln artifact
// directory), collecting diagnostics into text, and running a function on the
// reference backend with host tensors from the runtime's tensor files.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DRIVER_DRIVER_H
#define KILN_DRIVER_DRIVER_H

#include "kiln/Import/OnnxImporter.h"
#include "kiln/runtime/TensorIO.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace kiln {

namespace ref {
struct State;
} // namespace ref

/// Registers every dialect the kiln tools read.
void registerKilnDialects(mlir::DialectRegistry &registry);

/// A model ready to run: its module, the entry function and the directory
/// that relative weight paths resolve against.
struct LoadedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp entry;
  std::string weightDir;
};

/// Loads `.onnx` (through the importer), `.mlir` (parsed and verified) or a
/// `.kiln` artifact directory (its scheduled.mlir). The entry is `function`
/// when given, else the module's only function, else @main; anything else is
/// an error that lists the functions. Diagnostics go to the context's handler.
mlir::FailureOr<LoadedModel> loadModel(mlir::MLIRContext &context,
                                       llvm::StringRef path,
                                       const ImportOptions &options,
                                       llvm::StringRef function = "");

/// Writes one diagnostic (and its notes) as "loc: severity: msg" lines, the
/// location as `file:line:col` or `file: node 'NAME'` for ONNX nodes.
void formatDiagnostic(llvm::raw_ostream &os, mlir::Diagnostic &diag);

/// Prints every diagnostic emitted while it lives to stderr, formatted as
/// formatDiagnostic does.
class DiagnosticPrinter {
public:
  explicit DiagnosticPrinter(mlir::MLIRContext &context);
  ~DiagnosticPrinter();

private:
  mlir::MLIRContext &context;
  mlir::DiagnosticEngine::HandlerID id;
};

/// Collects every diagnostic emitted while it lives as "loc: severity: msg"
/// lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &context);
  ~DiagnosticCollector();
  /// Everything collected so far, one diagnostic per line.
  const std::string &text() const { return collected; }

private:
  mlir::MLIRContext &context;
  mlir::DiagnosticEngine::HandlerID id;
  std::string collected;
};

/// Runs `func` on the reference backend. `inputs` bind to arguments by the
/// `kiln.name` argument attribute when every input is named and all names
/// match, else in order. Outputs are named from `kiln.name` result attributes.
/// `state` carries the KV caches from one call to the next (RefSession);
/// without it a run gets fresh zeroed caches.
mlir::LogicalResult
runReference(mlir::func::FuncOp func, llvm::StringRef weightDir,
             const std::vector<runtime::HostTensor> &inputs,
             std::vector<runtime::HostTensor> &outputs, std::string &error,
             ref::State *state = nullptr);

} // namespace kiln

#endif // KILN_DRIVER_DRIVER_H

//===- Artifact.h - write a kiln artifact directory -------------*- C++ -*-===//
//
// Turns an EmittedFunction (the translation of a scheduled function) into
// the artifact directory of docs/artifact.md: weights.bin (the bytes of
// every weight view's init, at the view's offset), kernels.cu and
// kernels.fatbin (through nvcc), scheduled.mlir (the scheduled module, with
// kiln.weight ops re-pointed at weights.bin) and manifest.txt.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_ARTIFACT_H
#define KILN_CODEGEN_ARTIFACT_H

#include "kiln/Codegen/CudaEmitter.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace kiln::codegen {

/// How to build an artifact.
struct ArtifactOptions {
  /// Target, `sm_80`, `sm_90a`, ...; the fatbin holds its SASS plus PTX.
  std::string arch = "sm_90a";
  /// The nvcc executable (a path or a name looked up in PATH).
  std::string nvcc = "nvcc";
  /// Directory holding kiln_kernels.cuh.
  std::string kernelsDir;
  /// Directory that relative kiln.weight paths resolve against.
  std::string weightBaseDir;
};

/// Writes the weight and constant bytes of `fn` into `path` at their views'
/// offsets (zero padding between them). Errors about `path` itself are
/// located at the file, errors about a weight at its op.
mlir::LogicalResult writeWeightsFile(mlir::MLIRContext *context,
                                     const EmittedFunction &fn,
                                     llvm::StringRef weightBaseDir,
                                     llvm::StringRef path);

/// Compiles `cuPath` to a fatbin at `fatbinPath` for `options.arch` (SASS +
/// PTX). On failure reports nvcc's command line and stderr at `loc`.
mlir::LogicalResult compileFatbin(llvm::StringRef cuPath,
                                  llvm::StringRef fatbinPath,
                                  const ArtifactOptions &options,
                                  mlir::Location loc);

/// Re-points every kiln.weight of `func` at `weights.bin` and its view's
/// offset there, so the module runs from the artifact directory alone.
void redirectWeights(mlir::func::FuncOp func, const EmittedFunction &fn);

/// Writes the whole artifact directory `dir` for `func` (scheduled, inside
/// `module`). `module` is modified: weights point at weights.bin.
mlir::LogicalResult writeArtifact(mlir::ModuleOp module, mlir::func::FuncOp func,
                                  const EmittedFunction &fn,
                                  llvm::StringRef dir,
                                  const ArtifactOptions &options);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_ARTIFACT_H

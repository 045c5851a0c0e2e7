//===- Artifact.h - write a kiln artifact directory -------------*- C++ -*-===//
//
// Turns a module of scheduled functions (each translated by emitFunction)
// into the artifact directory of docs/artifact.md: weights.bin (the bytes of
// every weight view's init, at the view's offset, one table for every
// function), kernels.cu and kernels.fatbin (through nvcc, every function's
// kernels), scheduled.mlir (the scheduled module, with kiln.weight ops
// re-pointed at weights.bin) and manifest.txt (format 4: one `function`
// record per scheduled function with its own inputs and outputs, the
// `kv_cache` record of the module's kiln.kv_cache, `step` and `role` from
// the functions' kiln.step and kiln.roles attributes).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_ARTIFACT_H
#define KILN_CODEGEN_ARTIFACT_H

#include "kiln/Codegen/CudaEmitter.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Program.h"

#include <string>
#include <utility>
#include <vector>

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

/// The translation of every scheduled function of a module, merged into what
/// one artifact holds.
struct EmittedModule {
  /// Every function with a body, in module order, and its translation.
  std::vector<std::pair<mlir::func::FuncOp, EmittedFunction>> functions;
  /// The union of the functions' weight tables by weights-region offset, in
  /// offset order (the manifest's weight ids); constants are renamed
  /// `constant_<id>`. `source` holds every function's kernels, and
  /// `arenaBytes` is the largest function's arena.
  EmittedFunction merged;
  /// The manifest without its data file records (kvCache from the module's
  /// kiln.kv_cache, function records with their inputs, outputs, roles,
  /// steps and launches, weight ids re-numbered to `merged.weights`).
  runtime::Manifest manifest;
};

/// Translates every function with a body of `module` (each must be
/// scheduled) and merges them: checks that weight views at the same
/// weights-region offset have the same init (and that different ones do not
/// overlap), that every kiln.kv_region has the size of the module's
/// kiln.kv_cache, that no kernel symbol is launched by two functions, and
/// that kiln.step / kiln.roles are well formed; the result's manifest
/// passes runtime::parseManifest. `known`, when given, is the translation of
/// `knownFunc`, reused instead of translating that function again.
mlir::FailureOr<EmittedModule>
emitModule(mlir::ModuleOp module, mlir::func::FuncOp knownFunc = nullptr,
           const EmittedFunction *known = nullptr);

/// Writes the weight and constant bytes of `fn` into `path` at their views'
/// offsets (zero padding between them). Errors about `path` itself are
/// located at the file, errors about a weight at its op.
mlir::LogicalResult writeWeightsFile(mlir::MLIRContext *context,
                                     const EmittedFunction &fn,
                                     llvm::StringRef weightBaseDir,
                                     llvm::StringRef path);

/// An nvcc started by startFatbin, not yet waited for.
struct NvccRun {
  llvm::sys::ProcessInfo process;
  llvm::SmallVector<std::string> args;
  llvm::SmallString<128> errPath;
  mlir::Location loc;
};
/// Starts nvcc compiling `cuPath` to a fatbin at `fatbinPath` for
/// `options.arch` (SASS + PTX) and returns without waiting; errors (no
/// nvcc, an unknown arch, a process that cannot start) at `loc`.
mlir::FailureOr<NvccRun> startFatbin(llvm::StringRef cuPath,
                                     llvm::StringRef fatbinPath,
                                     const ArtifactOptions &options,
                                     mlir::Location loc);
/// Waits for `run`; on failure reports nvcc's command line and stderr at
/// its location.
mlir::LogicalResult finishFatbin(NvccRun &run);

/// Compiles `cuPath` to a fatbin at `fatbinPath` for `options.arch` (SASS +
/// PTX): startFatbin, then finishFatbin.
mlir::LogicalResult compileFatbin(llvm::StringRef cuPath,
                                  llvm::StringRef fatbinPath,
                                  const ArtifactOptions &options,
                                  mlir::Location loc);

/// Re-points every kiln.weight of `func` at `weights.bin` and its view's
/// offset there, so the module runs from the artifact directory alone.
void redirectWeights(mlir::func::FuncOp func, const EmittedFunction &fn);

/// Writes the whole artifact directory `dir` for every scheduled function
/// of `module` (emitModule). `module` is modified: weights point at
/// weights.bin.
mlir::LogicalResult writeArtifact(mlir::ModuleOp module, llvm::StringRef dir,
                                  const ArtifactOptions &options);

/// As above; `fn` is the translation of `func` (one of the module's
/// functions, e.g. kiln-compile's entry), reused rather than recomputed.
/// Every scheduled function of the module goes into the artifact.
mlir::LogicalResult writeArtifact(mlir::ModuleOp module, mlir::func::FuncOp func,
                                  const EmittedFunction &fn,
                                  llvm::StringRef dir,
                                  const ArtifactOptions &options);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_ARTIFACT_H

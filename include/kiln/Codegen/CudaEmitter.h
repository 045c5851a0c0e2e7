//===- CudaEmitter.h - scheduled kiln IR to CUDA C++ and a launch list -*- C++ -*-===//
//
// The CUDA backend of kiln-compile: a translation of a function at the
// scheduled level (docs/scheduled-ir.md; kiln-schedule's output), like
// mlir-translate. Everything it produces is read from the IR:
//   - CUDA C++ source: `#include "kiln_kernels.cuh"` and one
//     `extern "C" __global__` function per launched kiln.kernel, named by
//     its symbol, with every shape and stride baked in as constants;
//   - the launch list: one record per kiln.launch / kiln.gemm of the
//     kiln.graph, in order (grid, block and pointer arguments as the op
//     states them);
//   - the weight table (the root views of kiln.weights with `init`, at their
//     offsets), the input/output bindings (views bound by name) and the
//     arena size (kiln.arena's type).
// printManifest renders the result as docs/artifact.md's manifest.txt
// (through the runtime's formatManifest).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CUDAEMITTER_H
#define KILN_CODEGEN_CUDAEMITTER_H

#include "kiln/runtime/Artifact.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::codegen {

/// Launch records are the runtime's own (kiln/runtime/Artifact.h): what the
/// emitter builds is exactly what the runtime parses, and formatManifest is
/// the one writer of the manifest text.
using KernelArg = runtime::PointerRef;
using runtime::GemmLaunch;
using runtime::KernelLaunch;
using runtime::Launch;

/// A weight or constant stored in weights.bin.
struct WeightEntry {
  std::string name;
  mlir::Type elementType;
  llvm::SmallVector<int64_t> shape;
  /// Offset in weights.bin (its view's offset) and byte size.
  int64_t offset = 0;
  int64_t bytes = 0;
  /// The kiln.weight or kiln.constant op it comes from (the view's init).
  mlir::Operation *op = nullptr;
};

/// A function input or output bound to a static arena range.
struct TensorBinding {
  std::string name;
  mlir::Type elementType;
  llvm::SmallVector<int64_t> shape;
  int64_t arenaOffset = 0;
  int64_t bytes = 0;
};

/// Everything codegen reads off one scheduled function.
struct EmittedFunction {
  std::string source;
  /// The source of each kernel the function launches, by symbol, in the
  /// order `source` has them (a module's functions may share kernels).
  std::vector<std::pair<std::string, std::string>> kernels;
  std::vector<Launch> launches;
  std::vector<WeightEntry> weights;
  std::vector<TensorBinding> inputs;
  std::vector<TensorBinding> outputs;
  int64_t arenaBytes = 0;
  /// Size of weights.bin: end of the last weight.
  int64_t weightsBytes = 0;
};

/// Translates a scheduled function (no arguments or results; a kiln.arena,
/// views, and a kiln.graph of kiln.launch / buffer-form kiln.gemm ops whose
/// kernels are kiln.kernel symbols of the enclosing module) into CUDA
/// source, the launch list, the weight table and the bindings. Emits a
/// located error and fails on IR that is not scheduled (run kiln-schedule),
/// a kernel or gemm with no CUDA lowering, an unsupported element type, or
/// a launch shape the kernel cannot run with.
mlir::FailureOr<EmittedFunction> emitFunction(mlir::func::FuncOp func);


/// Whether kernels generated for `arch` (sm_XX) wait for the launch before
/// them (kiln::pdlEnter: sm_90 and later), so the manifest may say
/// `dependent_launch`.
bool kernelsWaitForDependencies(llvm::StringRef arch);

/// The manifest dtype token of an element type (`f32`, `i64`, `bool`, ...),
/// or std::nullopt if the artifact format has none.
std::optional<llvm::StringRef> dtypeToken(mlir::Type elementType);

/// Renders manifest.txt (docs/artifact.md) for `fn` and the artifact's data
/// files as written (names, sizes and content hashes).
std::string printManifest(const EmittedFunction &fn, llvm::StringRef arch,
                          const runtime::DataFile &weights,
                          const runtime::DataFile &kernels,
                          const runtime::DataFile &ir);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_CUDAEMITTER_H

//===- CudaEmitter.h - planned kiln IR to CUDA C++ and a launch list -*- C++ -*-===//
//
// The CUDA backend of kiln-compile. From a function at the scheduled level
// (every arena value has a kiln.arena offset), emitFunction produces
//   - CUDA C++ source: `#include "kiln_kernels.cuh"` and one
//     `extern "C" __global__` kernel per op (a few ops take two), with every
//     shape and stride baked in as constants;
//   - the launch list: kernel launches with grid/block and pointer arguments
//     (arena offsets or weight ids), and cuBLASLt `gemm` records for
//     matmul/linear whose batch broadcasting is expressible with strides;
//   - the weight table (kiln.weight and kiln.constant, in program order, at
//     256-byte-aligned offsets of weights.bin) and the input/output bindings.
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
  /// Offset in weights.bin (256-byte aligned) and byte size.
  int64_t offset = 0;
  int64_t bytes = 0;
  /// The kiln.weight or kiln.constant op it comes from.
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

/// Everything codegen derives from one planned function.
struct EmittedFunction {
  std::string source;
  std::vector<Launch> launches;
  std::vector<WeightEntry> weights;
  std::vector<TensorBinding> inputs;
  std::vector<TensorBinding> outputs;
  int64_t arenaBytes = 0;
  /// Size of weights.bin: end of the last weight.
  int64_t weightsBytes = 0;
};

/// Knobs of code generation.
struct EmitOptions {
  /// Lower eligible matmul/linear to cuBLASLt `gemm` launches; when false,
  /// every matmul/linear gets the generic matmul kernel (for debugging).
  bool useGemm = true;
};

/// Generates CUDA source and the launch list of a planned function. Emits a
/// located error and fails on an unsupported op or element type, or on a
/// missing plan.
mlir::FailureOr<EmittedFunction> emitFunction(mlir::func::FuncOp func,
                                              const EmitOptions &options = {});

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

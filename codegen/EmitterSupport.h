//===- EmitterSupport.h - shared helpers of the CUDA emitter ----*- C++ -*-===//
//
// Internal to codegen/: the per-function emission context (kernel naming,
// pointer arguments, the source stream and launch list) and helpers that
// turn static shapes into straight-line index arithmetic. The op groups
// (EmitElementwise.cpp, EmitLinalg.cpp, EmitMovement.cpp,
// EmitTransformer.cpp) build on it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_EMITTERSUPPORT_H
#define KILN_CODEGEN_EMITTERSUPPORT_H

#include "kiln/Codegen/CudaEmitter.h"
#include "kiln/Transforms/MemoryPlan.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kiln::codegen {

/// Threads per block of elementwise kernels.
inline constexpr int64_t kBlockSize = 256;

/// The C++ type of an element type in generated code (`float`, `int64_t`,
/// `bool`, ...), or std::nullopt if codegen does not support it.
std::optional<std::string> cudaType(mlir::Type elementType);

/// Static shape of a tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value value);
/// Element type of a tensor value.
mlir::Type eltOf(mlir::Value value);
/// Product of dims.
int64_t product(llvm::ArrayRef<int64_t> dims);
/// Row-major element strides of `shape`.
llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape);

/// Code that splits the linear index `var` into coordinates named
/// `<prefix>0 .. <prefix>{rank-1}` of `shape` (declares them as int64_t).
std::string decompose(llvm::StringRef var, llvm::ArrayRef<int64_t> shape,
                      llvm::StringRef prefix);

/// The expression `sum coord_d * stride_d` over the dims where stride != 0
/// (`0` if none); coordinates are `<prefix>d`.
std::string linearExpr(llvm::ArrayRef<int64_t> strides, llvm::StringRef prefix);

/// Element strides of `inShape` numpy-broadcast to `outShape`, aligned to
/// `outShape`'s dims (broadcast dims get stride 0).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> inShape,
                                            llvm::ArrayRef<int64_t> outShape);

/// An int64_t lambda `[](int64_t <var>) -> int64_t` mapping a linear index of
/// `outShape` to the offset of the broadcast element of `inShape`.
std::string broadcastMap(llvm::ArrayRef<int64_t> inShape,
                         llvm::ArrayRef<int64_t> outShape);

/// The element offset, in a tensor of `inShape` broadcast to `outShape`, of
/// the element at linear index `var` of `outShape`, as an expression that
/// may use coordinates `<prefix>d` (declared by decompose of `var`);
/// `needsCoords` is set if it does.
std::string broadcastIndex(llvm::ArrayRef<int64_t> inShape,
                           llvm::ArrayRef<int64_t> outShape,
                           llvm::StringRef var, llvm::StringRef prefix,
                           bool &needsCoords);

/// A float literal for generated code (`0.125f`, `INFINITY`, ...).
std::string floatLiteral(double value);

/// Grid size for a grid-stride loop over `n` elements.
int64_t gridFor(int64_t n);
/// Block size for a block reduction over `n` elements per block.
int64_t blockForReduction(int64_t n);

/// Per-function emission state shared by every op group.
class EmitContext {
public:
  EmitContext(const MemoryPlan &plan,
              const llvm::DenseMap<mlir::Value, int64_t> &weightIds,
              EmittedFunction &out)
      : plan(plan), weightIds(weightIds), out(out), os(out.source) {}

  /// Starts a kernel for `op`: writes the signature with one `const T *inN`
  /// parameter per input and one `T *outN` per output, and records a launch
  /// with their pointer arguments. The caller writes the body and closes it
  /// with endKernel(). Fails (located error) on unsupported element types.
  mlir::LogicalResult beginKernel(mlir::Operation *op, llvm::StringRef suffix,
                                  llvm::ArrayRef<mlir::Value> inputs,
                                  llvm::ArrayRef<mlir::Value> outputs,
                                  int64_t grid, int64_t block);
  /// Closes the kernel begun last.
  void endKernel();

  /// Emits a whole elementwise-shaped kernel whose body is `body` (already
  /// indented), launched over `n` elements.
  mlir::LogicalResult simpleKernel(mlir::Operation *op, llvm::StringRef suffix,
                                   llvm::ArrayRef<mlir::Value> inputs,
                                   llvm::ArrayRef<mlir::Value> outputs,
                                   int64_t n, llvm::StringRef body);

  /// The pointer argument of `value` (arena offset or weight id); emits an
  /// error at `user` if it has neither.
  mlir::FailureOr<KernelArg> argFor(mlir::Value value, mlir::Operation *user);

  /// Adds a gemm launch.
  void addGemm(const GemmLaunch &gemm);

  /// The C++ element type of `value`; emits an error at `op` if unsupported.
  mlir::FailureOr<std::string> typeOf(mlir::Value value, mlir::Operation *op);

  /// The source stream.
  llvm::raw_string_ostream &source() { return os; }

  /// Index of the op being emitted (part of every kernel name).
  int64_t opIndex = 0;
  /// Whether matmul/linear may become cuBLASLt gemm launches.
  bool useGemm = true;

private:
  const MemoryPlan &plan;
  const llvm::DenseMap<mlir::Value, int64_t> &weightIds;
  EmittedFunction &out;
  llvm::raw_string_ostream os;
};

/// Op groups: each emits the kernels/launches of one op, or fails with a
/// located error. They return std::nullopt if the op is not theirs.
std::optional<mlir::LogicalResult> emitElementwiseOp(EmitContext &ctx,
                                                     mlir::Operation *op);
std::optional<mlir::LogicalResult> emitLinalgOp(EmitContext &ctx,
                                                mlir::Operation *op);
std::optional<mlir::LogicalResult> emitMovementOp(EmitContext &ctx,
                                                  mlir::Operation *op);
std::optional<mlir::LogicalResult> emitTransformerOp(EmitContext &ctx,
                                                     mlir::Operation *op);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_EMITTERSUPPORT_H

//===- EmitterSupport.h - shared helpers of the CUDA emitter ----*- C++ -*-===//
//
// Internal to codegen/: the per-kernel emission context (the kernel's name,
// launch bounds and parameters, the source stream) and helpers that turn
// static shapes into straight-line index arithmetic. The op groups
// (EmitElementwise.cpp, EmitLinalg.cpp, EmitMovement.cpp,
// EmitTransformer.cpp) build on it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_EMITTERSUPPORT_H
#define KILN_CODEGEN_EMITTERSUPPORT_H

#include "kiln/Codegen/CudaEmitter.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#include <string>

namespace kiln::codegen {

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
/// The kernel parameter of a fused body's block argument `v`: in<N>.
std::string argOf(mlir::Value v);

/// True for the ops whose element i is a scalar function of their operands'
/// elements at i (broadcast): ElementwiseOpInterface, kiln.where, kiln.cast.
bool isScalarMap(mlir::Operation *op);

/// The C++ expression of one element of `op` (isScalarMap) from one
/// expression per operand (`in`): a `kiln::op::` device function of
/// kiln_kernels.cuh or a C++ operator, in the operands' types. A located
/// error for a cast to an element type codegen does not support.
mlir::FailureOr<std::string> scalarMapExpr(mlir::Operation *op,
                                           llvm::ArrayRef<std::string> in);

/// Per-kernel emission state shared by every op group. The driver
/// (CudaEmitter.cpp) sets it up for one kiln.kernel; an op group writes the
/// kernel's source through beginKernel/endKernel. Values are the kernel
/// body's tensors: block arguments (the kernel's inputs) and yielded
/// results (its outputs); shapes and element types come from them.
class EmitContext {
public:
  explicit EmitContext(llvm::raw_string_ostream &os) : os(os) {}

  /// Starts the kernel: writes `extern "C" __global__ void
  /// __launch_bounds__(<block>) <name>(...)` with one `const T *inN` per
  /// input and one `T *outN` per output, in that order, and records them as
  /// the kernel's parameters. Each input must be a body argument and each
  /// output a yielded value. Fails (located error at `op`) on an unsupported
  /// element type or a value that is neither. The caller writes the body and
  /// closes it with endKernel(). Called once per kernel.
  /// The comment line before the kernel names `what` (default: `op`'s name)
  /// and `op`'s location.
  mlir::LogicalResult beginKernel(mlir::Operation *op,
                                  llvm::ArrayRef<mlir::Value> inputs,
                                  llvm::ArrayRef<mlir::Value> outputs,
                                  llvm::StringRef what = {});
  /// Closes the kernel.
  void endKernel();
  /// Set before beginKernel by an emitter that writes the kernel's
  /// `kiln::pdlEnter();` itself (after prefetching weights); otherwise
  /// beginKernel writes it as the body's first statement. Every kernel must
  /// have it before it touches memory another launch writes or reads.
  bool ownPdlEnter = false;
  /// Set before beginKernel (with ownPdlEnter) by an emitter that issues
  /// the kernel's prefetchBytes itself, after its own wait (the early
  /// decode attention's `waited` hook); beginKernel then writes none.
  bool prefetchAfterOwnWait = false;
  /// Set by the driver: the kernel is a GEMV (analyzeGemvKernel), so it
  /// streams weights. kiln-prefetch-weights also asks that its launches
  /// bind kiln.weights to the weight rows, which every GEMV of kiln-gemv's
  /// does: its prefetch lists (the default placement) go on such kernels,
  /// at-quiet lists on the others.
  bool streamsWeights = false;
  /// Set before beginKernel for a kernel whose blocks run in thread block
  /// clusters of this many (kiln.kv_attention's cluster merge): the kernel
  /// is declared `KILN_CLUSTER_DIMS(n)` (kiln_kernels.cuh). 0: none.
  int64_t clusterDims = 0;
  /// Set before beginKernel to ask ptxas for registers that let this many
  /// blocks share an SM (`__launch_bounds__(maxBlock, minBlocks)`; the
  /// tensor-core GEMVs with kGemvMmaMinBlocksAttr). 0: no such bound.
  int64_t minBlocks = 0;

  /// Emits a whole kernel whose body is `body` (already indented).
  mlir::LogicalResult simpleKernel(mlir::Operation *op,
                                   llvm::ArrayRef<mlir::Value> inputs,
                                   llvm::ArrayRef<mlir::Value> outputs,
                                   llvm::StringRef body);

  /// The C++ element type of `value`; emits an error at `op` if unsupported.
  mlir::FailureOr<std::string> typeOf(mlir::Value value, mlir::Operation *op);

  /// The kiln::prefetchL2Grid statements of prefetchBytes, each indented
  /// by `indent` and ended by a newline ("" when there are none).
  std::string prefetchCalls(llvm::StringRef indent) const;

  /// The source stream.
  llvm::raw_string_ostream &source() { return os; }

  /// Where a kernel parameter's pointer comes from: operand `index` of the
  /// launch's `ins` (a body argument) or of its `outs` (a yielded value).
  struct ParamSource {
    bool isOutput = false;
    unsigned index = 0;
    /// Operand `index` of the launch's `prefetch` instead.
    bool isPrefetch = false;
  };

  /// Set by the driver before an op group runs.
  /// The kernel's CUDA name (its symbol).
  std::string name;
  /// `__launch_bounds__`: the largest block of any launch of the kernel.
  int64_t maxBlock = 1;
  /// The fewest threads (grid x block, x only) of any launch of the kernel.
  int64_t minThreads = std::numeric_limits<int64_t>::max();
  /// Whether pointer parameters may be `__restrict__` (no launch of the
  /// kernel has an output overlapping an input).
  bool restrictPointers = true;
  /// The kernel's body arguments and yielded values.
  llvm::SmallVector<mlir::Value> bodyArgs, yielded;
  /// Per body argument: whether every launch of the kernel passes a step
  /// input there (a `kiln.view` named `input`, which no launch writes), so
  /// the kernel may read it before waiting for the launch before it.
  llvm::SmallVector<bool> argIsStepInput;

  /// Bytes the kernel asks L2 for at each of its launches' `prefetch`
  /// buffers (the same for every launch): beginKernel adds a `const void
  /// *pfN` parameter per buffer after the outputs and spreads the requests
  /// over the grid's threads (kiln::prefetchL2Grid, prefetchCalls): a
  /// kernel that streams weights (streamsWeights) asks first, before its
  /// wait; a quiet one (at-quiet lists) right after the pdlEnter
  /// beginKernel writes, so the requests do not compete with the stream of
  /// the launch before it, or through its emitter (prefetchAfterOwnWait).
  llvm::SmallVector<int64_t> prefetchBytes;

  /// Filled by beginKernel: the kernel's parameters, in order.
  llvm::SmallVector<ParamSource> params;
  /// Whether beginKernel ran.
  bool begun = false;

private:
  /// Where `value` (an input when `output` is false) comes from.
  std::optional<ParamSource> sourceOf(mlir::Value value, bool output);

  llvm::raw_string_ostream &os;
};

/// The ops of `body` that the terminator's operands `yields` depend on
/// (their defining ops and, transitively, those of their operands), not
/// walking past an op `stop` accepts (which is in the set itself).
llvm::SmallPtrSet<mlir::Operation *, 16>
opsYieldsNeed(mlir::Block &body, llvm::ArrayRef<unsigned> yields,
              llvm::function_ref<bool(mlir::Operation *)> stop = nullptr);

/// Writes, at `indent`, the scalar code of the ops of `body` that `include`
/// accepts (scalar maps, in body order), for the element at linear index `i`
/// of `shape`: one local `a<N>` per block argument that such an op or the
/// terminator reads (its broadcast element; `coords` is set when that needs
/// the coordinates `c<d>` of `i`), then one local `v<j>` per op
/// (scalarMapExpr, converted to the op's type). `names` holds the values
/// named before (e.g. a GEMV's products) and gets the new ones. Types that
/// codegen does not support are errors located at `anchor` (arguments) or
/// the op. `stores` (all of them when null) says which of the yielded
/// values this loop stores: a block argument yielded as it is is loaded
/// only for those. Serves the fused elementwise kernels (a loop per yielded
/// shape) and the GEMV epilogues.
mlir::LogicalResult emitScalarOps(
    EmitContext &ctx, mlir::Block &body,
    llvm::function_ref<bool(mlir::Operation *)> include,
    llvm::ArrayRef<int64_t> shape, llvm::StringRef indent,
    mlir::Operation *anchor, llvm::DenseMap<mlir::Value, std::string> &names,
    bool &coords, llvm::raw_ostream &os,
    llvm::function_ref<bool(mlir::Value)> stores = nullptr);

/// The kernels kiln-gemv makes (kiln::analyzeGemvKernel): GEMV linears of
/// one input, grouped by the elementwise epilogue that combines them (a
/// residual add; SwiGLU's silu and mul; casts), and sibling groups one after
/// another in the column space. One warp per column computes
/// kiln::gemvDots of the group's weight rows, and lane 0 the epilogue of
/// that column for every row, rounded to each op's type as a kernel of its
/// own would. std::nullopt when `body` is not such a kernel.
std::optional<mlir::LogicalResult> emitGemvKernel(EmitContext &ctx,
                                                  mlir::Block &body);

/// The zero point of kiln.matmul_nbits `op` at output column `n`, scale
/// block `j` (identifiers or parenthesised C++ expressions), converted to
/// `accType`, with the zero points (if the op has them) read from the
/// kernel argument `in`: 2^(bits - 1) without them, else a packed nibble or
/// byte, or a float.
std::string nbitsZeroPoint(mlir::Operation *op, llvm::StringRef in,
                           llvm::StringRef n, llvm::StringRef j,
                           llvm::StringRef accType);

/// The grouped-query split attention kernel of a body that
/// kiln::analyzeKvAttentionKernel accepts (a lone kiln.kv_attention, or
/// kiln-fuse-kv-attention's rotaries, append and attention), or nullopt for
/// any other body (codegen/EmitTransformer.cpp).
std::optional<mlir::LogicalResult> emitKvAttentionKernel(EmitContext &ctx,
                                                         mlir::Block &body);

/// The rope-and-append kernel of a body that kiln::analyzeRopeAppendKernel
/// accepts (kiln-fuse-kv-attention with --fuse-rope-append), or nullopt for
/// any other body (codegen/EmitTransformer.cpp).
std::optional<mlir::LogicalResult> emitRopeAppendKernel(EmitContext &ctx,
                                                        mlir::Block &body);

/// Emits the kernel whose body (`body`, a kiln.kernel's block) computes
/// several elementwise ops (isScalarMap) of one index space, the shape of
/// its yielded values: one grid-stride loop in which each thread loads its
/// element of every argument (broadcast), computes every op in order as a
/// local scalar, and stores every yielded value. Located error for a body op
/// that is not a scalar map or has another shape (a broadcast between
/// intermediates).
mlir::LogicalResult emitFusedKernel(EmitContext &ctx, mlir::Block &body);

/// Op groups: each emits the kernel computing one op (the single op of a
/// kiln.kernel body), or fails with a located error. They return
/// std::nullopt if the op is not theirs.
std::optional<mlir::LogicalResult> emitElementwiseOp(EmitContext &ctx,
                                                     mlir::Operation *op);
std::optional<mlir::LogicalResult> emitLinalgOp(EmitContext &ctx,
                                                mlir::Operation *op);
std::optional<mlir::LogicalResult> emitMovementOp(EmitContext &ctx,
                                                  mlir::Operation *op);
std::optional<mlir::LogicalResult> emitTransformerOp(EmitContext &ctx,
                                                     mlir::Operation *op);
std::optional<mlir::LogicalResult> emitQuantOp(EmitContext &ctx,
                                               mlir::Operation *op);

} // namespace kiln::codegen

#endif // KILN_CODEGEN_EMITTERSUPPORT_H

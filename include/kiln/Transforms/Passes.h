//===- Passes.h - kiln pass entry points ------------------------*- C++ -*-===//
//
// Declares every kiln pass and the pattern-population functions behind them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_PASSES_H
#define KILN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class RewritePatternSet;
class RewriterBase;
} // namespace mlir

namespace kiln {

#define GEN_PASS_DECL
#include "kiln/Transforms/Passes.h.inc"

/// Checks the memory plan stored in `func`'s kiln.arena attributes: every
/// arena value planned, aligned to `alignment`, inside kiln.arena_bytes, and
/// no two values live at the same time overlapping. Reports each violation
/// at the op (or function) concerned.
llvm::LogicalResult verifyMemoryPlan(mlir::func::FuncOp func,
                                     int64_t alignment = 256);

/// The knobs of kiln-compile-pipeline (and kiln-fused-pipeline).
struct PipelineOptions {
  /// kiln-form-fusions' library-calls: cuBLASLt-shaped matmul/linear become
  /// kiln.gemm (false: generated matmul kernels, for debugging).
  bool libraryCalls = true;
  /// kiln-lower-precision's precision: f32 (no change), bf16 or f16.
  std::string precision = "f32";
  /// kiln-gemv after fusion (with library calls): products of kGemvMaxRows rows on
  /// a weight run as kiln's GEMV instead of cuBLASLt.
  bool gemv = true;
  /// kiln-prefetch-weights' budget in MiB after kiln-schedule (0: the
  /// pass does not run).
  int64_t prefetchMb = 0;
  /// kiln-prefetch-weights' at-quiet: the quiet launch asks, after its
  /// wait, instead of the first streaming launch after it.
  bool prefetchAtQuiet = false;
  /// kiln-recognize's remarks: its near misses as remarks.
  bool remarks = false;
  /// kiln-merge-gemms after kiln-gemv: sibling gemms of more rows than a
  /// GEMV takes as one gemm on weights stored back to back (on by default
  /// since session 14: every fixture right on an H200, Llama-1B's batch-32
  /// step 2.044 -> 1.928 ms; bench/RESULTS.md).
  bool mergeGemms = true;
  /// kiln-merge-gemms' head-split: also q/k/v, read through the split
  /// into heads by rotaries and the KV append (on by default since session
  /// 16: every fixture right on an H200 with it, Llama-1B's batch-32 step
  /// 1.911 -> 1.769 ms; bench/RESULTS.md).
  bool mergeQkvGemms = true;
  /// kiln-merge-siblings' independent: small independent elementwise
  /// launches (a decode step's rotary table, mask and embedding row) as
  /// one kernel.
  bool mergeSmallLaunches = true;
};

/// Adds the graph-level passes of kiln-compile (after import, before
/// fusion: kiln-simplify, kiln-recognize) to `pm`, which must run on a
/// module.
void buildGraphPipeline(mlir::OpPassManager &pm,
                        const PipelineOptions &options = {});

/// Adds kiln-form-fusions (on every function) to `pm`, which must run on a
/// module holding graph-level IR.
void buildFusePipeline(mlir::OpPassManager &pm,
                       const PipelineOptions &options = {});

/// Adds buildGraphPipeline, then buildFusePipeline: the fused level.
/// Registered as `kiln-fused-pipeline`; its output is kiln-compile
/// --emit=fused.
void buildFusedPipeline(mlir::OpPassManager &pm,
                        const PipelineOptions &options = {});

/// Adds planning and its verifier (kiln-plan-memory, kiln-verify-plan, on
/// every function) to `pm`: the fused level with kiln.arena attributes.
void buildPlanPipeline(mlir::OpPassManager &pm);

/// Adds kiln-schedule: planned functions to the explicit scheduled level;
/// then, with options.prefetchMb > 0, kiln-prefetch-weights.
void buildLowerPipeline(mlir::OpPassManager &pm,
                        const PipelineOptions &options = {});

/// Adds everything kiln-compile runs between loading and code emission:
/// buildFusedPipeline, buildPlanPipeline, buildLowerPipeline. The one
/// definition of the pipeline; registered as `kiln-compile-pipeline`; its
/// output is kiln-compile --emit=scheduled, which codegen translates.
void buildCompilePipeline(mlir::OpPassManager &pm,
                          const PipelineOptions &options = {});

/// Registers `kiln-compile-pipeline`, `kiln-graph-pipeline` and
/// `kiln-fused-pipeline` for `--pass-pipeline` and as `kiln-opt` flags.
void registerKilnPipelines();

/// Adds the kiln ops' canonicalisation patterns to `patterns`.
void populateSimplifyPatterns(mlir::RewritePatternSet &patterns);

/// Adds the exact rewrites kiln-form-fusions applies before grouping
/// (passes/FusionPrep.cpp): views and slices moved from a scalar map's
/// result onto its operands, a slice of a concat onto the operand it reads,
/// a gather of 0..n-1 as a reshape, and(x, true) / or(x, false) / x * 1 as
/// x, a matmul contracting one element as a broadcast product.
void populateFusionPrepPatterns(mlir::RewritePatternSet &patterns);

/// Replaces a kiln.matmul or kiln.linear that codegen sends to cuBLASLt with
/// the equivalent kiln.gemm; fails (changing nothing) for any other op.
mlir::FailureOr<mlir::Operation *> convertToGemm(mlir::RewriterBase &rewriter,
                                                 mlir::Operation *op);

/// Folds `op`, outside any fusion, into the epilogue of the kiln.gemm whose
/// result it reads (the gemm's only use, or the only use of a kiln.reshape of
/// it that is itself used only by `op`), when the gemm's epilogue
/// `act(scale * (a x b) + bias + residual)` can take it exactly:
/// - a kiln.add of a residual of exactly the op's f32 type (no broadcast),
///   either operand order, when the gemm has no residual or activation yet
///   (reshaped to the gemm's type through a reshape; cuBLASLt's C with
///   beta = 1);
/// - kiln.gelu approximate<tanh> (cuBLASLt's GELU) or kiln.max with a splat
///   0 (ReLU), when the gemm has no activation yet;
/// - a kiln.mul by a splat f32 constant c, or a kiln.div by one that is a
///   power of two (1 / c exact), when the gemm has no bias, residual,
///   activation or scale yet (the scale applies to the product alone).
/// Fails, changing nothing, otherwise.
mlir::FailureOr<mlir::Operation *>
foldIntoGemmEpilogue(mlir::RewriterBase &rewriter, mlir::Operation *op);

#define GEN_PASS_REGISTRATION
#include "kiln/Transforms/Passes.h.inc"

} // namespace kiln

#endif // KILN_TRANSFORMS_PASSES_H

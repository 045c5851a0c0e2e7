//===- Pipeline.cpp - kiln-compile's pass pipeline, registered by name ----===//
//
// The passes kiln-compile runs between loading a model and emitting code,
// built in one place and registered as `kiln-compile-pipeline`, so that
// `kiln-opt --kiln-compile-pipeline` (or
// `--pass-pipeline='builtin.module(kiln-compile-pipeline)'`) reproduces
// exactly what kiln-compile does, pass by pass, with every MLIR debugging
// flag (`--mlir-print-ir-after-all`, `--mlir-timing`): graph passes, then
// kiln-form-fusions (--emit=fused stops here), planning, and kiln-schedule
// (--emit=scheduled), whose output codegen translates.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// kiln-compile-pipeline's textual options.
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  Option<bool> libraryCalls{
      *this, "library-calls",
      llvm::cl::desc("Turn cuBLASLt-shaped matmul/linear into kiln.gemm "
                     "(kiln-compile --no-gemm sets it to false)"),
      llvm::cl::init(true)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Storage type of float tensors between kernels: f32, "
                     "bf16 or f16 (kiln-lower-precision; kiln-compile "
                     "--precision)"),
      llvm::cl::init("f32")};
  Option<bool> gemv{
      *this, "gemv",
      llvm::cl::desc("Run skinny products (one row, kGemvMaxRows) as kiln's GEMV "
                     "(kiln-gemv; kiln-compile --no-gemv sets it false)"),
      llvm::cl::init(true)};
  Option<int64_t> prefetchMb{
      *this, "prefetch-mb",
      llvm::cl::desc("MiB of later launches' weights that the first "
                     "streaming launch after a quiet one may ask L2 for "
                     "(kiln-prefetch-weights budget-kb = 1024 x this; "
                     "kiln-compile --prefetch-weights-mb); 0: none"),
      llvm::cl::init(0)};
  Option<bool> prefetchAtQuiet{
      *this, "prefetch-at-quiet",
      llvm::cl::desc("With prefetch-mb, the quiet launch asks, after its "
                     "wait (kiln-prefetch-weights at-quiet; kiln-compile "
                     "--prefetch-weights-at=quiet)"),
      llvm::cl::init(false)};
  Option<bool> remarks{
      *this, "remarks",
      llvm::cl::desc("kiln-recognize's near misses as remarks (kiln-compile "
                     "--kiln-remarks)"),
      llvm::cl::init(false)};
  Option<bool> mergeGemms{
      *this, "merge-gemms",
      llvm::cl::desc("Sibling gemms of more rows than a GEMV takes as one "
                     "gemm on weights stored back to back (kiln-merge-gemms; "
                     "kiln-compile --merge-gemms, on by default)"),
      llvm::cl::init(true)};
  Option<bool> mergeQkvGemms{
      *this, "merge-qkv-gemms",
      llvm::cl::desc("With merge-gemms, also products read through a split "
                     "into heads by rotaries and the KV append (q/k/v; "
                     "kiln-merge-gemms head-split; kiln-compile "
                     "--merge-qkv-gemms, on by default)"),
      llvm::cl::init(true)};
  Option<bool> mergeSmallLaunches{
      *this, "merge-small-launches",
      llvm::cl::desc("Small independent elementwise launches of any shapes "
                     "as one kernel (kiln-merge-siblings independent; "
                     "kiln-compile --merge-small-launches, on by default)"),
      llvm::cl::init(true)};
  kiln::PipelineOptions get() const {
    return {libraryCalls,    precision, gemv,       prefetchMb,
            prefetchAtQuiet, remarks,   mergeGemms, mergeQkvGemms,
            mergeSmallLaunches};
  }
};
} // namespace

void kiln::buildGraphPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  pm.addPass(createKilnSimplify());
  // MLIR's CSE: an importer converts node by node, so a computation that
  // several nodes make alike (each GroupQueryAttention's positions from
  // seqlens_k and its cos/sin rows) is one value per node until here. Only
  // ops free of memory effects merge; the KV ops never do.
  pm.addPass(mlir::createCSEPass());
  KilnRecognizeOptions recognizeOptions;
  recognizeOptions.remarks = options.remarks;
  pm.addPass(createKilnRecognize(recognizeOptions));
  pm.addPass(createKilnKvCache());
}

void kiln::buildFusePipeline(OpPassManager &pm,
                             const PipelineOptions &options) {
  KilnFormFusionsOptions fusionOptions;
  fusionOptions.libraryCalls = options.libraryCalls;
  pm.addNestedPass<func::FuncOp>(createKilnFormFusions(fusionOptions));
  if (options.precision != "f32") {
    KilnLowerPrecisionOptions precisionOptions;
    precisionOptions.precision = options.precision;
    pm.addPass(createKilnLowerPrecision(precisionOptions));
  }
  if (options.libraryCalls && options.gemv) {
    pm.addNestedPass<func::FuncOp>(createKilnGemv());
    if (options.mergeGemms) {
      KilnMergeGemmsOptions mergeOptions;
      mergeOptions.headSplit = options.mergeQkvGemms;
      pm.addPass(createKilnMergeGemms(mergeOptions));
    }
  }
  pm.addNestedPass<func::FuncOp>(createKilnFuseKvAttention());
  KilnMergeSiblingsOptions siblingOptions;
  siblingOptions.independent = options.mergeSmallLaunches;
  pm.addNestedPass<func::FuncOp>(createKilnMergeSiblings(siblingOptions));
}

void kiln::buildFusedPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  buildGraphPipeline(pm, options);
  buildFusePipeline(pm, options);
}

void kiln::buildPlanPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createKilnPlanMemory());
  pm.addNestedPass<func::FuncOp>(createKilnVerifyPlan());
}

void kiln::buildLowerPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  pm.addPass(createKilnSchedule());
  if (options.prefetchMb > 0) {
    KilnPrefetchWeightsOptions prefetch;
    prefetch.budgetKb = options.prefetchMb * 1024;
    prefetch.atQuiet = options.prefetchAtQuiet;
    pm.addPass(createKilnPrefetchWeights(prefetch));
  }
}

void kiln::buildCompilePipeline(OpPassManager &pm,
                                const PipelineOptions &options) {
  buildFusedPipeline(pm, options);
  buildPlanPipeline(pm);
  buildLowerPipeline(pm, options);
}

void kiln::registerKilnPipelines() {
  PassPipelineRegistration<CompilePipelineOptions>(
      "kiln-compile-pipeline",
      "What kiln-compile runs before translating to CUDA: the graph-level "
      "passes (kiln-simplify), kiln-form-fusions, planning "
      "(kiln-plan-memory, kiln-verify-plan) and kiln-schedule. Its output is "
      "kiln-compile --emit=scheduled.",
      [](OpPassManager &pm, const CompilePipelineOptions &options) {
        buildCompilePipeline(pm, options.get());
      });
  PassPipelineRegistration<>(
      "kiln-graph-pipeline",
      "The graph-level part of kiln-compile-pipeline (kiln-simplify, "
      "kiln-recognize, kiln-kv-cache): its "
      "output is kiln-compile --emit=graph.",
      [](OpPassManager &pm) { buildGraphPipeline(pm); });
  PassPipelineRegistration<CompilePipelineOptions>(
      "kiln-fused-pipeline",
      "The graph-level passes (kiln-graph-pipeline), then kiln-form-fusions "
      "on every function: its output is kiln-compile --emit=fused.",
      [](OpPassManager &pm, const CompilePipelineOptions &options) {
        buildFusedPipeline(pm, options.get());
      });
}

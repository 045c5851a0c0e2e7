//===- FormFusions.cpp - kiln-form-fusions pass ---------------------------===//
//
// Lowers graph-level kiln IR to the fused level with the trivial policy: one
// kernel per op. Matmuls and dense layers that codegen hands to cuBLASLt
// become kiln.gemm library calls; every other compute op is wrapped in a
// kiln.fusion of its own. Weights and constants stay outside. The real fusion
// pass will replace the wrapping pattern with one that groups ops.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_KILNFORMFUSIONS
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

/// True for ops that are not themselves kernels at the fused level: weights
/// and constants (bytes in weights.bin), views of contiguous data (aliases
/// the planner places on their operand's bytes), ops already at the fused
/// level, and anything that is not a kiln op.
static bool staysOutside(Operation *op) {
  return !isa<kiln::KilnDialect>(op->getDialect()) || kiln::viewSource(op) ||
         isa<kiln::WeightOp, kiln::ConstantOp, kiln::FusionOp, kiln::YieldOp,
             kiln::GemmOp>(op) ||
         op->getParentOfType<kiln::FusionOp>();
}

FailureOr<Operation *> kiln::wrapInFusion(RewriterBase &rewriter,
                                          Operation *op) {
  if (staysOutside(op) || op->getNumRegions() != 0)
    return failure();
  llvm::SetVector<Value> inputs(op->operand_begin(), op->operand_end());
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  auto fusion = FusionOp::create(rewriter, op->getLoc(), op->getResultTypes(),
                                 inputs.getArrayRef());
  SmallVector<Type> argTypes;
  SmallVector<Location> argLocs;
  for (Value v : inputs) {
    argTypes.push_back(v.getType());
    argLocs.push_back(v.getLoc());
  }
  Block *body = rewriter.createBlock(&fusion.getBody(), {}, argTypes, argLocs);
  IRMapping map;
  map.map(inputs.getArrayRef(), body->getArguments());
  Operation *inner = rewriter.clone(*op, map);
  YieldOp::create(rewriter, op->getLoc(), inner->getResults());
  rewriter.replaceOp(op, fusion.getResults());
  return fusion.getOperation();
}

/// The matmuls codegen sends to cuBLASLt (codegen/EmitLinalg.cpp): f32, and
/// each operand's batch dims the result's or all 1.
static bool isLibraryMatmul(kiln::MatmulOp op) {
  RankedTensorType result = op.getResult().getType();
  if (!result.getElementType().isF32())
    return false;
  ArrayRef<int64_t> batch = result.getShape().drop_back(2);
  return kiln::isStridedBatch(op.getLhs().getType().getShape().drop_back(2),
                              batch) &&
         kiln::isStridedBatch(op.getRhs().getType().getShape().drop_back(2),
                              batch);
}

/// The dense layers that become one cuBLASLt call: f32, input rank >= 2 (a
/// 1-D input has no row dim for kiln.gemm).
static bool isLibraryLinear(kiln::LinearOp op) {
  return op.getResult().getType().getElementType().isF32() &&
         op.getInput().getType().getRank() >= 2;
}

FailureOr<Operation *> kiln::convertToGemm(RewriterBase &rewriter,
                                           Operation *op) {
  if (op->getParentOfType<FusionOp>())
    return failure();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    if (!isLibraryMatmul(mm))
      return failure();
    auto gemm = GemmOp::create(rewriter, mm.getLoc(), mm.getResult().getType(),
                               mm.getLhs(), mm.getRhs(), /*bias=*/Value(),
                               /*residual=*/Value(), /*out=*/Value(),
                               /*transpose_b=*/false,
                               GemmActivation::None, /*scale=*/nullptr);
    rewriter.replaceOp(op, gemm.getResult());
    return gemm.getOperation();
  }
  if (auto lin = dyn_cast<LinearOp>(op)) {
    if (!isLibraryLinear(lin))
      return failure();
    auto gemm = GemmOp::create(
        rewriter, lin.getLoc(), lin.getResult().getType(), lin.getInput(),
        lin.getWeight(), lin.getBias(), /*residual=*/Value(), /*out=*/Value(),
        lin.getTransposeWeight(), GemmActivation::None, /*scale=*/nullptr);
    rewriter.replaceOp(op, gemm.getResult());
    return gemm.getOperation();
  }
  return failure();
}

namespace {

/// matmul / linear that cuBLASLt runs -> kiln.gemm.
struct GemmPattern : RewritePattern {
  GemmPattern(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<kiln::MatmulOp, kiln::LinearOp>(op))
      return rewriter.notifyMatchFailure(op, "not a matmul or linear");
    if (failed(kiln::convertToGemm(rewriter, op)))
      return rewriter.notifyMatchFailure(op, "not a cuBLASLt-shaped product");
    return success();
  }
};

/// Any other graph-level compute op -> a kiln.fusion of its own.
struct OneOpFusionPattern : RewritePattern {
  OneOpFusionPattern(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (failed(kiln::wrapInFusion(rewriter, op)))
      return rewriter.notifyMatchFailure(op, "not a graph-level compute op");
    return success();
  }
};

struct KilnFormFusionsPass
    : kiln::impl::KilnFormFusionsBase<KilnFormFusionsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kiln::populateFormFusionsPatterns(patterns, libraryCalls);
    // A structural lowering: nothing is folded or simplified (dead pure ops
    // are still erased), and the ops the patterns create are not revisited.
    GreedyRewriteConfig config;
    config.enableFolding(false)
        .enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled)
        .setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace

void kiln::populateFormFusionsPatterns(RewritePatternSet &patterns,
                                       bool libraryCalls) {
  if (libraryCalls)
    patterns.add<GemmPattern>(patterns.getContext());
  patterns.add<OneOpFusionPattern>(patterns.getContext());
}

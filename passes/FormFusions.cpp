//===- FormFusions.cpp - kiln-form-fusions pass ---------------------------===//
//
// Lowers graph-level kiln IR to the fused level. Matmuls and dense layers
// that codegen hands to cuBLASLt become kiln.gemm library calls (a greedy
// pattern), and a residual add of such a gemm's result becomes the gemm's
// residual epilogue (cuBLASLt's C with beta = 1, a second greedy pattern
// run before any grouping); then the remaining compute ops are grouped into
// kiln.fusion ops,
// one kernel each. The grouping is a producer-into-consumer rule over
// elementwise ops (fusible, below): a chain or tree of elementwise ops of one
// shape, whose intermediates have no user outside the group, becomes one
// fusion; every other op is a fusion of its own. Weights, constants and
// views of contiguous data stay outside.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseSet.h"
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

FailureOr<Operation *> kiln::foldResidualIntoGemm(RewriterBase &rewriter,
                                                  Operation *op) {
  auto add = dyn_cast<AddOp>(op);
  if (!add || add->getParentOfType<FusionOp>())
    return failure();
  Type type = add.getResult().getType();
  if (!cast<ShapedType>(type).getElementType().isF32())
    return failure();
  // Either operand order: the gemm's result, or a reshape of it (a view:
  // a 2-D dense layer's rows back in [B, T, C]), plus a residual of the
  // add's type.
  for (auto [product, residual] : {std::pair(add.getLhs(), add.getRhs()),
                                   std::pair(add.getRhs(), add.getLhs())}) {
    if (product.getType() != type || residual.getType() != type ||
        !product.hasOneUse())
      continue;
    auto reshape = product.getDefiningOp<ReshapeOp>();
    Value gemmResult = reshape ? reshape.getInput() : product;
    auto gemm = gemmResult.getDefiningOp<GemmOp>();
    if (!gemm || gemm.hasBufferSemantics() || !gemmResult.hasOneUse() ||
        gemm.getResidual() || gemm.getActivation() != GemmActivation::None ||
        gemm.getScale())
      continue;
    // The new gemm takes the add's place, where the residual is defined.
    // Through a reshape, the residual is reshaped to the gemm's type (both
    // reshapes are views: row-major order is unchanged).
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(add);
    Type gemmType = gemmResult.getType();
    if (reshape)
      residual = ReshapeOp::create(rewriter, add.getLoc(), gemmType, residual);
    auto fused = GemmOp::create(
        rewriter, gemm.getLoc(), gemmType, gemm.getA(), gemm.getB(),
        gemm.getBias(), residual, /*out=*/Value(), gemm.getTransposeB(),
        GemmActivation::None, /*scale=*/nullptr);
    Value sum = fused.getResult();
    if (reshape)
      sum = ReshapeOp::create(rewriter, reshape.getLoc(), type, sum);
    rewriter.replaceOp(add, sum);
    if (reshape)
      rewriter.eraseOp(reshape);
    rewriter.eraseOp(gemm);
    return fused.getOperation();
  }
  return failure();
}

/// True for the ops a fusion may hold more than one of: one output element
/// is a function of the input elements at the same (broadcast) index.
static bool isFusibleElementwise(Operation *op) {
  return isa<kiln::ElementwiseOpInterface, kiln::CastOp, kiln::WhereOp>(op) &&
         op->getNumResults() == 1 && !staysOutside(op);
}

static ArrayRef<int64_t> resultShape(Operation *op) {
  return cast<ShapedType>(op->getResult(0).getType()).getShape();
}

/// The group `root` (an elementwise op) heads: `root` and every elementwise
/// producer that is fused into it, transitively, in block order. A producer
/// joins when its result has the root's shape (no broadcast between
/// intermediates: every op of the group computes element i of one index
/// space) and all of its users are already in the group (it is computed
/// once, and only the root's result leaves the fusion). At most `maxOps`
/// ops (0: no limit); ops in `taken` belong to another group.
static SmallVector<Operation *>
growGroup(Operation *root, unsigned maxOps,
          const llvm::DenseSet<Operation *> &taken) {
  llvm::SetVector<Operation *> group;
  group.insert(root);
  if (!isFusibleElementwise(root))
    return group.takeVector();
  ArrayRef<int64_t> shape = resultShape(root);
  // A producer's users may join after it is first considered (a diamond),
  // so repeat until nothing joins.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < group.size(); ++i) {
      for (Value operand : group[i]->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (!producer || group.contains(producer) || taken.contains(producer) ||
            producer->getBlock() != root->getBlock() ||
            !isFusibleElementwise(producer) || resultShape(producer) != shape)
          continue;
        if (!llvm::all_of(producer->getUsers(), [&](Operation *user) {
              return group.contains(user);
            }))
          continue;
        if (maxOps && group.size() >= maxOps)
          break;
        group.insert(producer);
        changed = true;
      }
    }
  }
  SmallVector<Operation *> ops = group.takeVector();
  llvm::sort(ops, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return ops;
}

/// Replaces `ops` (in block order, the last one the root) by one kiln.fusion
/// holding copies of them, whose operands are the group's distinct external
/// operands and whose results are the root's. Fails, changing nothing, if an
/// op other than the root has a user outside the group or cannot be in a
/// fusion.
static FailureOr<Operation *> fuseGroup(RewriterBase &rewriter,
                                        ArrayRef<Operation *> ops) {
  using namespace kiln;
  if (ops.empty())
    return failure();
  Operation *root = ops.back();
  llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
  for (Operation *op : ops) {
    if (staysOutside(op) || op->getNumRegions() != 0 ||
        op->getBlock() != root->getBlock())
      return failure();
    if (op != root && llvm::any_of(op->getUsers(), [&](Operation *user) {
          return !inGroup.contains(user);
        }))
      return failure();
  }
  // The group's external operands, in order of first use.
  llvm::SetVector<Value> inputs;
  for (Operation *op : ops)
    for (Value v : op->getOperands())
      if (!inGroup.contains(v.getDefiningOp()))
        inputs.insert(v);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(root);
  auto fusion = FusionOp::create(rewriter, root->getLoc(),
                                 root->getResultTypes(), inputs.getArrayRef());
  SmallVector<Type> argTypes;
  SmallVector<Location> argLocs;
  for (Value v : inputs) {
    argTypes.push_back(v.getType());
    argLocs.push_back(v.getLoc());
  }
  Block *body = rewriter.createBlock(&fusion.getBody(), {}, argTypes, argLocs);
  IRMapping map;
  map.map(inputs.getArrayRef(), body->getArguments());
  Operation *inner = nullptr;
  for (Operation *op : ops)
    inner = rewriter.clone(*op, map);
  YieldOp::create(rewriter, root->getLoc(), inner->getResults());
  rewriter.replaceOp(root, fusion.getResults());
  for (Operation *op : llvm::reverse(ops.drop_back()))
    rewriter.eraseOp(op);
  return fusion.getOperation();
}

/// Forms the fusions of `block` (a function body): every compute op outside
/// a fusion ends up in exactly one, grouped by growGroup.
static LogicalResult formFusions(RewriterBase &rewriter, Block &block,
                                 unsigned maxOps) {
  // Groups first (consumers before producers, so a producer is offered to
  // its last consumer's group), then the rewrites.
  llvm::DenseSet<Operation *> taken;
  SmallVector<SmallVector<Operation *>> groups;
  for (Operation &op : llvm::reverse(block)) {
    if (taken.contains(&op) || staysOutside(&op) || op.getNumRegions() != 0 ||
        op.hasTrait<OpTrait::IsTerminator>())
      continue;
    SmallVector<Operation *> group = growGroup(&op, maxOps, taken);
    taken.insert(group.begin(), group.end());
    groups.push_back(std::move(group));
  }
  for (ArrayRef<Operation *> group : groups)
    if (failed(fuseGroup(rewriter, group)))
      return group.back()->emitOpError("could not be put in a kiln.fusion");
  return success();
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

/// add(gemm, r) -> gemm with residual r (cuBLASLt's C, beta = 1).
struct ResidualPattern : OpRewritePattern<kiln::AddOp> {
  ResidualPattern(MLIRContext *ctx)
      : OpRewritePattern<kiln::AddOp>(ctx, /*benefit=*/3) {}
  LogicalResult matchAndRewrite(kiln::AddOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(kiln::foldResidualIntoGemm(rewriter, op)))
      return rewriter.notifyMatchFailure(
          op, "not a same-typed f32 residual add of a plain gemm's only use");
    return success();
  }
};

struct KilnFormFusionsPass
    : kiln::impl::KilnFormFusionsBase<KilnFormFusionsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (libraryCalls)
      patterns.add<GemmPattern>(&getContext());
    // A structural lowering: nothing is folded or simplified (dead pure ops
    // are still erased), and the ops the patterns create are not revisited.
    GreedyRewriteConfig config;
    config.enableFolding(false)
        .enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled)
        .setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    // Then the residual adds, once every gemm exists and before grouping
    // (which would put the add in a fusion).
    if (libraryCalls) {
      RewritePatternSet residuals(&getContext());
      residuals.add<ResidualPattern>(&getContext());
      if (failed(applyPatternsGreedily(getOperation(), std::move(residuals),
                                       config)))
        return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (Block &block : getOperation().getBody())
      if (failed(formFusions(rewriter, block, maxOps)))
        return signalPassFailure();
  }
};

} // namespace

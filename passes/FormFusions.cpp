//===- FormFusions.cpp - kiln-form-fusions pass ---------------------------===//
//
// Lowers graph-level kiln IR to the fused level. First the exact rewrites of
// passes/FusionPrep.cpp line small index-space ops (views, slices, concats,
// gathers of 0..n-1, K = 1 products) up for the grouping. Matmuls and dense layers
// that codegen hands to cuBLASLt become kiln.gemm library calls (a greedy
// pattern), and a residual add, a GELU (tanh), a ReLU or a scale of such a
// gemm's result becomes the gemm's epilogue (cuBLASLt's C with beta = 1,
// its GELU / ReLU epilogues, its alpha; a second greedy pattern run before
// any grouping); then the remaining compute ops are grouped into
// kiln.fusion ops,
// one kernel each. The grouping is a producer-into-consumer rule over
// elementwise ops (fusible, below): a chain or tree of elementwise ops of one
// shape, whose intermediates have no user outside the group, becomes one
// fusion; a small producer may broadcast into the group, and may be copied
// into several groups when all its readers are elementwise (growGroup);
// every other op is a fusion of its own. Weights, constants and
// views of contiguous data stay outside.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <optional>

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

/// The element types of the products that become kiln.gemm: f32, and bf16
/// and f16 (a model exported in a 16-bit type; --precision bf16|f16 lowers
/// f32 gemms to the same cuBLASLt call). The epilogue folds below stay
/// f32-only: on a 16-bit type they would round the product and the add
/// once where the graph rounds twice.
static bool isLibraryType(Type t) {
  return t.isF32() || t.isBF16() || t.isF16();
}

/// The matmuls codegen sends to cuBLASLt (codegen/EmitLinalg.cpp): f32,
/// bf16 or f16, and each operand's batch dims the result's or all 1.
static bool isLibraryMatmul(kiln::MatmulOp op) {
  RankedTensorType result = op.getResult().getType();
  if (!isLibraryType(result.getElementType()))
    return false;
  ArrayRef<int64_t> batch = result.getShape().drop_back(2);
  return kiln::isStridedBatch(op.getLhs().getType().getShape().drop_back(2),
                              batch) &&
         kiln::isStridedBatch(op.getRhs().getType().getShape().drop_back(2),
                              batch);
}

/// The dense layers that become one cuBLASLt call: f32, bf16 or f16, input rank
/// >= 2 (a 1-D input has no row dim for kiln.gemm).
static bool isLibraryLinear(kiln::LinearOp op) {
  return isLibraryType(op.getResult().getType().getElementType()) &&
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

/// The kiln.gemm (tensor form) whose result `v` is, directly or through a
/// kiln.reshape (a view: a 2-D dense layer's rows back in [B, T, C]), when
/// `v` and the gemm's result have one use each; null otherwise.
kiln::GemmOp singleUseGemm(Value v, kiln::ReshapeOp &reshape) {
  if (!v.hasOneUse())
    return nullptr;
  reshape = v.getDefiningOp<kiln::ReshapeOp>();
  Value result = reshape ? reshape.getInput() : v;
  auto gemm = result.getDefiningOp<kiln::GemmOp>();
  if (!gemm || gemm.hasBufferSemantics() || !result.hasOneUse())
    return nullptr;
  return gemm;
}

/// The value of a float constant whose elements are all one value (a
/// splat of any shape), if `v` is one.
std::optional<double> splatFloat(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat() ||
      !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

/// What `op` adds to a gemm's epilogue, read off its operands.
struct Epilogue {
  Value product;  ///< the operand that is (a reshape of) the gemm's result
  Value residual; ///< an add's other operand
  std::optional<kiln::GemmActivation> activation;
  std::optional<float> scale;
};

/// The epilogues `op` could be, one per operand that may be the product:
/// an add of a same-typed residual, GELU (tanh), ReLU as max(x, 0), x * c
/// and x / c with c a splat constant (a power of two for the division, so
/// 1 / c is exact).
SmallVector<Epilogue> epiloguesOf(Operation *op) {
  SmallVector<Epilogue> out;
  if (op->getNumResults() != 1)
    return out;
  Type type = op->getResult(0).getType();
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.getElementType().isF32())
    return out;
  auto sameType = [&](Value v) { return v.getType() == type; };
  if (auto gelu = dyn_cast<kiln::GeluOp>(op)) {
    if (gelu.getApproximate() == kiln::GeluApproximation::Tanh)
      out.push_back({gelu.getInput(), {}, kiln::GemmActivation::GeluTanh, {}});
    return out;
  }
  if (!isa<kiln::AddOp, kiln::MaxOp, kiln::MulOp, kiln::DivOp>(op))
    return out;
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  for (auto [product, other] : {std::pair(lhs, rhs), std::pair(rhs, lhs)}) {
    if (!sameType(product))
      continue;
    if (isa<kiln::AddOp>(op)) {
      if (sameType(other))
        out.push_back({product, other, {}, {}});
      continue;
    }
    std::optional<double> c = splatFloat(other);
    if (!c || !std::isfinite(*c))
      continue;
    if (isa<kiln::MaxOp>(op) && *c == 0.0)
      out.push_back({product, {}, kiln::GemmActivation::Relu, {}});
    if (isa<kiln::MulOp>(op) && float(*c) == *c)
      out.push_back({product, {}, {}, float(*c)});
    int exponent;
    if (isa<kiln::DivOp>(op) && product == lhs && *c != 0.0 &&
        std::frexp(*c, &exponent) == (*c > 0 ? 0.5 : -0.5))
      out.push_back({product, {}, {}, float(1.0 / *c)});
  }
  return out;
}

/// Whether `gemm`'s epilogue can take `e` after what it already has, its
/// value unchanged: `act(scale * (a x b) + bias + residual)` applies the
/// scale to the product alone and the activation last.
bool accepts(kiln::GemmOp gemm, const Epilogue &e) {
  if (gemm.getActivation() != kiln::GemmActivation::None)
    return false;
  if (e.residual)
    return !gemm.getResidual();
  if (e.scale)
    return !gemm.getBias() && !gemm.getResidual() && !gemm.getScale();
  return true;
}

} // namespace

FailureOr<Operation *> kiln::foldIntoGemmEpilogue(RewriterBase &rewriter,
                                                  Operation *op) {
  if (op->getParentOfType<FusionOp>())
    return failure();
  for (const Epilogue &e : epiloguesOf(op)) {
    ReshapeOp reshape;
    GemmOp gemm = singleUseGemm(e.product, reshape);
    if (!gemm || !accepts(gemm, e))
      continue;
    // The new gemm takes the op's place, where a residual is defined.
    // Through a reshape, the residual is reshaped to the gemm's type (both
    // reshapes are views: row-major order is unchanged).
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    Type gemmType = gemm.getResult().getType();
    Value residual = gemm.getResidual();
    if (e.residual)
      residual = reshape ? ReshapeOp::create(rewriter, op->getLoc(), gemmType,
                                             e.residual)
                               .getResult()
                         : e.residual;
    FloatAttr scale = gemm.getScaleAttr();
    if (e.scale)
      scale = rewriter.getF32FloatAttr(*e.scale);
    auto fused = GemmOp::create(
        rewriter, gemm.getLoc(), gemmType, gemm.getA(), gemm.getB(),
        gemm.getBias(), residual, /*out=*/Value(), gemm.getTransposeB(),
        e.activation.value_or(gemm.getActivation()), scale);
    Value result = fused.getResult();
    if (reshape)
      result = ReshapeOp::create(rewriter, reshape.getLoc(),
                                 op->getResult(0).getType(), result);
    rewriter.replaceOp(op, result);
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
  return kiln::isScalarMap(op) &&
         op->getNumResults() == 1 && !staysOutside(op);
}

/// A gather an elementwise group may take as a leaf: element i of its
/// result is one element of its data, so the fused loop reads it there
/// (codegen's emitScalarOps). Its data and indices stay the fusion's
/// operands: the group does not grow through it.
static bool isGatherLeaf(Operation *op) {
  return isa<kiln::GatherOp>(op) && !staysOutside(op);
}

static ArrayRef<int64_t> resultShape(Operation *op) {
  return cast<ShapedType>(op->getResult(0).getType()).getShape();
}

static int64_t numElements(Value v) {
  return cast<ShapedType>(v.getType()).getNumElements();
}

/// An elementwise op a group may compute again instead of taking it: its
/// result and every operand have at most kRecomputeMaxElements elements, so
/// a copy in each consumer's kernel re-reads no large tensor (position
/// casts, inv_freq x position, a mask's compare: small vectors that several
/// kernels, or several elements of one, need).
static constexpr int64_t kRecomputeMaxElements = 4096;
static bool isRecomputable(Operation *op) {
  return isFusibleElementwise(op) &&
         numElements(op->getResult(0)) <= kRecomputeMaxElements &&
         llvm::all_of(op->getOperands(), [](Value v) {
           return numElements(v) <= kRecomputeMaxElements;
         });
}

/// A group: its ops in block order (the last one the root), and those of
/// them it computes again rather than takes (their originals stay, for
/// users outside the group).
struct Group {
  SmallVector<Operation *> ops;
  llvm::SmallPtrSet<Operation *, 4> copies;
};

/// The group `root` (an elementwise op) heads: `root` and every elementwise
/// producer that is fused into it, transitively. A producer joins when
/// - its result has the root's shape (every op of the group computes
///   element i of one index space), or is a recomputable (small) one that
///   broadcasts to it (computed per element from broadcast operands), and
/// - all of its users are taken members of the group (it is computed once,
///   and only the root's result leaves the fusion), or else it is
///   recomputable and every user is an elementwise op (which may take it
///   too): the group computes a copy, the original stays for its other
///   users and goes when the copies leave it none.
/// A gather of the head's shape whose users are all taken members joins as
/// a leaf (its operands stay outside). Producers join by the first rule to
/// a fixed point before any is copied, so a diamond inside the group takes
/// rather than copies. At most `maxOps`
/// ops (0: no limit); ops in `taken` belong to another group.
static Group growGroup(Operation *root, unsigned maxOps,
                       const llvm::DenseSet<Operation *> &taken) {
  llvm::SetVector<Operation *> group;
  Group result;
  group.insert(root);
  if (!isFusibleElementwise(root)) {
    result.ops = group.takeVector();
    return result;
  }
  ArrayRef<int64_t> shape = resultShape(root);
  for (bool allowCopies : {false, true}) {
    // A producer's users may join after it is first considered (a diamond),
    // so repeat until nothing joins.
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < group.size(); ++i) {
        if (isGatherLeaf(group[i]))
          continue;
        for (Value operand : group[i]->getOperands()) {
          Operation *producer = operand.getDefiningOp();
          if (!producer || group.contains(producer) ||
              taken.contains(producer) ||
              producer->getBlock() != root->getBlock())
            continue;
          // A gather of the group's shape joins as a leaf when the group
          // takes it whole (the embedding lookups a GPT-2 step adds).
          if (isGatherLeaf(producer)) {
            if (resultShape(producer) == shape &&
                llvm::all_of(producer->getUsers(), [&](Operation *user) {
                  return group.contains(user) &&
                         !result.copies.contains(user);
                }) &&
                !(maxOps && group.size() >= maxOps)) {
              group.insert(producer);
              changed = true;
            }
            continue;
          }
          if (!isFusibleElementwise(producer))
            continue;
          bool recomputable = isRecomputable(producer);
          if (resultShape(producer) != shape &&
              !(recomputable &&
                kiln::isBroadcastableTo(resultShape(producer), shape)))
            continue;
          bool take = llvm::all_of(producer->getUsers(), [&](Operation *user) {
            return group.contains(user) && !result.copies.contains(user);
          });
          // A copy only pays where every reader is an elementwise op that
          // can take it too, so that the original's kernel may go.
          bool copy = allowCopies && recomputable &&
                      llvm::all_of(producer->getUsers(), isFusibleElementwise);
          if (!take && !copy)
            continue;
          if (maxOps && group.size() >= maxOps)
            break;
          group.insert(producer);
          if (!take)
            result.copies.insert(producer);
          changed = true;
        }
      }
    }
  }
  result.ops = group.takeVector();
  llvm::sort(result.ops, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return result;
}

/// Replaces the group's ops (in block order, the last one the root) by one
/// kiln.fusion holding copies of them, whose operands are the group's
/// distinct external operands and whose results are the root's; the ops it
/// took are erased, the ones it copies stay for their other users. Fails,
/// changing nothing, if a taken op other than the root has a user outside
/// the group or an op cannot be in a fusion. A group whose root nothing
/// reads any more (an elementwise op that other groups copied) is erased.
static FailureOr<Operation *> fuseGroup(RewriterBase &rewriter,
                                        const Group &group) {
  using namespace kiln;
  ArrayRef<Operation *> ops = group.ops;
  if (ops.empty())
    return failure();
  Operation *root = ops.back();
  if (root->use_empty() && isFusibleElementwise(root)) {
    for (Operation *op : llvm::reverse(ops))
      if (!group.copies.contains(op) && op->use_empty())
        rewriter.eraseOp(op);
    return root;
  }
  llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
  for (Operation *op : ops) {
    if (staysOutside(op) || op->getNumRegions() != 0 ||
        op->getBlock() != root->getBlock())
      return failure();
    if (op != root && !group.copies.contains(op) &&
        llvm::any_of(op->getUsers(), [&](Operation *user) {
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
    if (!group.copies.contains(op))
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
  SmallVector<Group> groups;
  for (Operation &op : llvm::reverse(block)) {
    if (taken.contains(&op) || staysOutside(&op) || op.getNumRegions() != 0 ||
        op.hasTrait<OpTrait::IsTerminator>())
      continue;
    Group group = growGroup(&op, maxOps, taken);
    for (Operation *member : group.ops)
      if (!group.copies.contains(member))
        taken.insert(member);
    groups.push_back(std::move(group));
  }
  // Consumers first: a copied op's own group comes after every group that
  // copies it, and is dropped if they leave it unread.
  for (const Group &group : groups)
    if (failed(fuseGroup(rewriter, group)))
      return group.ops.back()->emitOpError("could not be put in a kiln.fusion");
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

/// add(gemm, r), gelu_tanh(gemm), max(gemm, 0), gemm * c, gemm / 2^k ->
/// one gemm with that epilogue (cuBLASLt's C with beta = 1, its GELU or
/// ReLU epilogue, its alpha).
struct EpiloguePattern : RewritePattern {
  EpiloguePattern(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/3, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (failed(kiln::foldIntoGemmEpilogue(rewriter, op)))
      return rewriter.notifyMatchFailure(
          op, "not an epilogue op of a gemm's only use that the gemm's "
              "epilogue can take");
    return success();
  }
};

struct KilnFormFusionsPass
    : kiln::impl::KilnFormFusionsBase<KilnFormFusionsPass> {
  using Base::Base;
  void runOnOperation() override {
    // First the exact rewrites that line small index-space ops up for the
    // grouping (passes/FusionPrep.cpp), with the ops' folders.
    {
      RewritePatternSet prep(&getContext());
      kiln::populateFusionPrepPatterns(prep);
      // Each rewrite is exact on its own: stopping at the iteration limit
      // leaves a correct, if less grouped, function.
      // Constants stay where they are (no hoisting or merging).
      GreedyRewriteConfig prepConfig;
      prepConfig.enableConstantCSE(false);
      (void)applyPatternsGreedily(getOperation(), std::move(prep), prepConfig);
    }
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
    // Then the epilogues (residual adds, activations, scales), once every
    // gemm exists and before grouping (which would put them in fusions).
    // Top-down, an op's epilogue is folded before its users are visited, so
    // a chain (scale, then residual, then activation) folds whole.
    if (libraryCalls) {
      RewritePatternSet epilogues(&getContext());
      epilogues.add<EpiloguePattern>(&getContext());
      GreedyRewriteConfig topDown = config;
      topDown.setUseTopDownTraversal(true);
      if (failed(applyPatternsGreedily(getOperation(), std::move(epilogues),
                                       topDown)))
        return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (Block &block : getOperation().getBody())
      if (failed(formFusions(rewriter, block, maxOps)))
        return signalPassFailure();
  }
};

} // namespace

//===- MergeGemms.cpp - kiln-merge-gemms pass -----------------------------===//
//
// Sibling cuBLASLt gemms merged into one on weights stored back to back.
// kiln-gemv merges the products of one input (q/k/v, gate/up) into one
// GEMV kernel at up to 8 rows; the steps of more rows (prefill, batch 32,
// f32 steps of two or more rows) keep one cuBLASLt gemm per product. This
// pass, on the fused level after kiln-gemv (whose transposeGemmWeights
// leaves every such gemm reading a [N, K] weight with transpose_b), makes
// such siblings one gemm of the weights concatenated along N:
//
//   %w = kiln.concat %wg, %wu {axis = 0, kiln.weight_concat}  // [Ng+Nu, K]
//   %y = kiln.gemm %x, %w transpose_b             // [..., M, Ng + Nu]
//
// and each consumer reads its columns through a kiln.slice of %y inside
// its fusion (a leaf of the fused kernel: codegen/EmitFused.cpp). The
// concatenation copies no bytes: a kiln.concat of kiln.weights on axis 0 is
// weight-like (kiln::isWeightConcat) and kiln-schedule places its parts
// back to back in the weights layout, in every step function of the module
// (the GEMV of a one-row step reads the same parts separately), so %w is a
// view of the weights region spanning them.
//
// Matched structurally, all in one block: two or more kiln.gemm of tensors
// reading the same `a`, with transpose_b, no bias, residual, scale or
// activation (epilogues stay per product), B a kiln.weight of rank 2 that
// only the gemm reads, whose byte size is a multiple of the layout's
// alignment (so the parts abut), one element type and one K; every use of
// each result is an input of a kiln.fusion whose body is scalar maps only,
// all of the product's shape (a consumer that cannot read through a slice
// leaf would need a copy kernel, a launch more than the gemm saved).
// Groups are the module's: a weight in two different groups (other
// partners or order in another step function) is merged in neither, so the
// layout can place every group.
// Products go in block order; each output element is the same dot product
// as before (cuBLASLt may sum it in another order).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMERGEGEMMS
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Whether every use of `v` is an input of a kiln.fusion whose body is
/// scalar maps only, each of v's shape: the fused kernel's loop then has
/// v's shape, which a slice leaf must have (codegen/EmitFused.cpp reads it
/// at the loop's coordinates, with no broadcast).
bool readByElementwiseFusions(Value v) {
  if (v.use_empty())
    return false;
  ArrayRef<int64_t> shape = cast<ShapedType>(v.getType()).getShape();
  auto hasShape = [&](Value r) {
    auto t = dyn_cast<ShapedType>(r.getType());
    return t && t.hasRank() && t.getShape() == shape;
  };
  for (Operation *user : v.getUsers()) {
    auto fusion = dyn_cast<FusionOp>(user);
    if (!fusion)
      return false;
    for (Operation &op : fusion.getBody().front().without_terminator())
      if (!isScalarMap(&op) || !llvm::all_of(op.getResults(), hasShape))
        return false;
  }
  return true;
}

/// Whether `body`'s fusion reads block argument `arg` only as the input of
/// a kiln.rotary or the key or value of a kiln.kv_append, the body's one
/// op: a kernel that can read it in place from a merged product's columns
/// (kiln::headSource).
bool readAsHeads(BlockArgument arg) {
  Block *body = arg.getOwner();
  if (arg.use_empty() ||
      llvm::range_size(body->without_terminator()) != 1)
    return false;
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (auto rotary = dyn_cast<RotaryOp>(user)) {
      if (use.get() != rotary.getInput() || rotary.getCos() == arg ||
          rotary.getSin() == arg)
        return false;
    } else if (auto append = dyn_cast<KvAppendOp>(user)) {
      if (append.getPositions() == arg)
        return false;
    } else {
      return false;
    }
  }
  return true;
}

/// The exporters' split of product `v` [B, S, N] into heads, when every
/// use of `v` is one: the reshape [B, S, H, D] (H x D = N) whose one use
/// is a transpose (0, 2, 1, 3), every use of which is a fusion that reads
/// it as heads (readAsHeads). Returns the transposes (one per reshape).
std::optional<SmallVector<TransposeOp>> headSplits(Value v) {
  ArrayRef<int64_t> shape = cast<ShapedType>(v.getType()).getShape();
  if (v.use_empty() || shape.size() != 3)
    return std::nullopt;
  SmallVector<TransposeOp> splits;
  for (Operation *user : v.getUsers()) {
    auto reshape = dyn_cast<ReshapeOp>(user);
    if (!reshape || !reshape->hasOneUse())
      return std::nullopt;
    ArrayRef<int64_t> heads =
        cast<ShapedType>(reshape.getType()).getShape();
    if (heads.size() != 4 || heads[0] != shape[0] || heads[1] != shape[1] ||
        heads[2] * heads[3] != shape[2])
      return std::nullopt;
    auto transpose = dyn_cast<TransposeOp>(*reshape->getUsers().begin());
    if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3} ||
        transpose->use_empty())
      return std::nullopt;
    for (OpOperand &use : transpose->getUses()) {
      auto fusion = dyn_cast<FusionOp>(use.getOwner());
      if (!fusion ||
          !readAsHeads(fusion.getBody().front().getArgument(
              use.getOperandNumber())))
        return std::nullopt;
    }
    splits.push_back(transpose);
  }
  return splits;
}

/// The gemm's weight when the gemm may join a group, else null.
WeightOp candidateWeight(GemmOp gemm, bool headSplit) {
  if (gemm.hasBufferSemantics() || !gemm.getTransposeB() || gemm.getBias() ||
      gemm.getResidual() || gemm.getScale() ||
      gemm.getActivation() != GemmActivation::None)
    return nullptr;
  auto w = gemm.getB().getDefiningOp<WeightOp>();
  if (!w || w.getType().getRank() != 2 || !w->hasOneUse() ||
      w->getBlock() != gemm->getBlock())
    return nullptr;
  std::optional<int64_t> bytes = shapedByteSize(w.getType());
  if (!bytes || *bytes % kArenaAlignment != 0)
    return nullptr;
  if (getElementTypeOrSelf(gemm.getA().getType()) !=
      w.getType().getElementType())
    return nullptr;
  if (!readByElementwiseFusions(gemm.getResult()) &&
      !(headSplit && headSplits(gemm.getResult())))
    return nullptr;
  return w;
}

/// The candidate groups of one function: gemms of one `a`, element type
/// and K, in block order, two or more.
SmallVector<SmallVector<GemmOp>> groupsOf(func::FuncOp func, bool headSplit) {
  llvm::MapVector<std::tuple<Value, Type, int64_t>, SmallVector<GemmOp>> by;
  for (Operation &op : func.getBody().front())
    if (auto gemm = dyn_cast<GemmOp>(op))
      if (WeightOp w = candidateWeight(gemm, headSplit))
        by[{gemm.getA(), w.getType().getElementType(),
            w.getType().getDimSize(1)}]
            .push_back(gemm);
  SmallVector<SmallVector<GemmOp>> groups;
  for (auto &[key, gemms] : by)
    if (gemms.size() >= 2)
      groups.push_back(gemms);
  return groups;
}

/// The weight keys of a group, in order.
Attribute groupKey(ArrayRef<GemmOp> gemms) {
  SmallVector<Attribute> keys;
  for (GemmOp g : gemms)
    keys.push_back(weightKey(g.getB().getDefiningOp<WeightOp>()));
  return Builder(gemms.front()->getContext()).getArrayAttr(keys);
}

/// Moves the head split `transpose` (of a reshape of product r, whose
/// type is `type`) into each fusion that reads it: the fusion reads
/// `merged` instead, and its body slices r's columns (`starts`, `steps`)
/// out of it, then reshapes and transposes them as before. The split
/// outside and r's uses go (the caller erases r's gemm).
void splitInConsumers(TransposeOp transpose, Value merged,
                      RankedTensorType type, ArrayRef<int64_t> starts,
                      ArrayRef<int64_t> steps) {
  auto reshape = transpose.getInput().getDefiningOp<ReshapeOp>();
  Location loc = transpose.getLoc();
  SmallVector<FusionOp> users;
  for (Operation *user : transpose->getUsers())
    if (!llvm::is_contained(users, cast<FusionOp>(user)))
      users.push_back(cast<FusionOp>(user));
  for (FusionOp fusion : users) {
    Block &body = fusion.getBody().front();
    unsigned yIndex = fusion->getNumOperands();
    fusion->insertOperands(yIndex, merged);
    Value yArg = body.addArgument(merged.getType(), loc);
    OpBuilder inner = OpBuilder::atBlockBegin(&body);
    Value slice =
        SliceOp::create(inner, loc, type, yArg,
                        inner.getDenseI64ArrayAttr(starts),
                        inner.getDenseI64ArrayAttr(steps));
    Value heads = ReshapeOp::create(inner, reshape.getLoc(),
                                    reshape.getType(), slice);
    Value split = TransposeOp::create(inner, loc, transpose.getType(), heads,
                                      transpose.getPermAttr());
    for (int i = fusion->getNumOperands() - 1; i >= 0; --i) {
      if (fusion->getOperand(i) != transpose.getResult())
        continue;
      body.getArgument(i).replaceAllUsesWith(split);
      fusion->eraseOperand(i);
      body.eraseArgument(i);
    }
  }
  transpose.erase();
  reshape.erase();
}

/// Replaces the group by one gemm on the concatenated weights; each
/// consumer fusion reads its columns through a slice of the merged result.
void merge(ArrayRef<GemmOp> gemms) {
  GemmOp first = gemms.front();
  OpBuilder b(first);
  Location loc = first.getLoc();
  SmallVector<Value> weights;
  int64_t n = 0;
  for (GemmOp g : gemms) {
    auto w = g.getB().getDefiningOp<WeightOp>();
    w->moveBefore(first); // no operands: it may stand anywhere before
    weights.push_back(w);
    n += w.getType().getDimSize(0);
  }
  auto wt = cast<RankedTensorType>(weights.front().getType());
  auto concatType =
      RankedTensorType::get({n, wt.getDimSize(1)}, wt.getElementType());
  auto concatOp = ConcatOp::create(b, loc, concatType, weights,
                                   b.getI64IntegerAttr(0));
  concatOp->setAttr(kWeightConcatAttrName, b.getUnitAttr());
  Value concat = concatOp.getResult();
  auto rt = cast<RankedTensorType>(first.getResult().getType());
  SmallVector<int64_t> shape(rt.getShape());
  shape.back() = n;
  auto mergedType = RankedTensorType::get(shape, rt.getElementType());
  auto merged = GemmOp::create(
      b, loc, mergedType, first.getA(), concat, /*bias=*/Value(),
      /*residual=*/Value(), /*out=*/Value(), /*transpose_b=*/true,
      GemmActivation::None, /*scale=*/nullptr);
  // How each product is read, decided before any consumer changes (a
  // consumer may read two of them): through elementwise fusions, or
  // through head splits.
  SmallVector<std::optional<SmallVector<TransposeOp>>> splits;
  for (GemmOp g : gemms)
    splits.push_back(readByElementwiseFusions(g.getResult())
                         ? std::nullopt
                         : headSplits(g.getResult()));
  int64_t offset = 0;
  for (auto [i, split] : llvm::enumerate(splits)) {
    GemmOp g = gemms[i];
    Value r = g.getResult();
    auto type = cast<RankedTensorType>(r.getType());
    SmallVector<int64_t> starts(type.getRank(), 0), steps(type.getRank(), 1);
    starts.back() = offset;
    offset += type.getShape().back();
    if (split) {
      // Read as heads: each consumer's body takes the slice, reshape and
      // transpose of the merged result (kiln::headSource), and the split
      // outside goes.
      for (TransposeOp transpose : *split)
        splitInConsumers(transpose, merged.getResult(), type, starts, steps);
      g.erase();
      continue;
    }
    SmallVector<FusionOp> users;
    for (Operation *user : r.getUsers())
      if (!llvm::is_contained(users, cast<FusionOp>(user)))
        users.push_back(cast<FusionOp>(user));
    for (FusionOp fusion : users) {
      Block &body = fusion.getBody().front();
      // The merged result as one input of the fusion.
      unsigned yIndex = fusion->getNumOperands();
      for (auto [i, v] : llvm::enumerate(fusion->getOperands()))
        if (v == merged.getResult())
          yIndex = i;
      if (yIndex == fusion->getNumOperands()) {
        fusion->insertOperands(yIndex, merged.getResult());
        body.addArgument(mergedType, loc);
      }
      Value yArg = body.getArgument(yIndex);
      OpBuilder inner = OpBuilder::atBlockBegin(&body);
      // After the slices already there (one per product read).
      while (inner.getInsertionPoint() != body.end() &&
             isa<SliceOp>(*inner.getInsertionPoint()))
        inner.setInsertionPointAfter(&*inner.getInsertionPoint());
      Value slice = SliceOp::create(inner, loc, type, yArg,
                                    inner.getDenseI64ArrayAttr(starts),
                                    inner.getDenseI64ArrayAttr(steps));
      for (int i = fusion->getNumOperands() - 1; i >= 0; --i) {
        if (fusion->getOperand(i) != r)
          continue;
        body.getArgument(i).replaceAllUsesWith(slice);
        fusion->eraseOperand(i);
        body.eraseArgument(i);
      }
    }
    g.erase();
  }
}

struct KilnMergeGemmsPass : kiln::impl::KilnMergeGemmsBase<KilnMergeGemmsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Every function's groups first; a weight in two different groups is
    // merged in neither.
    SmallVector<std::pair<Attribute, SmallVector<GemmOp>>> all;
    llvm::DenseMap<Attribute, Attribute> groupOfWeight;
    llvm::DenseSet<Attribute> conflicted;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.getBody().hasOneBlock())
        continue;
      for (SmallVector<GemmOp> &gemms : groupsOf(func, headSplit)) {
        Attribute key = groupKey(gemms);
        for (Attribute w : cast<ArrayAttr>(key)) {
          auto [it, inserted] = groupOfWeight.try_emplace(w, key);
          if (!inserted && it->second != key) {
            conflicted.insert(it->second);
            conflicted.insert(key);
          }
        }
        all.push_back({key, std::move(gemms)});
      }
    }
    for (auto &[key, gemms] : all)
      if (!conflicted.contains(key))
        merge(gemms);
  }
};

} // namespace

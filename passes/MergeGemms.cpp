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

/// The gemm's weight when the gemm may join a group, else null.
WeightOp candidateWeight(GemmOp gemm) {
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
  if (!readByElementwiseFusions(gemm.getResult()))
    return nullptr;
  return w;
}

/// The candidate groups of one function: gemms of one `a`, element type
/// and K, in block order, two or more.
SmallVector<SmallVector<GemmOp>> groupsOf(func::FuncOp func) {
  llvm::MapVector<std::tuple<Value, Type, int64_t>, SmallVector<GemmOp>> by;
  for (Operation &op : func.getBody().front())
    if (auto gemm = dyn_cast<GemmOp>(op))
      if (WeightOp w = candidateWeight(gemm))
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
  int64_t offset = 0;
  for (GemmOp g : gemms) {
    Value r = g.getResult();
    auto type = cast<RankedTensorType>(r.getType());
    SmallVector<int64_t> starts(type.getRank(), 0), steps(type.getRank(), 1);
    starts.back() = offset;
    offset += type.getShape().back();
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
      for (SmallVector<GemmOp> &gemms : groupsOf(func)) {
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

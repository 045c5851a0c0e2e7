//===- LowerPrecision.cpp - kiln-lower-precision: 16-bit storage ----------===//
//
// Rewrites fused-level functions so that every float tensor computed from a
// weight and stored between kernels is bf16 (or f16) while every kernel
// still computes in f32 (docs/precision.md):
//
//  - weights are read as the storage type (`source_type = f32`: converted
//    when the bytes are read, at compile time for an artifact), the KV
//    cache's element type becomes the storage type;
//  - the f32 results of a top-level op (kiln.fusion, kiln.gemm, views) with
//    a 16-bit operand become the storage type; values computed from inputs
//    and constants alone (positions, rotary tables, masks) stay f32, and a
//    constant is rounded (one copy per constant) only where a gemm or a
//    structured kernel reads it beside 16-bit data;
//  - an elementwise fusion body widens each 16-bit argument to f32 with a
//    kiln.cast at its start and narrows each yielded value with a kiln.cast
//    before the yield, so the chain runs in f32 and rounds once per output
//    (a gather leaf of a 16-bit table reads it as stored and widens what it
//    read);
//  - any other fusion body (one structured op: a norm, rotary, attention,
//    gather, the KV ops, ...) is retyped as a whole: those ops accumulate in
//    f32 and round their result once (docs/dialect.md);
//  - the function's signature does not change: an f32 argument meeting a
//    gemm or a structured kernel is narrowed by a conversion kernel first
//    (rotary tables and attention masks excepted), and a returned value is
//    widened back to f32 by one.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERPRECISION
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// `type` with an f32 element type replaced by `storage`; other types as
/// they are.
Type lowered(Type type, Type storage) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.getElementType().isF32())
    return type;
  return t.clone(storage);
}

bool isF32Tensor(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getElementType().isF32();
}

/// A fusion whose body is elementwise ops only (codegen's fused loop), with
/// gathers of its arguments as leaves (kiln-form-fusions).
bool isElementwiseBody(Block &body) {
  for (Operation &op : body.without_terminator())
    if (!isScalarMap(&op) && !isa<GatherOp>(op))
      return false;
  return true;
}

/// Whether every use of `arg` is a gather's data or indices (the loop reads
/// one element of it per element through the gather, not elementwise).
bool onlyGathered(BlockArgument arg) {
  return llvm::all_of(arg.getUsers(),
                      [](Operation *user) { return isa<GatherOp>(user); });
}

/// `kiln.fusion %v { kiln.cast }` to `to`: one conversion kernel.
Value convert(OpBuilder &b, Location loc, Value v, Type to) {
  auto fusion = FusionOp::create(b, loc, TypeRange{to}, ValueRange{v});
  OpBuilder::InsertionGuard guard(b);
  Block *body = b.createBlock(&fusion.getBody(), {}, {v.getType()}, {loc});
  Value cast = CastOp::create(b, loc, to, body->getArgument(0));
  YieldOp::create(b, loc, cast);
  return fusion.getResult(0);
}

struct LowerPrecision
    : public kiln::impl::KilnLowerPrecisionBase<LowerPrecision> {
  using Base::Base;

  Type storage;
  /// The rounded copy of each f32 constant narrow() made (one per constant).
  DenseMap<Value, Value> narrowedConstants;

  /// Rounds a constant's f32 value to the storage type.
  LogicalResult lowerConstant(ConstantOp op) {
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!dense)
      return op.emitOpError("has a constant kiln-lower-precision cannot "
                            "convert (not a dense elements attribute)");
    auto type = cast<RankedTensorType>(lowered(op.getType(), storage));
    const llvm::fltSemantics &sem =
        cast<FloatType>(storage).getFloatSemantics();
    SmallVector<APFloat> values;
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost;
      v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v);
    }
    op.setValueAttr(DenseElementsAttr::get(type, values));
    op.getResult().setType(type);
    return success();
  }

  /// Retypes a fusion's body to its (already retyped) operands and results.
  LogicalResult lowerBody(FusionOp fusion) {
    Block &body = fusion.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    for (auto [arg, operand] :
         llvm::zip_equal(body.getArguments(), fusion.getInputs()))
      arg.setType(operand.getType());
    OpBuilder b(fusion.getContext());
    if (isElementwiseBody(body)) {
      // Widen 16-bit arguments, compute in f32, narrow what is yielded.
      b.setInsertionPointToStart(&body);
      for (BlockArgument arg : body.getArguments()) {
        auto t = dyn_cast<RankedTensorType>(arg.getType());
        if (!t || t.getElementType() != storage || arg.use_empty() ||
            onlyGathered(arg))
          continue;
        Value wide = CastOp::create(b, arg.getLoc(),
                                    t.clone(b.getF32Type()), arg);
        arg.replaceAllUsesExcept(wide, wide.getDefiningOp());
      }
      // A gather of a 16-bit table yields its elements as stored, then
      // widens them like an argument.
      for (Operation &op : llvm::make_early_inc_range(body)) {
        auto gather = dyn_cast<GatherOp>(op);
        if (!gather)
          continue;
        Type elt = gather.getData().getType().getElementType();
        auto rt = gather.getResult().getType();
        if (elt == rt.getElementType())
          continue;
        gather.getResult().setType(rt.clone(elt));
        b.setInsertionPointAfter(gather);
        Value wide = CastOp::create(b, gather.getLoc(), rt, gather.getResult());
        gather.getResult().replaceAllUsesExcept(wide, wide.getDefiningOp());
      }
      b.setInsertionPoint(yield);
      for (OpOperand &operand : yield->getOpOperands()) {
        Type want = fusion.getResult(operand.getOperandNumber()).getType();
        if (operand.get().getType() != want)
          operand.set(CastOp::create(b, yield.getLoc(), want, operand.get()));
      }
      return success();
    }
    // One structured op (or a group): every f32 value becomes the storage
    // type; the op accumulates in f32 and rounds its result.
    for (Operation &op : body.without_terminator()) {
      if (auto c = dyn_cast<ConstantOp>(op)) {
        if (isF32Tensor(c.getType()) && failed(lowerConstant(c)))
          return failure();
        continue;
      }
      for (Value r : op.getResults())
        r.setType(lowered(r.getType(), storage));
    }
    for (OpOperand &operand : yield->getOpOperands()) {
      Type want = fusion.getResult(operand.getOperandNumber()).getType();
      if (operand.get().getType() != want)
        return yield.emitOpError("yields ")
               << operand.get().getType() << " where the fusion returns "
               << want << " after kiln-lower-precision";
    }
    return success();
  }

  /// Whether `operand` of a fusion with a structured body may stay f32: it
  /// is only read as rotary cos/sin or as an attention mask, which the ops
  /// take in f32 beside 16-bit data (positions and masks stay exact).
  static bool mayStayF32(FusionOp fusion, unsigned operand) {
    BlockArgument arg = fusion.getBody().front().getArgument(operand);
    for (OpOperand &use : arg.getUses()) {
      Operation *user = use.getOwner();
      unsigned n = use.getOperandNumber();
      bool ok = (isa<RotaryOp>(user) && n >= 1) ||
                (isa<AttentionOp>(user) && n == 3) ||
                (isa<KvAttentionOp>(user) &&
                 use.get() == cast<KvAttentionOp>(user).getMask());
      if (!ok)
        return false;
    }
    return true;
  }

  /// `v` (f32) as the storage type: a rounded copy of a constant, else one
  /// conversion kernel before `before`.
  Value narrow(OpBuilder &b, Operation *before, Value v) {
    Type to = lowered(v.getType(), storage);
    if (auto c = v.getDefiningOp<ConstantOp>()) {
      if (Value done = narrowedConstants.lookup(v))
        return done;
      b.setInsertionPointAfter(c);
      auto copy = cast<ConstantOp>(b.clone(*c));
      if (succeeded(lowerConstant(copy)))
        return narrowedConstants[v] = copy.getResult();
      copy.erase();
    }
    b.setInsertionPoint(before);
    return convert(b, before->getLoc(), v, to);
  }

  LogicalResult lowerFunction(func::FuncOp func) {
    if (func.isExternal())
      return success();
    narrowedConstants.clear();
    OpBuilder b(func.getContext());
    // A value is stored in the storage type when it is a weight or computed
    // from one (hidden states, q/k/v, the KV cache, logits). Values computed
    // from inputs and constants alone (positions, rotary tables, masks) stay
    // f32: they are small, and a position rounded to bf16 is wrong past 256.
    auto isLowered = [&](Value v) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t && t.getElementType() == storage;
    };
    for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
      if (auto w = dyn_cast<WeightOp>(op)) {
        if (isF32Tensor(w.getType())) {
          w.setSourceTypeAttr(TypeAttr::get(b.getF32Type()));
          w.getResult().setType(
              cast<RankedTensorType>(lowered(w.getType(), storage)));
        }
        continue;
      }
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        b.setInsertionPoint(ret);
        for (auto [operand, want] : llvm::zip_equal(
                 ret->getOpOperands(), func.getFunctionType().getResults()))
          if (operand.get().getType() != want)
            operand.set(convert(b, ret.getLoc(), operand.get(), want));
        continue;
      }
      if (isa<ConstantOp>(op) || !llvm::any_of(op.getOperands(), isLowered))
        continue;
      if (auto gemm = dyn_cast<GemmOp>(op)) {
        // cuBLASLt takes one element type for every operand.
        for (OpOperand &operand : gemm->getOpOperands())
          if (isF32Tensor(operand.get().getType()))
            operand.set(narrow(b, gemm, operand.get()));
        for (Value r : gemm->getResults())
          r.setType(lowered(r.getType(), storage));
        continue;
      }
      if (auto fusion = dyn_cast<FusionOp>(op)) {
        // A structured body computes on one element type, except for the
        // f32 tables and masks mayStayF32 allows.
        if (!isElementwiseBody(fusion.getBody().front()))
          for (OpOperand &operand : fusion->getOpOperands())
            if (isF32Tensor(operand.get().getType()) &&
                !mayStayF32(fusion, operand.getOperandNumber()))
              operand.set(narrow(b, fusion, operand.get()));
        for (Value r : fusion.getResults())
          r.setType(lowered(r.getType(), storage));
        if (failed(lowerBody(fusion)))
          return failure();
        continue;
      }
      // Views (reshape, transpose, ...) keep their operand's element type.
      if (op.getNumRegions() != 0)
        return op.emitOpError("is not a fused-level op kiln-lower-precision "
                              "knows how to retype");
      for (Value r : op.getResults())
        r.setType(lowered(r.getType(), storage));
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    if (precision == "f32")
      return;
    if (precision == "bf16") {
      storage = b.getBF16Type();
    } else if (precision == "f16") {
      storage = b.getF16Type();
    } else {
      module.emitError("kiln-lower-precision: unknown precision '")
          << precision << "' (expected f32, bf16 or f16)";
      return signalPassFailure();
    }
    WalkResult scheduled = module.walk([&](Operation *op) {
      if (isa<KernelOp, GraphOp>(op)) {
        op->emitError("kiln-lower-precision runs on the fused level, not on "
                      "scheduled IR");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (scheduled.wasInterrupted())
      return signalPassFailure();
    for (auto cache : module.getOps<KvCacheOp>())
      if (cache.getElementType().isF32())
        cache.setElementTypeAttr(TypeAttr::get(storage));
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func->hasAttr("kiln.arena_bytes")) {
        func.emitError("kiln-lower-precision runs before kiln-plan-memory: "
                       "this function is already planned");
        return signalPassFailure();
      }
      if (failed(lowerFunction(func)))
        return signalPassFailure();
    }
  }
};

} // namespace

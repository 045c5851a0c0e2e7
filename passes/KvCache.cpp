//===- KvCache.cpp - past/present concats into a persistent KV cache -------===//
//
// kiln-kv-cache (docs/kv-cache.md): in a function imported as a KV-cache step
// (its past inputs carry `kiln.role = "past"`), every layer's
//   %k = kiln.concat %past_k, %new_k {axis = 2}   (returned as present)
//   %v = kiln.concat %past_v, %new_v {axis = 2}   (returned as present)
//   %o = kiln.attention %q, %k, %v [, %mask]
// becomes a kiln.kv_append of the new rows at each row's slot and a
// kiln.kv_attention over the cache. The rewrite is all or nothing per
// function: a past input that is not part of such a layer leaves the
// function as it is, with a remark saying which and why.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace kiln;

namespace kiln {
#define GEN_PASS_DEF_KILNKVCACHE
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

namespace {

constexpr StringLiteral kRole = "kiln.role";

/// One layer to rewrite.
struct Layer {
  AttentionOp attention;
  ConcatOp keyConcat, valueConcat;
};

/// The function's argument/result role, or "".
StringRef argRole(func::FuncOp func, unsigned i) {
  auto r = func.getArgAttrOfType<StringAttr>(i, kRole);
  return r ? r.getValue() : StringRef();
}

/// `v` is `kiln.concat(%past_arg, %new, axis 2)` of rank 4 whose past is a
/// "past" argument, used only by `attention` (as `operandNo`) and return.
/// Returns the concat or null with `why` set.
ConcatOp matchConcat(func::FuncOp func, AttentionOp attention,
                     unsigned operandNo, std::string &why) {
  Value v = attention->getOperand(operandNo);
  auto concat = v.getDefiningOp<ConcatOp>();
  const char *what = operandNo == 1 ? "key" : "value";
  if (!concat) {
    why = std::string("the attention's ") + what + " is not a concat";
    return nullptr;
  }
  if (concat.getNumOperands() != 2 || concat.getAxis() != 2 ||
      cast<RankedTensorType>(v.getType()).getRank() != 4) {
    why = std::string("the attention's ") + what +
          " is not a rank-4 concat of two tensors on axis 2";
    return nullptr;
  }
  auto past = dyn_cast<BlockArgument>(concat.getOperand(0));
  if (!past || past.getOwner()->getParentOp() != func.getOperation() ||
      argRole(func, past.getArgNumber()) != "past") {
    why = std::string("the attention's ") + what +
          " does not start with a past input";
    return nullptr;
  }
  if (!past.hasOneUse()) {
    why = "past input " + std::to_string(past.getArgNumber()) +
          " has uses besides its concat";
    return nullptr;
  }
  bool returned = false;
  for (OpOperand &use : concat->getUses()) {
    Operation *user = use.getOwner();
    if (isa<func::ReturnOp>(user)) {
      returned = true;
      continue;
    }
    if (user == attention.getOperation() &&
        use.getOperandNumber() == operandNo)
      continue;
    why = std::string("the ") + what + " concat is also used by '" +
          user->getName().getStringRef().str() + "'";
    return nullptr;
  }
  if (!returned) {
    why = std::string("the ") + what + " concat is not returned (no present " +
          "output)";
    return nullptr;
  }
  return concat;
}

struct KilnKvCachePass : kiln::impl::KilnKvCacheBase<KilnKvCachePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      bool hasPast = false;
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        hasPast |= argRole(func, i) == "past";
      if (!hasPast || func.isExternal())
        continue;
      if (failed(rewrite(module, func)))
        return signalPassFailure();
    }
  }

  /// Rewrites `func`; a function that does not match gets a remark and is
  /// left alone (success). Failure only for an inconsistent cache.
  LogicalResult rewrite(ModuleOp module, func::FuncOp func) {
    auto leave = [&](const Twine &why) {
      emitRemark(func.getLoc())
          << "kiln-kv-cache: '" << func.getSymName()
          << "' keeps its past/present signature: " << why;
      return success();
    };
    if (auto unsafe = func->getAttrOfType<StringAttr>("kiln.kv_unsafe"))
      return leave(unsafe.getValue());

    SmallVector<Layer> layers;
    std::string why;
    func.walk([&](AttentionOp attention) {
      std::string kWhy, vWhy;
      ConcatOp k = matchConcat(func, attention, 1, kWhy);
      ConcatOp v = matchConcat(func, attention, 2, vWhy);
      if (k && v)
        layers.push_back({attention, k, v});
      else if (why.empty() && (k || v))
        why = k ? vWhy : kWhy;
    });
    // Every past input must belong to a matched layer.
    llvm::SmallDenseSet<unsigned> covered;
    for (Layer &l : layers)
      for (ConcatOp c : {l.keyConcat, l.valueConcat})
        covered.insert(cast<BlockArgument>(c.getOperand(0)).getArgNumber());
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (argRole(func, i) == "past" && !covered.count(i)) {
        auto name =
            func.getArgAttrOfType<StringAttr>(i, KilnDialect::getNameAttrName());
        return leave("past input '" + (name ? name.getValue() : "?") +
                     "' does not feed a concat into attention" +
                     (why.empty() ? "" : " (" + why + ")"));
      }
    if (layers.empty())
      return leave("no attention reads a past/present concat");

    // The cache geometry, the same for every layer.
    auto keyType = cast<RankedTensorType>(layers[0].keyConcat.getType());
    auto newType =
        cast<RankedTensorType>(layers[0].keyConcat.getOperand(1).getType());
    int64_t batch = keyType.getShape()[0], kvHeads = keyType.getShape()[1],
            maxSeq = keyType.getShape()[2], headDim = keyType.getShape()[3];
    int64_t seq = newType.getShape()[2];
    Type elt = keyType.getElementType();
    for (Layer &l : layers)
      for (ConcatOp c : {l.keyConcat, l.valueConcat})
        if (c.getType() != keyType ||
            c.getOperand(1).getType() != Type(newType))
          return leave("layers differ in their key/value shapes");
    if (auto q = cast<RankedTensorType>(layers[0].attention.getQuery().getType());
        q.getShape()[2] != seq)
      return leave("the query length differs from the new keys' length");

    // The cache declaration (one per module, shared by every function).
    int64_t rows = std::max<int64_t>(maxBatch, batch);
    OpBuilder b(module.getBodyRegion());
    auto cache = module.lookupSymbol<KvCacheOp>(cacheName);
    if (!cache) {
      b.setInsertionPointToStart(module.getBody());
      cache = KvCacheOp::create(
          b, func.getLoc(), b.getStringAttr(cacheName),
          b.getI64IntegerAttr(layers.size()), b.getI64IntegerAttr(kvHeads),
          b.getI64IntegerAttr(headDim), b.getI64IntegerAttr(rows),
          b.getI64IntegerAttr(maxSeq), TypeAttr::get(elt),
          b.getStringAttr("bhsd"));
    } else if (int64_t(cache.getLayers()) != int64_t(layers.size()) ||
               int64_t(cache.getKvHeads()) != kvHeads ||
               int64_t(cache.getHeadDim()) != headDim ||
               int64_t(cache.getMaxSeq()) != maxSeq ||
               cache.getElementType() != elt) {
      return func.emitError("kiln-kv-cache: '")
             << func.getSymName() << "' needs a cache of " << layers.size()
             << " layers x " << kvHeads << " heads x " << maxSeq << " x "
             << headDim << " " << elt << ", but @" << cacheName
             << " is declared differently";
    } else if (int64_t(cache.getMaxBatch()) < batch) {
      cache.setMaxBatch(batch);
    }

    // kv_pos: one slot per row, under a name no other input has.
    MLIRContext *ctx = func.getContext();
    llvm::StringSet<> names;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (auto n = func.getArgAttrOfType<StringAttr>(
              i, KilnDialect::getNameAttrName()))
        names.insert(n.getValue());
    std::string posName = "kv_pos";
    for (int suffix = 1; names.contains(posName); ++suffix)
      posName = "kv_pos_" + std::to_string(suffix);
    auto posType = RankedTensorType::get({batch}, b.getI64Type());
    unsigned posIndex = func.getNumArguments();
    if (failed(func.insertArgument(
            posIndex, posType,
            b.getDictionaryAttr(
                {b.getNamedAttr(KilnDialect::getNameAttrName(),
                                b.getStringAttr(posName)),
                 b.getNamedAttr(kRole, b.getStringAttr("kv_pos"))}),
            func.getLoc())))
      return failure();
    Value pos = func.getArgument(posIndex);

    for (auto [index, l] : llvm::enumerate(layers)) {
      b.setInsertionPoint(l.attention);
      Value newK = l.keyConcat.getOperand(1), newV = l.valueConcat.getOperand(1);
      auto append = KvAppendOp::create(
          b, l.attention.getLoc(), TypeRange{keyType, keyType},
          FlatSymbolRefAttr::get(ctx, cacheName), b.getI64IntegerAttr(index),
          newK, newV, pos);
      auto attn = KvAttentionOp::create(
          b, l.attention.getLoc(), l.attention.getType(),
          l.attention.getQuery(), append.getKeyCache(),
          append.getValueCache(), pos, l.attention.getMask(),
          l.attention.getScaleAttr());
      l.attention.getResult().replaceAllUsesWith(attn.getResult());
      l.attention.erase();
    }

    // Present results and past arguments leave the signature.
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    llvm::BitVector dropResults(ret.getNumOperands());
    llvm::SmallPtrSet<Operation *, 8> concats;
    for (Layer &l : layers) {
      concats.insert(l.keyConcat);
      concats.insert(l.valueConcat);
    }
    for (OpOperand &operand : ret->getOpOperands())
      if (concats.count(operand.get().getDefiningOp()))
        dropResults.set(operand.getOperandNumber());
    SmallVector<Value> kept;
    for (OpOperand &operand : ret->getOpOperands())
      if (!dropResults.test(operand.getOperandNumber()))
        kept.push_back(operand.get());
    ret->setOperands(kept);
    if (failed(func.eraseResults(dropResults)))
      return failure();
    for (Operation *c : concats)
      c->erase();
    llvm::BitVector dropArgs(func.getNumArguments());
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (argRole(func, i) == "past")
        dropArgs.set(i);
    if (failed(func.eraseArguments(dropArgs)))
      return failure();

    // The step's shape and the logits' role.
    func->setAttr("kiln.step",
                  b.getDictionaryAttr(
                      {b.getNamedAttr("batch", b.getI64IntegerAttr(batch)),
                       b.getNamedAttr("seq", b.getI64IntegerAttr(seq))}));
    for (unsigned i = 0; i < func.getNumResults(); ++i) {
      auto t = dyn_cast<RankedTensorType>(func.getResultTypes()[i]);
      if (t && t.getRank() == 3 && t.getShape()[0] == batch &&
          t.getShape()[1] == seq && isa<FloatType>(t.getElementType())) {
        func.setResultAttr(i, kRole, b.getStringAttr("logits"));
        break;
      }
    }
    return success();
  }
};

} // namespace

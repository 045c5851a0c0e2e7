//===- FuseKvAttention.cpp - kiln-fuse-kv-attention pass ------------------===//
//
// One kernel per decode attention. After kiln-kv-cache and
// kiln-form-fusions a decode layer computes its attention in four launches:
// kiln.rotary on the query, kiln.rotary on the new key, kiln.kv_append of
// the roped key and the value into the layer's cache blocks, and
// kiln.kv_attention over the cache. This pass merges them into one fusion
// (kiln::mergeFusions), which codegen emits as the grouped-query split
// attention kernel with two hooks (kiln::analyzeKvAttentionKernel): every
// block ropes its query heads as it loads them, and the block whose chunk
// holds a batch row's new slot ropes and writes the new key and value row
// there before it reads its chunk. Each new row is written by one block,
// and no other block reads that slot, so nothing waits on another block.
//
// Matched structurally: a fusion of one kiln.kv_attention with one query
// position and at most kFuseKvAttentionMaxBatch batch rows, of which more
// than one only where the attention does not run in clusters (measured:
// LaunchConfig.h) whose caches are the two results of a fusion of one
// kiln.kv_append (one new row, the same positions) that nothing else reads;
// the query and the append's key may each be the result of a fusion of one
// kiln.rotary that nothing else reads. The merged body must pass
// analyzeKvAttentionKernel (the split kernel applies; a rotate-half rotary
// pairs whole 16-byte pieces), else nothing changes. The values are the
// unfused kernels' (rotary rounded to the element type once, then stored
// or dotted).
//
// Where the attention stays its own kernel (more batch rows), unless the
// module's kKvRopeAppendAttr is false (kiln-compile --fuse-rope-append=false),
// the rotaries and the append merge without it: one kernel
// writes the roped query and the roped key and value rows
// (kiln::analyzeRopeAppendKernel), three launches a layer become one. The
// rotaries and the append may read their inputs as head splits
// (kiln-merge-gemms' head-split).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/FusionMerge.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEKVATTENTION
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The op of a fusion whose body is that one op of type OpT (yielding its
/// results in order), or null.
template <typename OpT> OpT soleOp(FusionOp fusion) {
  if (!fusion)
    return nullptr;
  Block &body = fusion.getBody().front();
  if (!llvm::hasSingleElement(body.without_terminator()))
    return nullptr;
  auto op = dyn_cast<OpT>(body.front());
  if (!op || !llvm::equal(fusion.getYield().getValues(), op->getResults()))
    return nullptr;
  return op;
}

/// The value outside `fusion` that its body's `inner` (a block argument)
/// stands for.
Value outerOf(FusionOp fusion, Value inner) {
  return fusion.getInputs()[cast<BlockArgument>(inner).getArgNumber()];
}

/// The OpT of `fusion` if its body is that op alone, or that op reading
/// its operands as head splits (headSplitKernelOp), yielding its results;
/// else null.
template <typename OpT> OpT soleOrSplitOp(FusionOp fusion) {
  if (!fusion)
    return nullptr;
  if (OpT op = soleOp<OpT>(fusion))
    return op;
  auto op = dyn_cast_or_null<OpT>(headSplitKernelOp(fusion.getBody().front()));
  return op && llvm::equal(fusion.getYield().getValues(), op->getResults())
             ? op
             : nullptr;
}

/// The fusion computing `v` whose body is one kiln.rotary (soleOp; with
/// `splits`, also one reading its input as a head split: soleOrSplitOp),
/// if `user` is the only reader of its result.
FusionOp rotaryFusion(Value v, Operation *user, bool splits = false) {
  auto fusion = v.getDefiningOp<FusionOp>();
  if (!(splits ? soleOrSplitOp<RotaryOp>(fusion) : soleOp<RotaryOp>(fusion)) ||
      !v.hasOneUse() || *v.getUsers().begin() != user)
    return nullptr;
  return fusion;
}

struct FuseKvAttention
    : public kiln::impl::KilnFuseKvAttentionBase<FuseKvAttention> {
  using Base::Base;

  void runOnOperation() override {
    // Batch rows up to which to fuse: kFuseKvAttentionMaxBatch, or the
    // module's kFuseKvAttentionMaxBatchAttr.
    int64_t maxBatch = kFuseKvAttentionMaxBatch;
    bool given = false;
    if (auto module = getOperation()->getParentOfType<ModuleOp>())
      if (Attribute a = module->getAttr(kFuseKvAttentionMaxBatchAttr)) {
        auto i = dyn_cast<IntegerAttr>(a);
        if (!i || i.getInt() < 1) {
          module.emitError() << kFuseKvAttentionMaxBatchAttr
                             << " must be an integer of at least 1, got "
                             << a;
          return signalPassFailure();
        }
        maxBatch = i.getInt();
        given = true;
      }
    bool ropeAppend = kKvRopeAppendDefault;
    if (auto module = getOperation()->getParentOfType<ModuleOp>())
      if (Attribute a = module->getAttr(kKvRopeAppendAttr)) {
        auto b = dyn_cast<BoolAttr>(a);
        if (!b) {
          module.emitError() << kKvRopeAppendAttr << " must be a bool, got "
                             << a;
          return signalPassFailure();
        }
        ropeAppend = b.getValue();
      }
    SmallVector<FusionOp> attentions;
    getOperation().walk([&](FusionOp f) {
      if (soleOp<KvAttentionOp>(f))
        attentions.push_back(f);
    });
    for (FusionOp f : attentions)
      if (!fuse(f, maxBatch, given) && ropeAppend)
        fuseRopeAppend(f);
  }

  /// The rotaries and the append of the attention `attFusion` reads, as
  /// one rope-and-append kernel (analyzeRopeAppendKernel); the attention
  /// stays as it is.
  static void fuseRopeAppend(FusionOp attFusion) {
    auto attention = soleOp<KvAttentionOp>(attFusion);
    Value kc = outerOf(attFusion, attention.getKeyCache());
    Value vc = outerOf(attFusion, attention.getValueCache());
    auto appendFusion = kc.getDefiningOp<FusionOp>();
    auto append = soleOrSplitOp<KvAppendOp>(appendFusion);
    if (!append || kc != appendFusion.getResult(0) ||
        vc != appendFusion.getResult(1))
      return;
    // The key's rotary before the append; the query's after it, so the
    // kernel yields the append's results first (kiln-schedule's KV views).
    SmallVector<FusionOp> members;
    if (FusionOp k =
            rotaryFusion(outerOf(appendFusion, append.getKey()), appendFusion,
                         /*splits=*/true))
      members.push_back(k);
    members.push_back(appendFusion);
    if (FusionOp q =
            rotaryFusion(outerOf(attFusion, attention.getQuery()), attFusion,
                         /*splits=*/true))
      members.push_back(q);
    if (members.size() < 2)
      return;
    auto accept = [](FusionOp f) {
      return analyzeRopeAppendKernel(f.getBody().front()).has_value();
    };
    auto keep = [&](Value r) { return r.getDefiningOp() == appendFusion; };
    mergeFusions(members, attFusion, accept, keep);
  }

  /// Fuses `attFusion` with its rotaries and append; false where it stays
  /// as it is. `given`: maxBatch is the module's attribute, not the rule.
  static bool fuse(FusionOp attFusion, int64_t maxBatch, bool given) {
    auto attention = soleOp<KvAttentionOp>(attFusion);
    // More batch rows keep the separate kernels (kFuseKvAttentionMaxBatch),
    // and by the rule so does an attention of several rows in clusters
    // (kFuseKvAttentionClustersMaxBatch).
    int64_t batch =
        cast<ShapedType>(attention.getQuery().getType()).getDimSize(0);
    if (batch > maxBatch ||
        (!given && batch > kFuseKvAttentionClustersMaxBatch &&
         kvAttentionSplitShape(attention).cluster))
      return false;
    Value kc = outerOf(attFusion, attention.getKeyCache());
    Value vc = outerOf(attFusion, attention.getValueCache());
    auto appendFusion = kc.getDefiningOp<FusionOp>();
    auto append = soleOp<KvAppendOp>(appendFusion);
    if (!append || kc != appendFusion.getResult(0) ||
        vc != appendFusion.getResult(1) ||
        llvm::any_of(appendFusion->getUsers(),
                     [&](Operation *u) { return u != attFusion; }) ||
        outerOf(appendFusion, append.getPositions()) !=
            outerOf(attFusion, attention.getPositions()))
      return false;
    SmallVector<FusionOp> members;
    if (FusionOp q = rotaryFusion(outerOf(attFusion, attention.getQuery()),
                                  attFusion))
      members.push_back(q);
    if (FusionOp k = rotaryFusion(outerOf(appendFusion, append.getKey()),
                                  appendFusion))
      members.push_back(k);
    // Producers before consumers: the rotaries in block order.
    llvm::sort(members,
               [](FusionOp a, FusionOp b) { return a->isBeforeInBlock(b); });
    members.append({appendFusion, attFusion});
    auto accept = [](FusionOp f) {
      return analyzeKvAttentionKernel(f.getBody().front()).has_value();
    };
    auto keep = [&](Value r) { return r.getDefiningOp() == appendFusion; };
    // With the rotaries if the kernel takes them, else without.
    if (mergeFusions(members, attFusion, accept, keep))
      return true;
    return members.size() > 2 &&
           mergeFusions({appendFusion, attFusion}, attFusion, accept, keep);
  }
};

} // namespace

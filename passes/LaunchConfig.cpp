//===- LaunchConfig.cpp - grid and block of kiln's generated kernels ------===//
//
// See LaunchConfig.h. Row kernels get one block per row (up to 65535; the
// kernels loop over the rest) and a power-of-two block that covers the row
// up to 256 threads; every other kernel gets 256 threads and enough blocks
// to give each thread one element (up to 65535); a fused elementwise kernel
// is sized by its largest result.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/LaunchConfig.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;

/// Attribute `name` of the module holding `op` if it is an AttrT, else null.
template <typename AttrT>
static AttrT moduleAttr(Operation *op, StringRef name) {
  if (auto module = op ? op->getParentOfType<ModuleOp>() : ModuleOp())
    return module->getAttrOfType<AttrT>(name);
  return {};
}

/// The i64 module attribute `name` of the module holding `op` (the
/// measurement flags' attributes), or 0 where there is none.
static int64_t moduleInt(Operation *op, StringRef name) {
  if (auto attr = moduleAttr<IntegerAttr>(op, name))
    return attr.getInt();
  return 0;
}

/// The bool module attribute `name` of the module holding `op` (a flag
/// given to kiln-compile), or `otherwise` where there is none.
static bool moduleBool(Operation *op, StringRef name, bool otherwise) {
  if (auto attr = moduleAttr<BoolAttr>(op, name))
    return attr.getValue();
  return otherwise;
}

static int64_t elements(Value v) {
  return cast<ShapedType>(v.getType()).getNumElements();
}
static ArrayRef<int64_t> shape(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}
static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}
static int64_t clampGrid(int64_t rows) {
  return std::clamp<int64_t>(rows, 1, 65535);
}

int64_t kiln::gridForElements(int64_t n) {
  return clampGrid((n + kElementwiseBlock - 1) / kElementwiseBlock);
}

int64_t kiln::blockForReduction(int64_t n) {
  return std::clamp<int64_t>(llvm::PowerOf2Ceil(std::max<int64_t>(n, 1)), 32,
                             256);
}

bool kiln::isRowKernel(Operation *op) {
  return isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, SoftmaxOp, LayerNormOp,
             RmsNormOp, AttentionOp, KvAttentionOp>(op);
}

LaunchDims kiln::copyLaunchDims(int64_t n) {
  return {gridForElements(n), kElementwiseBlock, 0};
}

/// Rows and row length of a row kernel.
static std::pair<int64_t, int64_t> rowsOf(Operation *op) {
  if (isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp>(op)) {
    int64_t outputs = elements(op->getResult(0));
    int64_t count = outputs ? elements(op->getOperand(0)) / outputs : 0;
    return {outputs, count};
  }
  if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    ArrayRef<int64_t> s = shape(softmax.getInput());
    int64_t len = s[softmax.getAxis()];
    return {len ? product(s) / len : 0, len};
  }
  if (isa<LayerNormOp, RmsNormOp>(op)) {
    int64_t axis = isa<LayerNormOp>(op) ? cast<LayerNormOp>(op).getAxis()
                                        : cast<RmsNormOp>(op).getAxis();
    ArrayRef<int64_t> s = shape(op->getOperand(0));
    return {product(s.take_front(axis)), product(s.drop_front(axis))};
  }
  if (auto attention = dyn_cast<KvAttentionOp>(op)) {
    ArrayRef<int64_t> q = shape(attention.getQuery());
    ArrayRef<int64_t> k = shape(attention.getKeyCache());
    ArrayRef<int64_t> v = shape(attention.getValueCache());
    return {q[0] * q[1] * q[2], std::max(k[2], v[3])};
  }
  auto attention = cast<AttentionOp>(op);
  ArrayRef<int64_t> q = shape(attention.getQuery());
  ArrayRef<int64_t> k = shape(attention.getKey());
  ArrayRef<int64_t> v = shape(attention.getValue());
  return {q[0] * q[1] * q[2], std::max(k[2], v[3])};
}

/// The split kernel's blocks, best first (after kKvThreeStepsMinGroups'
/// rule): 8 warps of 2 steps, else (where
/// their shared arrays do not fit) 4 warps of 4 steps. Measured with
/// bench/micro/kv_attention.cu on an H200 (bench/RESULTS.md, 2026-12-01):
/// 8 x 2 was the fastest or within 6% of it on every decode shape tried
/// (Llama-1B, Qwen2.5-0.5B at batch 1 and 8, Llama-3-8B at batch 1), 23-33%
/// faster than 4 x 4; smaller chunks (more blocks, more partial results to
/// merge) were slower everywhere.
static constexpr std::pair<int64_t, int64_t> kKvSplitBlocks[] = {{8, 2},
                                                                 {4, 4}};

/// Where a step's groups (kvAttentionSplitWith's (b, kv head, head set, s)
/// blocks of one chunk each) number more than a quarter of the SMs and at most
/// one an SM, the split kernel's blocks are 8 warps of 3 steps (chunks of 96
/// slots for bf16 D = 64) instead of 2. Measured on an H200 (bench/RESULTS.md,
/// session 21; ctx 512 of 1024 slots, graph step, each beside the default in
/// one run): at 64 groups, Llama-1B's batch 8 1.279 -> 1.236 ms (-3.4%, twice)
/// and Qwen2.5-0.5B's batch 32 1.498 -> 1.408 (-6.0%, twice); outside the
/// window, Llama-1B's batch 32 (256 groups) 1.728 -> 1.741 and Qwen2.5-0.5B's
/// batch 8 (16 groups) 0.960 -> 0.962, so those keep 2 steps (4 steps were
/// slower than 3 at all four). Why, as far as it is known: at half the cache
/// live, 2 steps make Llama-1B's 64 groups 576 live blocks, past the 528 its 64
/// registers let the SMs hold at once, and 3 steps 384, within the 396 of its
/// 80; with many groups the grid runs in waves either way, and with few the
/// longer chunks only cut the blocks (session 15: Qwen's batch 8 at 9 steps,
/// 0.990 -> 1.100 ms). The window's edges (a quarter of the SMs, one an SM) sit
/// between the measured points, 16 and 64 groups and 64 and 256; no shape
/// between them has been timed.
static constexpr int64_t kKvThreeStepsMinGroups = kTargetSms / 4 + 1;
static constexpr int64_t kKvThreeStepsMaxGroups = kTargetSms;

/// A step of one query row (batch 1, one position) merges its chunks in a
/// thread block cluster (kvAttentionSplitWith's Cluster: the partial
/// results meet in distributed shared memory, not through global memory,
/// a fence and a counter) where the cache is 2 to kKvClusterMaxSplits
/// chunks of 8 warps x 4 steps, with the most query heads a block that
/// still makes kKvClusterMinBlocks blocks. Measured with
/// bench/micro/kv_attention.cu on an H200 (bench/RESULTS.md, session 9; T
/// = 1024, 513 live keys): Llama-1B b1 11.78 us (8 x 2, a head a block,
/// global merge) -> 8.70 (8 x 4, all 4 heads a block: 64 blocks, in
/// clusters); Qwen2.5-0.5B b1 10.75 -> 7.68 (8 x 4, a head a block: 112
/// blocks; 8 x 2 with all 7 heads, 32 blocks: 9.38). A head a block in
/// Llama-1B's clusters (256 blocks) was slower, 12.61; clusters at batch 8
/// were slower or level (Llama-1B 19.58 -> 22.18), so batch 8 keeps the
/// global merge. Clusters of more than 8 blocks are not portable: not used.
/// The blocks were at least 64 until session 19: in the graph step,
/// where the attention's time is its dependent phases after the PDL wait
/// (session 18's probes), 2 heads a block (128 blocks, about one an SM)
/// took Llama-1B's batch-1 step from 0.8576 and 0.8584 to 0.8332 and
/// 0.8329 ms (H200, each beside the other in one run, twice;
/// bench/RESULTS.md), though alone the 64-block kernel was faster in
/// session 9. Qwen2.5-0.5B (7 heads a kv head) keeps a head a block: 112.
static constexpr int64_t kKvClusterMaxSplits = 8;
static constexpr int64_t kKvClusterMinBlocks = 128;
/// A step of more than one query row merges in clusters too (the shape
/// above, its heads a block counted over all the rows) where that grid is
/// at most one block an SM. Measured on an H200 (bench/RESULTS.md, session
/// 25; ctx 512 of 1024 slots, graph step, each beside the default in one
/// run; kiln-compile --kv-attention-cluster-rows=8 for all of batch 8):
/// Qwen2.5-0.5B's batch 8 (7 heads a block, 128 blocks) 0.9509 / 0.9487
/// -> 0.8993 ms; Llama-1B's (4 heads a block, 512 blocks) 1.1433 / 1.1422
/// -> 1.2082, and 2 heads a block (1024 blocks) 1.3478. A cluster's blocks
/// past the live keys wait at its barriers holding their SM's slots, and
/// a grid of several blocks an SM has clusters waiting to be placed.
static constexpr int64_t kKvClusterMaxGrid = kTargetSms;

KvSplitShape kiln::kvAttentionSplitShape(Operation *op) {
  auto attention = dyn_cast<KvAttentionOp>(op);
  if (!attention)
    return {};
  auto qt = cast<ShapedType>(attention.getQuery().getType());
  auto kt = cast<ShapedType>(attention.getKeyCache().getType());
  auto vt = cast<ShapedType>(attention.getValueCache().getType());
  ArrayRef<int64_t> q = qt.getShape(), k = kt.getShape(), v = vt.getShape();
  Type elt = kt.getElementType();
  if (qt.getElementType() != elt || vt.getElementType() != elt ||
      !elt.isIntOrFloat())
    return {};
  int64_t bytes = (elt.getIntOrFloatBitWidth() + 7) / 8;
  int64_t d = k[3], t = k[2], hq = q[1], hkv = k[1];
  if (v[3] != d || q[3] != d || hkv == 0 || hq % hkv != 0 || t == 0 ||
      (d * bytes) % 16 != 0)
    return {};
  int64_t lanes = d * bytes / 16;
  if (lanes > 32 || !llvm::isPowerOf2_64(lanes))
    return {};
  int64_t g = hq / hkv;
  // Shared arrays: scores (heads x chunk), the warps' sums (warps x heads
  // x d), the merge weights (heads x min(splits, 256)), two floats a head,
  // and with a cluster the block's weighted values (heads x d).
  auto fits = [&](const KvSplitShape &shape, int64_t groups) {
    int64_t smem = 4 * shape.heads *
                   (shape.chunk + shape.warps * d +
                    std::min<int64_t>(shape.splits, 256) + 2 +
                    (shape.cluster ? d : 0));
    return groups * shape.splits <= 65535 &&
           groups * shape.heads * shape.splits * (2 + d) * 4 <=
               (int64_t(16) << 20) &&
           smem <= 40 * 1024;
  };
  // Query rows in clusters: one, or more where the cluster grid is at most
  // kKvClusterMaxGrid blocks; kiln-compile --kv-attention-cluster-rows
  // (measurement) sets the most rows instead, with no grid limit.
  int64_t rows = q[0] * q[2];
  int64_t clusterRows = moduleInt(op, kKvAttentionClusterRowsAttr);
  if (clusterRows < 1 || rows <= clusterRows) {
    KvSplitShape shape{8, 4, 8 * 4 * (32 / lanes), 0, 0, 0};
    shape.splits = (t + shape.chunk - 1) / shape.chunk;
    shape.cluster = shape.splits;
    if (shape.splits >= 2 && shape.splits <= kKvClusterMaxSplits) {
      shape.heads = 1;
      for (int64_t h = g; h > 1; --h)
        if (g % h == 0 &&
            rows * hkv * (g / h) * shape.splits >= kKvClusterMinBlocks) {
          shape.heads = h;
          break;
        }
      // kiln-compile --kv-attention-heads (measurement): that many heads a
      // block where they divide the kv head's query heads.
      if (int64_t heads = moduleInt(op, kKvAttentionHeadsAttr);
          heads >= 1 && g % heads == 0)
        shape.heads = heads;
      shape.sets = g / shape.heads;
      int64_t groups = rows * hkv * shape.sets;
      if ((rows == 1 || clusterRows >= 1 ||
           groups * shape.splits <= kKvClusterMaxGrid) &&
          fits(shape, groups))
        return shape;
    }
  }
  // One query row (batch 1, one position): a block per query head.
  int64_t heads = rows == 1 ? 1 : g;
  // kiln-compile --kv-attention-split-heads (measurement): that many heads
  // a block where they divide the kv head's query heads.
  if (int64_t h = moduleInt(op, kKvAttentionSplitHeadsAttr);
      h >= 1 && g % h == 0)
    heads = h;
  int64_t groups = q[0] * hkv * q[2] * (g / heads);
  // kiln-compile --kv-attention-steps (measurement): 8 warps of that many
  // steps first, where they fit.
  SmallVector<std::pair<int64_t, int64_t>, 3> blocks;
  if (int64_t steps = moduleInt(op, kKvAttentionStepsAttr); steps >= 1)
    blocks.push_back({8, steps});
  if (groups >= kKvThreeStepsMinGroups && groups <= kKvThreeStepsMaxGroups)
    blocks.push_back({8, 3});
  blocks.append(std::begin(kKvSplitBlocks), std::end(kKvSplitBlocks));
  for (auto [warps, steps] : blocks) {
    KvSplitShape shape{warps, steps, warps * steps * (32 / lanes), 0,
                       heads,  g / heads};
    shape.splits = (t + shape.chunk - 1) / shape.chunk;
    shape.splitMajor = moduleBool(op, kKvAttentionSplitMajorAttr,
                                  kKvAttentionSplitMajorDefault);
    if (fits(shape, groups))
      return shape;
  }
  return {};
}

int64_t kiln::kvAttentionSplits(Operation *op) {
  return kvAttentionSplitShape(op).splits;
}

/// Whether `rotary` can run inside the split attention kernel, on rows of
/// `bytes`-byte elements: rotate-half pairs element d with d +- R/2, so R/2
/// elements must fill 16-byte pieces; interleaved pairs stay in a piece.
static bool rotaryFitsPieces(RotaryOp rotary, int64_t bytes) {
  // The kernel's hooks (KvRotaryQuery, KvAppendRow) read an angle a pair.
  if (rotary.getFullTables())
    return false;
  ArrayRef<int64_t> cs = shape(rotary.getCos());
  if (cs.size() != 3 || shape(rotary.getSin()) != cs)
    return false;
  return rotary.getInterleaved() || (cs[2] * bytes) % 16 == 0;
}

std::optional<KvAttentionKernel> kiln::analyzeKvAttentionKernel(Block &body) {
  if (body.empty())
    return std::nullopt;
  Operation *terminator = body.getTerminator();
  KvAttentionKernel k;
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  if (ops.empty() || !terminator)
    return std::nullopt;
  auto attention = dyn_cast<KvAttentionOp>(ops.back());
  if (!attention || kvAttentionSplits(attention) == 0)
    return std::nullopt;
  k.attention = attention;
  auto isArg = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &body;
  };
  auto argsOnly = [&](Operation *op) {
    return llvm::all_of(op->getOperands(), isArg);
  };
  int64_t bytes =
      (cast<ShapedType>(attention.getKeyCache().getType())
           .getElementType()
           .getIntOrFloatBitWidth() +
       7) /
      8;
  // A block argument, or a rotary of block arguments read once (recorded
  // in `rotary`).
  auto argOrRotary = [&](Value v, Operation *&rotary) {
    auto r = v.getDefiningOp<RotaryOp>();
    if (!r)
      return isArg(v);
    rotary = r;
    return argsOnly(r) && r->hasOneUse() && rotaryFitsPieces(r, bytes);
  };
  if (!argOrRotary(attention.getQuery(), k.queryRotary))
    return std::nullopt;
  if (!isArg(attention.getPositions()) ||
      (attention.getMask() && !isArg(attention.getMask())))
    return std::nullopt;
  // The caches: block arguments, or the two results of the append.
  Value kc = attention.getKeyCache(), vc = attention.getValueCache();
  if (auto append = kc.getDefiningOp<KvAppendOp>()) {
    if (vc != append.getValueCache() || kc != append.getKeyCache() ||
        append.getPositions() != attention.getPositions() ||
        shape(attention.getQuery())[2] != 1 ||
        shape(append.getKey())[2] != 1 || !isArg(append.getValue()) ||
        !argOrRotary(append.getKey(), k.keyRotary))
      return std::nullopt;
    k.append = append;
  } else if (!isArg(kc) || !isArg(vc)) {
    return std::nullopt;
  }
  // Nothing else in the body, and the yields in order.
  size_t expected = 1 + (k.append ? 1 : 0) + (k.queryRotary ? 1 : 0) +
                    (k.keyRotary ? 1 : 0);
  if (ops.size() != expected)
    return std::nullopt;
  SmallVector<Value> yields;
  if (k.append)
    yields.append({kc, vc});
  yields.push_back(attention.getResult());
  if (!llvm::equal(terminator->getOperands(), yields))
    return std::nullopt;
  return k;
}

bool kiln::isGemv(Operation *op) {
  auto linear = dyn_cast<LinearOp>(op);
  if (!linear || !linear.getTransposeWeight())
    return false;
  return isGemvInput(cast<ShapedType>(linear.getInput().getType()));
}

bool kiln::isNBitsGemv(Operation *op) {
  auto q = dyn_cast<MatmulNBitsOp>(op);
  if (!q)
    return false;
  auto x = cast<ShapedType>(q.getInput().getType());
  Type elt = x.getElementType();
  int64_t k = q.getK();
  return (elt.isF32() || elt.isF16() || elt.isBF16()) && k > 0 &&
         x.getNumElements() / k <= kNBitsGemvMaxRows &&
         (k * q.getBits() / 8) % 16 == 0 && q.getBlockSize() % 8 == 0 &&
         k % q.getBlockSize() == 0;
}

int64_t kiln::nbitsGemvColumns(int64_t rowBytes) {
  // The kernel's tile: all of a lane's pieces of a row, at most 4.
  int64_t pieces = rowBytes / 16;
  int64_t tile = pieces >= 32 * 4 ? 4 : (pieces + 31) / 32;
  return std::clamp<int64_t>(4 / std::max<int64_t>(tile, 1), 1, 4);
}

bool kiln::isGemvInput(ShapedType x) {
  Type elt = x.getElementType();
  if (!elt.isF32() && !elt.isBF16() && !elt.isF16())
    return false;
  int64_t k = x.getShape().back();
  int64_t vec = 16 / ((elt.getIntOrFloatBitWidth() + 7) / 8);
  return k > 0 && k % vec == 0 &&
         x.getNumElements() / k <=
             (elt.isF32() ? kGemvMaxRows : kGemvMmaMaxRows);
}

int64_t GemvKernel::columns() const {
  int64_t n = 0;
  for (const GemvGroup &g : groups)
    n += g.columns;
  return n;
}

int64_t GemvKernel::units() const {
  if (!mma())
    return columns();
  int64_t n = 0;
  for (const GemvGroup &g : groups)
    n += (g.columns + 7) / 8;
  return n;
}

int64_t kiln::gemvMmaSplit(int64_t k, int64_t l) {
  int64_t tile = 32 * gemvTile(l);
  int64_t split = 1;
  while (split < 8 && split * tile < k)
    split *= 2;
  while (split > 1 && k % (32 * split) != 0)
    split /= 2;
  return split;
}

bool kiln::broadcastsTo(ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  return isBroadcastableTo(in, out);
}

/// An RMSNorm whose scale is K contiguous values folds into a GEMV's dots
/// (kiln::GemvRmsX): no shared memory, x read as the weights stream.
/// Not with round_normalized: the row is rounded before the scale, which
/// only the shared-memory prologue (kiln::normRow<..., true>) does.
static bool rmsFoldsInto(RmsNormOp rms, int64_t k) {
  ArrayRef<int64_t> s = shape(rms.getScale());
  return !rms.getRoundNormalized() && elements(rms.getScale()) == k &&
         !s.empty() && s.back() == k;
}

bool kiln::isGemvProduct(Operation *op) {
  return isa<LinearOp, MatmulNBitsOp>(op);
}

Value kiln::gemvProductWeight(Operation *op) {
  if (auto q = dyn_cast<MatmulNBitsOp>(op))
    return q.getWeight();
  return cast<LinearOp>(op).getWeight();
}

std::optional<GemvKernel> kiln::analyzeGemvKernel(Block &body) {
  if (body.empty())
    return std::nullopt;
  Operation *terminator = body.getTerminator();
  if (!terminator || terminator->getNumOperands() == 0)
    return std::nullopt;
  GemvKernel kernel;
  SmallVector<Operation *> linears;
  // Per value computed in the body: the linears it depends on (bit set over
  // `linears`, at most 64 of them).
  DenseMap<Value, uint64_t> deps;
  // Per linear: its group's representative (union-find).
  SmallVector<unsigned> parent;
  auto find = [&](unsigned i) {
    while (parent[i] != i)
      i = parent[i] = parent[parent[i]];
    return i;
  };
  for (Operation &op : body.without_terminator()) {
    if (isa<RmsNormOp, LayerNormOp>(op)) {
      // The prologue: first, once, over the last dim of block arguments.
      Value in = op.getOperand(0);
      int64_t axis = isa<RmsNormOp>(op) ? cast<RmsNormOp>(op).getAxis()
                                        : cast<LayerNormOp>(op).getAxis();
      ArrayRef<int64_t> xs = shape(in);
      Type elt = cast<ShapedType>(in.getType()).getElementType();
      // Only a prologue that normalises the rows into shared memory is
      // bounded by it: a folded RMSNorm reads x from memory in the dots.
      auto rms = dyn_cast<RmsNormOp>(op);
      bool folds = rms && !xs.empty() && rmsFoldsInto(rms, xs.back());
      if (kernel.prologue || !linears.empty() || xs.empty() ||
          axis != (int64_t)xs.size() - 1 ||
          !llvm::all_of(op.getOperands(),
                        [](Value v) { return isa<BlockArgument>(v); }) ||
          (!folds && product(xs) * ((elt.getIntOrFloatBitWidth() + 7) / 8) >
                           kGemvPrologueBytes) ||
          !llvm::all_of(op.getResult(0).getUsers(), [&](Operation *user) {
            return isGemvProduct(user) &&
                   user->getOperand(0) == op.getResult(0) &&
                   llvm::count(user->getOperands(), op.getResult(0)) == 1;
          }))
        return std::nullopt;
      kernel.prologue = &op;
      kernel.foldedRms = folds; // xs.back() is the linears' K
      continue;
    }
    if (isGemvProduct(&op)) {
      Value x = op.getOperand(0);
      bool fromPrologue =
          kernel.prologue && x == kernel.prologue->getResult(0);
      auto q = dyn_cast<MatmulNBitsOp>(op);
      if (!(q ? isNBitsGemv(&op) : isGemv(&op)) ||
          (!isa<BlockArgument>(x) && !fromPrologue) ||
          !llvm::all_of(op.getOperands().drop_front(),
                        [](Value v) { return isa<BlockArgument>(v); }) ||
          linears.size() == 64)
        return std::nullopt;
      if (!kernel.input) {
        kernel.input = x;
        ArrayRef<int64_t> xs = shape(x);
        kernel.k = xs.back();
        kernel.rows = product(xs.drop_back());
        kernel.nbits = bool(q);
        // int4/int8 products: one row, and no norm prologue (the norm's
        // own kernel rounds the normalised row to its type, as the
        // unmerged steps of more rows do: logits of a prompt alone and in a
        // batch agree; see kNBitsGemvMergeMaxRows).
        if (q && (kernel.rows > kNBitsGemvMergeMaxRows || kernel.prologue))
          return std::nullopt;
      } else if (x != kernel.input || kernel.nbits != bool(q)) {
        return std::nullopt;
      }
      // One nbitsDots instantiation serves a group: one bits, block size,
      // scale type and kind of zero point in the kernel.
      if (q) {
        auto first =
            cast<MatmulNBitsOp>(linears.empty() ? &op : linears.front());
        auto zeroKind = [](MatmulNBitsOp n) -> Type {
          Value z = n.getZeroPoints();
          return z ? getElementTypeOrSelf(z.getType()) : Type();
        };
        if ((int64_t)q.getK() != kernel.k || q.getBits() != first.getBits() ||
            q.getBlockSize() != first.getBlockSize() ||
            getElementTypeOrSelf(q.getScales().getType()) !=
                getElementTypeOrSelf(first.getScales().getType()) ||
            zeroKind(q) != zeroKind(first))
          return std::nullopt;
      }
      deps[op.getResult(0)] = uint64_t(1) << linears.size();
      parent.push_back(linears.size());
      linears.push_back(&op);
      continue;
    }
    if (!isScalarMap(&op) ||
        op.getNumResults() != 1)
      return std::nullopt;
    uint64_t d = 0;
    for (Value v : op.getOperands()) {
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        if (arg == kernel.input)
          return std::nullopt;
        continue;
      }
      d |= deps.lookup(v);
    }
    deps[op.getResult(0)] = d;
    // Everything the op combines is one group.
    for (unsigned i = 0; i < linears.size(); ++i)
      if (d & (uint64_t(1) << i))
        for (unsigned j = i + 1; j < linears.size(); ++j)
          if (d & (uint64_t(1) << j))
            parent[find(j)] = find(i);
  }
  if (linears.empty() ||
      (kernel.prologue && kernel.input != kernel.prologue->getResult(0)))
    return std::nullopt;
  // Groups in the order of their first linear; every linear of a group has
  // one result shape.
  DenseMap<unsigned, unsigned> groupOf;
  SmallVector<ArrayRef<int64_t>> groupShapes;
  for (auto [i, op] : llvm::enumerate(linears)) {
    unsigned root = find(i);
    ArrayRef<int64_t> s = shape(op->getResult(0));
    auto [it, inserted] = groupOf.try_emplace(root, kernel.groups.size());
    if (inserted) {
      kernel.groups.emplace_back();
      kernel.groups.back().columns = s.back();
      groupShapes.push_back(s);
    } else if (groupShapes[it->second] != s) {
      return std::nullopt;
    }
    kernel.groups[it->second].linears.push_back(op);
  }
  auto groupOfDeps = [&](uint64_t d) -> std::optional<unsigned> {
    if (!d)
      return std::nullopt;
    return groupOf.lookup(find(llvm::countr_zero(d)));
  };
  // Epilogue shapes: an op has (or broadcasts to) its group's shape, and so
  // do the block arguments it reads.
  for (Operation &op : body.without_terminator()) {
    if (isGemvProduct(&op) || &op == kernel.prologue)
      continue;
    // Every epilogue op is computed from a product: it belongs to that
    // product's group, whose element (row, column) it is computed at. Or
    // it reads block arguments only (a residual cast to f32 before the
    // add) and every op that reads it is computed from products of one
    // group: then it is that group's, computed at the same element.
    std::optional<unsigned> g = groupOfDeps(deps.lookup(op.getResult(0)));
    if (!g) {
      for (Operation *user : op.getResult(0).getUsers()) {
        std::optional<unsigned> ug =
            user == terminator || user->getBlock() != &body
                ? std::nullopt
                : groupOfDeps(deps.lookup(user->getResult(0)));
        if (!ug || (g && *g != *ug))
          return std::nullopt;
        g = ug;
      }
      if (!g)
        return std::nullopt;
    }
    ArrayRef<int64_t> gs = groupShapes[*g];
    if (!broadcastsTo(shape(op.getResult(0)), gs))
      return std::nullopt;
    for (Value v : op.getOperands())
      if (isa<BlockArgument>(v) && !broadcastsTo(shape(v), gs))
        return std::nullopt;
  }
  for (auto [i, v] : llvm::enumerate(terminator->getOperands())) {
    if (isa<BlockArgument>(v))
      return std::nullopt;
    std::optional<unsigned> g = groupOfDeps(deps.lookup(v));
    if (!g || shape(v) != groupShapes[*g])
      return std::nullopt;
    kernel.groups[*g].yields.push_back(i);
  }
  // A group that yields nothing would be computed for nothing.
  for (const GemvGroup &g : kernel.groups)
    if (g.yields.empty())
      return std::nullopt;
  return kernel;
}

bool kiln::isValidGemvSplitK(int64_t v) {
  return v == 1 || v == 2 || v == 4 || v == 8;
}



bool kiln::gemvPreload(Operation *op) {
  return moduleBool(op, kGemvPreloadAttr, kGemvPreloadDefault);
}

bool kiln::gemvMmaPreload(Operation *op) {
  return moduleBool(op, kGemvMmaPreloadAttr, kGemvMmaPreloadDefault);
}

int64_t kiln::gemvMmaMinBlocks(Operation *op) {
  return moduleInt(op, kGemvMmaMinBlocksAttr);
}

int64_t kiln::gemvBodyMinBlocks(Block &body) {
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  if (ops.empty())
    return 0;
  int64_t fit = moduleInt(ops.front(), kGemvMinBlocksAttr);
  int64_t wave = moduleInt(ops.front(), kGemvWaveMinBlocksAttr);
  if (fit < 1 && wave < 1)
    return 0;
  int64_t grid = chooseFusedLaunchDims(ops).grid;
  if (fit >= 1 && grid <= fit * kTargetSms)
    return fit;
  if (wave >= 1 && grid > wave * kTargetSms)
    return wave;
  return 0;
}

int64_t kiln::kvAttentionMinBlocks(Operation *op) {
  return moduleInt(op, kKvAttentionMinBlocksAttr);
}

bool kiln::gemvMmaAheadRule(int64_t k, int64_t l, int64_t split) {
  if (split < 1 || k % split != 0)
    return false;
  int64_t slice = k / split, round = 32 * gemvTile(l);
  return slice % round == 0 && slice / round >= 2;
}

bool kiln::gemvMmaAhead(Operation *op, int64_t k, int64_t l, int64_t split) {
  return moduleBool(op, kGemvMmaAheadAttr, gemvMmaAheadRule(k, l, split));
}

/// Bytes of an element of GEMV kernel `kernel`'s input (and weights).
static int64_t gemvElementBytes(const GemvKernel &kernel) {
  Type elt = cast<ShapedType>(kernel.input.getType()).getElementType();
  return (elt.getIntOrFloatBitWidth() + 7) / 8;
}

/// The most linears of one column of GEMV kernel `kernel`.
static int64_t gemvMaxLinears(const GemvKernel &kernel) {
  size_t l = 0;
  for (const GemvGroup &g : kernel.groups)
    l = std::max(l, g.linears.size());
  return int64_t(l);
}

int64_t kiln::gemvSplitK(const GemvKernel &kernel, Operation *op) {
  int64_t bytes = gemvElementBytes(kernel);
  int64_t vec = 16 / bytes;
  int64_t split = 0;
  if (auto attr = moduleAttr<IntegerAttr>(op, kGemvSplitKAttr))
    if (isValidGemvSplitK(attr.getInt()))
      split = attr.getInt();
  int64_t l = gemvMaxLinears(kernel);
  // kiln::nbitsDots: a warp a column, its lanes over the whole packed row.
  if (kernel.nbits)
    return 1;
  if (kernel.mma()) {
    // A step is 4 lanes x 8 elements of each of the tile's rows.
    if (!split)
      return gemvMmaSplit(kernel.k, l);
    while (split > 1 && kernel.k % (32 * split) != 0)
      split /= 2;
    return split;
  }
  if (!split) {
    // gemvPartialDots' tile: 8 loads a lane for one or two rows, else 4.
    // The fewest warps a column that make each warp's slice of the row at
    // most one round, at most 8.
    int64_t round = 32 * 16 * gemvTile(l);
    int64_t row = kernel.k * bytes;
    int64_t rounds = (row + round - 1) / round;
    split = 1;
    while (split < rounds && split < 8)
      split *= 2;
    // With the preload (the default) a warp holds its first tile across the
    // PDL wait. Two changes, each measured beside the rule before it in one
    // call (bench/RESULTS.md, H200, b1 graph):
    //  - a row of two weights (gate/up) of a round or more takes at least
    //    2 warps a column: a tile that is a whole round of two rows (gate/up
    //    on a 4 KB row) took the warp to 172 registers, one block an SM;
    //    session 10, Llama-1B's gate/up 377 -> 325 us a step alone, the
    //    step 0.933 -> 0.864 ms. Session 10 applied it to every kernel; a
    //    one-weight row of one round (Llama-1B's q/k/v, o and lm head, 4 KB
    //    rows) keeps one warp a column since session 17: q/k/v's grid 768
    //    -> 384 blocks, one wave, each block's whole rows loaded before the
    //    PDL wait; the step 0.8653 -> 0.8578 ms (the same call);
    //  - where that makes each slice exactly one round and more than 2
    //    warps share the column, half as many warps, each over two whole
    //    rounds: session 12, Llama-1B's down (16 KB rows) at 2 instead of
    //    4, the step 0.890 -> 0.865 ms (o + down 182.1 -> 147.7 us a step
    //    alone). Not where the slices are not whole rounds: Qwen2.5-0.5B's
    //    down (9.5 KB rows) at 2 instead of 4 made its step 0.568 -> 0.605
    //    ms, and Llama-3-8B's (28 KB) was slower at 2 and at 4 than at 8
    //    (an 8-layer model: 1.395 and 1.427 against 1.371 ms).
    if (gemvPreload(op)) {
      if (split == 1 && row >= round && l >= 2)
        split = 2;
      else if (split > 2 && row == split * round)
        split /= 2;
    }
  }
  while (split > 1 && kernel.k % (split * vec) != 0)
    split /= 2;
  return split;
}

int64_t kiln::gemvStageBytes(const GemvKernel &kernel, Operation *op,
                             int64_t stages) {
  return 8 * stages * gemvMaxLinears(kernel) *
         (kernel.k / gemvSplitK(kernel, op)) * gemvElementBytes(kernel);
}

/// Blocks of GEMV kernel `kernel` unstaged: S warps a column
/// (gemvSplitK), 8 warps a block, before any cap on the grid.
static int64_t gemvUnstagedBlocks(const GemvKernel &kernel, Operation *op) {
  return (kernel.units() * gemvSplitK(kernel, op) + 7) / 8;
}

/// The most shared memory a staged GEMV block's slots may take: the
/// block's few bytes of static partials (gemvSplitDots' part) fit in the
/// last KB.
static constexpr int64_t kGemvStagedSlotsMax = kSmemPerBlockMax - 1024;

/// Blocks a staged GEMV of `smem` bytes of slots a block keeps on an SM.
static int64_t gemvStagedBlocksPerSm(int64_t smem) {
  return std::max<int64_t>(
      1, std::min<int64_t>(8, kSmemPerSm / (smem + kSmemPerBlockReserved)));
}

int64_t kiln::gemvStagesRule(const GemvKernel &kernel, Operation *op) {
  int64_t blocks = gemvUnstagedBlocks(kernel, op);
  if (blocks <= kGemvStagedRuleMinGrid)
    return 0;
  int64_t slices = kernel.units() * gemvSplitK(kernel, op);
  for (int64_t stages = 1; stages <= 8; ++stages) {
    int64_t smem = gemvStageBytes(kernel, op, stages);
    if (smem > kGemvStagedSlotsMax)
      break;
    int64_t warps = 8 * gemvStagedBlocksPerSm(smem) * kTargetSms;
    if (warps * stages >= slices)
      return stages;
  }
  // Too many columns to hold at once: only a grid of many waves.
  if (blocks > kGemvStagedRuleManyWavesGrid &&
      gemvStageBytes(kernel, op, kGemvStagedRuleManyWavesSlots) <=
          kGemvStagedSlotsMax)
    return kGemvStagedRuleManyWavesSlots;
  return 0;
}

int64_t kiln::gemvStages(const GemvKernel &kernel, Operation *op) {
  if (kernel.rows != 1 || kernel.mma() || kernel.nbits ||
      (kernel.prologue && !kernel.foldedRms))
    return 0;
  // Without kiln-compile --gemv-stages: the rule.
  auto attr = moduleAttr<IntegerAttr>(op, kGemvStagesAttr);
  if (!attr)
    return gemvStagesRule(kernel, op);
  int64_t stages = attr.getInt();
  if (stages < 1)
    return 0;
  // kiln-compile --gemv-stages-min-grid: only kernels whose unstaged grid
  // is larger.
  if (int64_t minGrid = moduleInt(op, kGemvStagesMinGridAttr);
      minGrid >= 1 && gemvUnstagedBlocks(kernel, op) <= minGrid)
    return 0;
  // Each warp's slice is whole 16-byte chunks (cp.async's size): gemvSplitK
  // halves S until S vectors divide K.
  while (stages > 0 && gemvStageBytes(kernel, op, stages) > kGemvStagedSlotsMax)
    --stages;
  return stages;
}

LaunchDims kiln::chooseLaunchDims(Operation *op) {
  if (isGemv(op)) {
    int64_t n = shape(op->getOperand(1))[0];
    ArrayRef<int64_t> xs = shape(op->getOperand(0));
    if (product(xs.drop_back()) > 1) // kiln::gemv's tensor-core tiles
      return {clampGrid(((n + 7) / 8 * gemvMmaSplit(xs.back(), 1) + 7) / 8),
              256, 0};
    return {clampGrid((n + 7) / 8), 256, 0};
  }
  if (isNBitsGemv(op)) {
    auto q = cast<MatmulNBitsOp>(op);
    int64_t cols = 8 * nbitsGemvColumns(q.getK() * q.getBits() / 8);
    return {clampGrid((q.getN() + cols - 1) / cols), 256, 0};
  }
  if (KvSplitShape split = kvAttentionSplitShape(op); split.splits) {
    ArrayRef<int64_t> q = shape(op->getOperand(0));
    int64_t hkv = shape(op->getOperand(1))[1];
    return {q[0] * hkv * q[2] * split.sets * split.splits, 32 * split.warps,
            0};
  }
  if (isRowKernel(op)) {
    auto [rows, len] = rowsOf(op);
    return {clampGrid(rows), blockForReduction(len), 0};
  }
  if (auto scatter = dyn_cast<ScatterNDOp>(op)) {
    ArrayRef<int64_t> idx = shape(scatter.getIndices());
    ArrayRef<int64_t> data = shape(scatter.getData());
    int64_t q = idx.back();
    return copyLaunchDims(product(idx.drop_back()) *
                          product(data.drop_front(q)));
  }
  if (isa<SplitOp>(op))
    return copyLaunchDims(elements(op->getOperand(0)));
  // An append writes the new rows only, not the cache its results name.
  if (auto append = dyn_cast<KvAppendOp>(op))
    return copyLaunchDims(elements(append.getKey()));
  int64_t n = 0;
  for (Value r : op->getResults())
    n = std::max(n, elements(r));
  return copyLaunchDims(n);
}

std::optional<HeadSource> kiln::headSource(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return HeadSource{arg, 0, 0};
  auto transpose = v.getDefiningOp<TransposeOp>();
  if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
    return std::nullopt;
  auto reshape = transpose.getInput().getDefiningOp<ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto slice = reshape.getInput().getDefiningOp<SliceOp>();
  if (!slice)
    return std::nullopt;
  auto arg = dyn_cast<BlockArgument>(slice.getInput());
  ArrayRef<int64_t> split = shape(reshape.getResult());
  ArrayRef<int64_t> cols = shape(slice.getResult());
  if (!arg || split.size() != 4 || cols.size() != 3)
    return std::nullopt;
  ArrayRef<int64_t> from = shape(arg);
  ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
  if (from.size() != 3 || from[0] != cols[0] || from[1] != cols[1] ||
      split[0] != cols[0] || split[1] != cols[1] ||
      split[2] * split[3] != cols[2] || starts[0] != 0 || starts[1] != 0 ||
      !llvm::all_of(steps, [](int64_t x) { return x == 1; }) ||
      starts[2] + cols[2] > from[2])
    return std::nullopt;
  return HeadSource{arg, starts[2], from[2]};
}

/// The ops of `v`'s head split in a body (none for a kernel argument).
static void addHeadSplitOps(Value v, llvm::SmallPtrSetImpl<Operation *> &ops) {
  for (Operation *op = v.getDefiningOp(); op;
       op = op->getOperand(0).getDefiningOp())
    ops.insert(op);
}

Operation *kiln::headSplitKernelOp(Block &body) {
  if (body.empty())
    return nullptr;
  Operation *main = body.getTerminator()->getPrevNode();
  SmallVector<Value> reads;
  if (auto rotary = dyn_cast_or_null<RotaryOp>(main))
    reads = {rotary.getInput()};
  else if (auto append = dyn_cast_or_null<KvAppendOp>(main))
    reads = {append.getKey(), append.getValue()};
  else
    return nullptr;
  // Every other op is part of one of those operands' head splits, used
  // only there, and at least one operand is split.
  llvm::SmallPtrSet<Operation *, 8> views;
  for (Value v : reads) {
    if (!headSource(v))
      return nullptr;
    addHeadSplitOps(v, views);
  }
  if (views.empty())
    return nullptr;
  for (Operation &op : body.without_terminator()) {
    if (&op == main)
      continue;
    if (!views.contains(&op) || !op.hasOneUse())
      return nullptr;
  }
  for (Value v : body.getTerminator()->getOperands())
    if (v.getDefiningOp() != main)
      return nullptr;
  // The other operands (tables, positions, caches) are kernel arguments.
  for (Value operand : main->getOperands())
    if (!llvm::is_contained(reads, operand) && !isa<BlockArgument>(operand))
      return nullptr;
  return main;
}

std::optional<RopeAppendKernel> kiln::analyzeRopeAppendKernel(Block &body) {
  if (body.empty())
    return std::nullopt;
  RopeAppendKernel k;
  SmallVector<RotaryOp> rotaries;
  for (Operation &op : body.without_terminator()) {
    if (auto append = dyn_cast<KvAppendOp>(op)) {
      if (k.append)
        return std::nullopt;
      k.append = append;
    } else if (auto rotary = dyn_cast<RotaryOp>(op)) {
      rotaries.push_back(rotary);
    }
  }
  auto append = cast_or_null<KvAppendOp>(k.append);
  if (!append || rotaries.empty() || rotaries.size() > 2)
    return std::nullopt;
  llvm::SmallPtrSet<Operation *, 16> known = {append};
  // Operands read in place: a kernel argument or a head split of one.
  auto inPlace = [&](Value v) {
    if (!headSource(v))
      return false;
    addHeadSplitOps(v, known);
    return true;
  };
  for (RotaryOp rotary : rotaries) {
    known.insert(rotary);
    if (!inPlace(rotary.getInput()) ||
        !isa<BlockArgument>(rotary.getCos()) ||
        !isa<BlockArgument>(rotary.getSin()))
      return std::nullopt;
    bool isKey = rotary.getResult() == append.getKey();
    if (isKey ? (k.keyRotary || !rotary->hasOneUse())
              : (k.queryRotary != nullptr))
      return std::nullopt;
    (isKey ? k.keyRotary : k.queryRotary) = rotary;
  }
  if ((!k.keyRotary && !inPlace(append.getKey())) ||
      !inPlace(append.getValue()) || !isa<BlockArgument>(append.getPositions()))
    return std::nullopt;
  // Nothing else, and each head split read once.
  for (Operation &op : body.without_terminator())
    if (!known.contains(&op) ||
        (!isa<KvAppendOp, RotaryOp>(op) && !op.hasOneUse()))
      return std::nullopt;
  // The same rows and head dim throughout.
  ArrayRef<int64_t> ks = shape(append.getKey());
  if (k.queryRotary) {
    ArrayRef<int64_t> qs = shape(k.queryRotary->getResult(0));
    if (qs.size() != 4 || ks.size() != 4 || qs[0] != ks[0] ||
        qs[2] != ks[2] || qs[3] != ks[3])
      return std::nullopt;
  }
  // The append's results first, then the query's.
  SmallVector<Value> yields = {append.getKeyCache(), append.getValueCache()};
  if (k.queryRotary)
    yields.push_back(k.queryRotary->getResult(0));
  if (!llvm::equal(body.getTerminator()->getOperands(), yields))
    return std::nullopt;
  return k;
}

LaunchDims kiln::chooseFusedLaunchDims(ArrayRef<Operation *> ops) {
  // A rope-and-append kernel: a thread per element of the larger of the
  // query and the key.
  if (!ops.empty())
    if (std::optional<RopeAppendKernel> k =
            analyzeRopeAppendKernel(*ops.front()->getBlock()))
      return copyLaunchDims(std::max(
          elements(cast<KvAppendOp>(k->append).getKey()),
          k->queryRotary ? elements(k->queryRotary->getResult(0))
                         : int64_t(0)));
  // A rotary or KV append reading a merged product in place: its own
  // launch.
  if (!ops.empty())
    if (Operation *op = headSplitKernelOp(*ops.front()->getBlock()))
      return chooseLaunchDims(op);
  // kiln-fuse-kv-attention's kernels: the split attention's launch.
  if (!ops.empty())
    if (std::optional<KvAttentionKernel> attention =
            analyzeKvAttentionKernel(*ops.front()->getBlock()))
      return chooseLaunchDims(attention->attention);
  // kiln-gemv's kernels: S warps per output column (gemvSplitK), 8 warps
  // per block.
  if (!ops.empty())
    if (std::optional<GemvKernel> gemv =
            analyzeGemvKernel(*ops.front()->getBlock())) {
      int64_t grid = std::min(
          clampGrid(gemvUnstagedBlocks(*gemv, ops.front())),
          gemv->prologue && !gemv->foldedRms ? kGemvPrologueGrid
                                             : int64_t(65535));
      // Staged (gemvStages): the blocks whose slots fit on the SMs at once
      // (at most 8 of 256 threads an SM), each looping over its columns.
      if (int64_t stages = gemvStages(*gemv, ops.front())) {
        int64_t smem = gemvStageBytes(*gemv, ops.front(), stages);
        return {std::min(grid, gemvStagedBlocksPerSm(smem) * kTargetSms),
                256, smem};
      }
      return {grid, 256, 0};
    }
  int64_t n = 0;
  for (Operation *op : ops)
    for (Value r : op->getResults())
      n = std::max(n, elements(r));
  return copyLaunchDims(n);
}

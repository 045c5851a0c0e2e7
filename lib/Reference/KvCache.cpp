//===- KvCache.cpp - reference evaluation of the KV cache ops -------------===//
//
// kiln.kv_append and kiln.kv_attention on the reference backend
// (docs/kv-cache.md). The cache is bytes, laid out as the artifact's and the
// runtime's: `[layer][key, value][max_batch][kv_heads][max_seq][head_dim]`
// of the cache's element type. At the graph level they are the run's
// ref::State bytes for the cache's symbol; at the scheduled level the bytes
// of the function's kiln.kv_region, which are that same State's. An append
// writes only the new slots (those outside [0, max_seq) are skipped);
// kv_attention is pure and accumulates in double, as kiln.attention does.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

int64_t kern::kvCacheBytes(Operation *cacheOp) {
  auto cache = cast<KvCacheOp>(cacheOp);
  return int64_t(cache.getLayers()) * 2 * cache.getBlockElements() *
         byteWidth(cache.getElementType());
}

FailureOr<MutableArrayRef<uint8_t>>
kern::kvCacheState(Operation *cacheOp, State &state, Operation *user) {
  auto cache = cast<KvCacheOp>(cacheOp);
  int64_t size = kvCacheBytes(cache);
  if (size > kMaxTensorElements * int64_t(8))
    return user->emitError("reference backend: the KV cache '")
           << cache.getSymName() << "' has " << size
           << " bytes, more than the reference backend holds";
  auto [it, created] = state.kvCaches.try_emplace(cache.getSymName().str());
  if (created)
    it->second.assign(size, 0);
  if ((int64_t)it->second.size() != size)
    return user->emitError("reference backend: the state holds ")
           << it->second.size() << " bytes for the KV cache '"
           << cache.getSymName() << "', which has " << size;
  return MutableArrayRef<uint8_t>(it->second);
}

LogicalResult kern::writeKvSlots(const Tensor &rows, const Tensor &positions,
                                 int64_t maxSeq, Type elementType,
                                 MutableArrayRef<uint8_t> block,
                                 Operation *user) {
  if (rows.shape.size() != 4 || positions.shape.size() != 1 ||
      positions.shape[0] != rows.shape[0] || rows.kind != Kind::F32 ||
      positions.kind != Kind::I64)
    return user->emitError("reference backend: kv_append rows must be "
                           "[B, H, S, D] floats with [B] integer positions");
  int64_t B = rows.shape[0], H = rows.shape[1], S = rows.shape[2],
          D = rows.shape[3];
  int64_t width = byteWidth(elementType);
  if (B * H * maxSeq * D * width > (int64_t)block.size())
    return user->emitError("reference backend: the cache block has ")
           << block.size() << " bytes, [" << B << ", " << H << ", " << maxSeq
           << ", " << D << "] of " << elementType << " need "
           << B * H * maxSeq * D * width;
  // One [D] row at a time, converted to the cache's element type by toBytes.
  Tensor row;
  row.kind = Kind::F32;
  row.elementType = elementType;
  row.shape = {D};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      int64_t slot = positions.i[b] + s;
      if (slot < 0 || slot >= maxSeq)
        continue; // the runtime refuses such a step before it runs
      for (int64_t h = 0; h < H; ++h) {
        const float *src = rows.f.data() + ((b * H + h) * S + s) * D;
        row.f.assign(src, src + D);
        row.toBytes(block.data() + ((b * H + h) * maxSeq + slot) * D * width);
      }
    }
  return success();
}

Result kern::evalKvAppend(Operation *op, ArrayRef<Tensor> in, State &state) {
  auto append = cast<KvAppendOp>(op);
  if (in.size() != 3)
    return op->emitError("reference backend: kiln.kv_append takes 3 "
                         "operands, got ")
           << in.size();
  for (auto [v, t] : llvm::zip_equal(op->getOperands(), in))
    if (cast<ShapedType>(v.getType()).getShape() != ArrayRef<int64_t>(t.shape))
      return op->emitError(
          "reference backend operand shape does not match the IR");
  KvCacheOp cache = append.getCacheOp();
  if (!cache)
    return op->emitError("reference backend: '")
           << append.getCache() << "' does not name a kiln.kv_cache";
  FailureOr<MutableArrayRef<uint8_t>> bytes = kvCacheState(cache, state, op);
  if (failed(bytes))
    return failure();
  Type elt = cache.getElementType();
  int64_t width = byteWidth(elt);
  auto resultType = cast<RankedTensorType>(append.getKeyCache().getType());
  int64_t blockBytes = resultType.getNumElements() * width;
  SmallVector<Tensor> results;
  for (auto [kind, rows] : llvm::enumerate(in.take_front(2))) {
    int64_t offset = cache.getBlockOffset(append.getLayer(), kind == 1) * width;
    MutableArrayRef<uint8_t> block = bytes->slice(offset, blockBytes);
    if (failed(writeKvSlots(rows, in[2], cache.getMaxSeq(), elt, block, op)))
      return failure();
    // Rows 0..B-1 of the block: one contiguous [B, H, max_seq, D] tensor.
    results.push_back(Tensor::fromBytes(resultType, block.data()));
  }
  return results;
}

namespace {

Result kvAttention(KvAttentionOp op, ArrayRef<Tensor> in) {
  const Tensor &pos = in[3];
  const Tensor *mask = op.getMask() ? &in[4] : nullptr;
  Tensor out = resultLike(op);
  // Query s of row b sits at slot positions[b] + s and sees keys 0..that.
  attendRows(in[0], in[1], in[2], mask, op.getScale().convertToFloat(),
             std::nullopt,
             [&](int64_t b, int64_t s) { return pos.i[b] + s + 1; }, out);
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalKv(Operation *op, ArrayRef<Tensor> in) {
  if (auto a = dyn_cast<KvAttentionOp>(op))
    return kvAttention(a, in);
  if (isa<KvAppendOp>(op))
    return Result(op->emitError(
        "reference backend: kiln.kv_append reads and writes the KV cache, "
        "so it runs only inside a function run (runFunction holds the "
        "cache's state), not as a single op"));
  return std::nullopt;
}

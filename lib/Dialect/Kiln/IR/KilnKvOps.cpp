//===- KilnKvOps.cpp - the KV cache ops ----------------------------------===//
//
// Verifiers and inference of kiln.kv_cache, kiln.kv_append and
// kiln.kv_attention (docs/kv-cache.md). Every diagnostic is emitted at the op
// and says what was expected.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace kiln;

namespace {
RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

LogicalResult KvCacheOp::verify() {
  if (getLayout() != "bhsd")
    return emitOpError("layout '") << getLayout()
                                   << "' is not supported (only 'bhsd')";
  // One cache per module: kiln.kv_region, the artifact's kv_cache record and
  // the runtime all name "the" cache.
  for (KvCacheOp other : (*this)->getBlock()->getOps<KvCacheOp>()) {
    if (other == *this)
      break;
    return emitOpError("is the module's second kiln.kv_cache (one cache per "
                       "module)");
  }
  // Its bytes are one kiln.kv_region buffer at the scheduled level, so they
  // are bounded as every buffer is (shapedByteSize: kMaxElements bytes).
  int64_t bytes = getElementType().getIntOrFloatBitWidth() / 8;
  int64_t total = bytes;
  for (int64_t d : {int64_t(getLayers()), int64_t(2), int64_t(getMaxBatch()),
                    int64_t(getKvHeads()), int64_t(getMaxSeq()),
                    int64_t(getHeadDim())}) {
    if (total > kMaxElements / d)
      return emitOpError("cache of ")
             << getLayers() << " layers x 2 x " << getMaxBatch() << " x "
             << getKvHeads() << " x " << getMaxSeq() << " x " << getHeadDim()
             << " elements is too large";
    total *= d;
  }
  return success();
}

KvCacheOp KvAppendOp::getCacheOp() {
  return SymbolTable::lookupNearestSymbolFrom<KvCacheOp>(*this,
                                                         getCacheAttr());
}

LogicalResult KvAppendOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto cache = tables.lookupNearestSymbolFrom<KvCacheOp>(*this, getCacheAttr());
  if (!cache)
    return emitOpError("'") << getCache()
                            << "' does not name a kiln.kv_cache";
  if (getLayer() >= cache.getLayers())
    return emitOpError("layer ") << getLayer() << " is out of range: '"
                                 << getCache() << "' has " << cache.getLayers()
                                 << " layers";
  auto k = rtt(getKey());
  int64_t b = k.getShape()[0];
  int64_t maxBatch = cache.getMaxBatch(),
          kvHeads = cache.getKvHeads(), headDim = cache.getHeadDim(),
          maxSeq = cache.getMaxSeq();
  if (b > maxBatch)
    return emitOpError("batch ") << b << " exceeds the cache's max_batch "
                                 << cache.getMaxBatch();
  if (k.getShape()[1] != kvHeads || k.getShape()[3] != headDim)
    return emitOpError("key ")
           << shapeStr(k.getShape()) << " does not match the cache's "
           << cache.getKvHeads() << " kv heads of dim " << cache.getHeadDim();
  if (k.getShape()[2] > maxSeq)
    return emitOpError("appends ") << k.getShape()[2]
                                   << " tokens, more than the cache's max_seq "
                                   << cache.getMaxSeq();
  if (k.getElementType() != cache.getElementType())
    return emitOpError("key element type ")
           << k.getElementType() << " differs from the cache's "
           << cache.getElementType();
  SmallVector<int64_t> full = {b, kvHeads, maxSeq, headDim};
  for (Value r : getResults())
    if (rtt(r).getShape() != ArrayRef<int64_t>(full) ||
        rtt(r).getElementType() != cache.getElementType())
      return emitOpError("results must be the layer's cache rows ")
             << shapeStr(full) << " of " << cache.getElementType()
             << ", got " << r.getType();
  return success();
}

LogicalResult KvAppendOp::verify() {
  auto k = rtt(getKey()), v = rtt(getValue()), p = rtt(getPositions());
  if (k.getRank() != 4)
    return emitOpError("key must be rank 4 [B, kv_heads, S, head_dim], got ")
           << k;
  if (v != k)
    return emitOpError("value ") << v << " differs from key " << k;
  if (p.getRank() != 1 || p.getShape()[0] != k.getShape()[0])
    return emitOpError("positions must be [")
           << k.getShape()[0] << "] (one slot per row), got " << p;
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value cache results differ");
  return success();
}

LogicalResult KvAttentionOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  auto q = rtt(adaptor.getQuery()), k = rtt(adaptor.getKeyCache()),
       v = rtt(adaptor.getValueCache()), p = rtt(adaptor.getPositions());
  const char *op = "'kiln.kv_attention' op ";
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOptionalError(loc, op,
                             "query, key and value caches must be rank 4 "
                             "[B, H, S, D]");
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return emitOptionalError(loc, op, "element types differ");
  auto qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  if (qs[0] != ks[0] || ks[0] != vs[0])
    return emitOptionalError(loc, op, "batch sizes differ");
  if (ks[1] != vs[1] || ks[2] != vs[2])
    return emitOptionalError(loc, op,
                             "key and value caches differ in heads or length");
  if (ks[1] == 0 || qs[1] % ks[1] != 0)
    return emitOptionalError(loc, op, "query heads ", qs[1],
                             " are not a multiple of kv heads ", ks[1]);
  if (qs[3] != ks[3])
    return emitOptionalError(loc, op, "query head dim ", qs[3],
                             " differs from key head dim ", ks[3]);
  if (qs[2] > ks[2])
    return emitOptionalError(loc, op, "query length ", qs[2],
                             " exceeds the cache length ", ks[2]);
  if (p.getRank() != 1 || p.getShape()[0] != qs[0])
    return emitOptionalError(loc, op, "positions must be [", qs[0], "], got ",
                             p);
  if (Value mask = adaptor.getMask()) {
    Type maskElt = rtt(mask).getElementType();
    // An f32 mask may sit beside 16-bit data (kiln-lower-precision).
    bool f32Mask = maskElt.isF32() && (q.getElementType().isBF16() ||
                                       q.getElementType().isF16());
    if (!maskElt.isInteger(1) && maskElt != q.getElementType() && !f32Mask)
      return emitOptionalError(loc, op,
                               "mask must be i1 or the query's element type, "
                               "got ",
                               maskElt);
    SmallVector<int64_t> full = {qs[0], qs[1], qs[2], ks[2]};
    if (!isBroadcastableTo(rtt(mask).getShape(), full))
      return emitOptionalError(loc, op, "mask shape ",
                               shapeStr(rtt(mask).getShape()),
                               " does not broadcast to ", shapeStr(full));
  }
  results.push_back(
      RankedTensorType::get({qs[0], qs[1], qs[2], vs[3]}, q.getElementType()));
  return success();
}

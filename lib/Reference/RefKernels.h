//===- RefKernels.h - reference kernels, internal ---------------*- C++ -*-===//
//
// Internal interface between the reference backend's op dispatcher and its
// kernel groups, plus index helpers they share.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_REFERENCE_REFKERNELS_H
#define KILN_LIB_REFERENCE_REFKERNELS_H

#include "kiln/Dialect/Kiln/IR/KilnAttrs.h"
#include "kiln/Reference/Evaluator.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>

namespace kiln::ref::kern {

using Result = mlir::FailureOr<llvm::SmallVector<Tensor>>;

/// Row-major strides of `shape`.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);

/// Strides of `shape` seen through a broadcast to `outShape` (0 on broadcast
/// dims, leading dims padded with 0).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> shape,
                                            llvm::ArrayRef<int64_t> outShape);

/// Calls fn(outIndex, offsets...) for every element of `outShape`, where
/// offsets[j] is the flat index into operand j given its strides.
void forEachBroadcast(llvm::ArrayRef<int64_t> outShape,
                      llvm::ArrayRef<llvm::SmallVector<int64_t>> strides,
                      llvm::function_ref<void(int64_t, llvm::ArrayRef<int64_t>)> fn);

/// The batched product of kiln.matmul and kiln.gemm: for every batch item
/// (operand batch dims broadcast to `outShape`'s), row i and column j of
/// the f32 result, acc = seed(j) + sum_p a[i,p] * b[p,j] (b[j,p] when
/// `transB`) in double, then store(flat output index, j, acc).
void batchedMatmul(const Tensor &a, const Tensor &b, bool transB,
                   llvm::ArrayRef<int64_t> outShape,
                   llvm::function_ref<double(int64_t)> seed,
                   llvm::function_ref<void(int64_t, int64_t, double)> store);

/// A row-major shape seen around `axis`: the product of the dims before it,
/// the axis extent, and the product of the dims after it.
struct AxisExtents {
  int64_t outer, n, inner;
};
inline AxisExtents splitAround(llvm::ArrayRef<int64_t> shape, int64_t axis) {
  AxisExtents e{1, shape[axis], 1};
  for (int64_t d = 0; d < axis; ++d)
    e.outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    e.inner *= shape[d];
  return e;
}

/// Element k of `t` as a double.
inline double getD(const Tensor &t, int64_t k) {
  return t.kind == Kind::F32 ? (double)t.f[k] : (double)t.i[k];
}
/// out[at] = upd[from] combined by a scatter's reduction (none replaces;
/// add, mul, max, min with what out holds; integers add and multiply
/// wrapping). kiln.scatter_elements and kiln.scatter_nd share it.
void scatterCombine(Tensor &out, int64_t at, const Tensor &upd, int64_t from,
                    kiln::ScatterReduction red);

/// An empty tensor of the op's result type `idx`.
Tensor resultLike(mlir::Operation *op, unsigned idx = 0);

/// Kernel groups: return std::nullopt when the op is not theirs.
std::optional<Result> evalElementwise(mlir::Operation *op,
                                      llvm::ArrayRef<Tensor> operands);
std::optional<Result> evalStructured(mlir::Operation *op,
                                     llvm::ArrayRef<Tensor> operands);
std::optional<Result> evalMovement(mlir::Operation *op,
                                   llvm::ArrayRef<Tensor> operands);
/// The quantised-weight ops (Quant.cpp): kiln.matmul_nbits.
std::optional<Result> evalQuant(mlir::Operation *op,
                                llvm::ArrayRef<Tensor> operands);
/// gather_elements, arg_max / arg_min, cumsum, top_k (Indexing.cpp).
std::optional<Result> evalIndexing(mlir::Operation *op,
                                   llvm::ArrayRef<Tensor> operands);
/// Evaluates a single-block body (a kiln.fusion's or a kiln.kernel's) op by
/// op with its arguments bound to `in`, and returns what its kiln.yield
/// yields. Errors are located at the op that fails, or at `owner`.
Result evalBody(mlir::Block &body, llvm::ArrayRef<Tensor> in,
                mlir::Operation *owner);
/// The fused level: kiln.fusion (its body, op by op) and kiln.gemm (either
/// form; the buffer form's product is returned as its one result).
std::optional<Result> evalFused(mlir::Operation *op,
                                llvm::ArrayRef<Tensor> operands);

/// softmax(q k^T * scale + mask) v per head (grouped-query: query head h
/// reads kv head h / (Hq / Hkv)), written into `out` [B, Hq, S, Dv]: query s
/// of row b scores keys t < keyCount(b, s) (the others are not read); with
/// `causalShift`, key t > s + *causalShift scores -inf; the mask broadcasts
/// to [B, Hq, S, T] (i1 true = attend, or additive). A query with no key
/// left yields zeros. kiln.attention and kiln.kv_attention share it.
void attendRows(const Tensor &q, const Tensor &k, const Tensor &v,
                const Tensor *mask, double scale,
                std::optional<int64_t> causalShift,
                llvm::function_ref<int64_t(int64_t b, int64_t s)> keyCount,
                Tensor &out);

/// The KV cache ops (KvCache.cpp): kiln.kv_attention; kiln.kv_append is a
/// located error here (it needs the run's State: evalKvAppend).
std::optional<Result> evalKv(mlir::Operation *op,
                             llvm::ArrayRef<Tensor> operands);

/// Bytes of the whole cache `cacheOp` (a kiln.kv_cache): layers x 2 x
/// max_batch x kv_heads x max_seq x head_dim elements.
int64_t kvCacheBytes(mlir::Operation *cacheOp);

/// `state`'s bytes of the cache `cacheOp` (a kiln.kv_cache), created zeroed
/// when absent; a located error at `user` when the state holds another size.
mlir::FailureOr<llvm::MutableArrayRef<uint8_t>>
kvCacheState(mlir::Operation *cacheOp, State &state, mlir::Operation *user);

/// Writes `rows` ([B, H, S, D]) at slots positions[b] + s of `block`, the
/// bytes of a [B', H, maxSeq, D] cache block (B' >= B) of `elementType`;
/// slots outside [0, maxSeq) are skipped and nothing else is touched.
mlir::LogicalResult writeKvSlots(const Tensor &rows, const Tensor &positions,
                                 int64_t maxSeq, mlir::Type elementType,
                                 llvm::MutableArrayRef<uint8_t> block,
                                 mlir::Operation *user);

/// kiln.kv_append (`op`) at the graph level: writes the new keys and values
/// into `state`'s bytes of its cache and returns the layer's rows 0..B-1.
Result evalKvAppend(mlir::Operation *op, llvm::ArrayRef<Tensor> operands,
                    State &state);

} // namespace kiln::ref::kern

#endif // KILN_LIB_REFERENCE_REFKERNELS_H

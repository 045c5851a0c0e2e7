//===- Movement.cpp - reference data-movement kernels ---------------------===//
//
// Gather, reshape, transpose, slice, concat, split, expand, trilu, scatter_nd
// and constants on reference tensors. Pure index arithmetic: values are copied
// bit for bit.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

namespace {

/// Copies element `src` of `from` into element `dst` of `to` (same kind).
inline void copyElt(Tensor &to, int64_t dst, const Tensor &from, int64_t src) {
  if (to.kind == Kind::F32)
    to.f[dst] = from.f[src];
  else
    to.i[dst] = from.i[src];
}

/// Output element k reads input offset o[0] (strides describe the mapping).
Result gatherBy(Operation *op, const Tensor &x, SmallVector<int64_t> strides,
                int64_t base = 0) {
  Tensor out = resultLike(op);
  SmallVector<SmallVector<int64_t>> s = {std::move(strides)};
  forEachBroadcast(out.shape, s, [&](int64_t k, ArrayRef<int64_t> o) {
    copyElt(out, k, x, base + o[0]);
  });
  return SmallVector<Tensor>{std::move(out)};
}

Result gather(GatherOp op, const Tensor &data, const Tensor &idx) {
  Tensor out = resultLike(op);
  int64_t axis = op.getAxis();
  auto [outer, n, inner] = splitAround(data.shape, axis);
  int64_t m = idx.numElements();
  for (int64_t j = 0; j < m; ++j) {
    int64_t v = idx.i[j];
    if (v < -n || v >= n) {
      op.emitError("gather index ") << v << " is out of range [" << -n << ", "
                                    << n << ")";
      return failure();
    }
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j) {
      int64_t v = idx.i[j] < 0 ? idx.i[j] + n : idx.i[j];
      for (int64_t i = 0; i < inner; ++i)
        copyElt(out, (o * m + j) * inner + i, data, (o * n + v) * inner + i);
    }
  return SmallVector<Tensor>{std::move(out)};
}

Result transpose(TransposeOp op, const Tensor &x) {
  SmallVector<int64_t> in = stridesOf(x.shape), s;
  for (int64_t p : op.getPerm())
    s.push_back(in[p]);
  return gatherBy(op, x, s);
}

Result slice(SliceOp op, const Tensor &x) {
  SmallVector<int64_t> in = stridesOf(x.shape), s;
  int64_t base = 0;
  for (auto [d, st] : llvm::enumerate(op.getSteps())) {
    s.push_back(in[d] * st);
    base += op.getStarts()[d] * in[d];
  }
  return gatherBy(op, x, s, base);
}

Result concat(ConcatOp op, ArrayRef<Tensor> in) {
  Tensor out = resultLike(op);
  int64_t axis = op.getAxis();
  auto [outer, total, inner] = splitAround(out.shape, axis);
  int64_t at = 0;
  for (const Tensor &t : in) {
    int64_t n = t.shape[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < n * inner; ++j)
        copyElt(out, (o * total + at) * inner + j, t, o * n * inner + j);
    at += n;
  }
  return SmallVector<Tensor>{std::move(out)};
}

Result split(SplitOp op, const Tensor &x) {
  SmallVector<Tensor> outs;
  int64_t axis = op.getAxis();
  auto [outer, total, inner] = splitAround(x.shape, axis);
  int64_t at = 0;
  for (unsigned r = 0; r < op->getNumResults(); ++r) {
    Tensor out = resultLike(op, r);
    int64_t n = out.shape[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < n * inner; ++j)
        copyElt(out, o * n * inner + j, x, (o * total + at) * inner + j);
    at += n;
    outs.push_back(std::move(out));
  }
  return outs;
}

Result trilu(TriluOp op, const Tensor &x) {
  Tensor out = resultLike(op);
  size_t r = x.shape.size();
  int64_t rows = x.shape[r - 2], cols = x.shape[r - 1];
  int64_t k = op.getDiagonal();
  bool upper = op.getUpper();
  int64_t n = x.numElements();
  for (int64_t e = 0; e < n; ++e) {
    int64_t j = e % cols, i = (e / cols) % rows;
    bool keep = upper ? (j - i >= k) : (j - i <= k);
    if (keep)
      copyElt(out, e, x, e);
  }
  return SmallVector<Tensor>{std::move(out)};
}

Result scatterND(ScatterNDOp op, ArrayRef<Tensor> in) {
  const Tensor &data = in[0], &idx = in[1], &upd = in[2];
  Tensor out = data;
  out.elementType = data.elementType;
  int64_t q = idx.shape.back();
  int64_t slices = q ? idx.numElements() / q : 0;
  int64_t sliceSize = 1;
  for (size_t d = q; d < data.shape.size(); ++d)
    sliceSize *= data.shape[d];
  SmallVector<int64_t> st = stridesOf(data.shape);
  for (int64_t s = 0; s < slices; ++s) {
    int64_t base = 0;
    for (int64_t j = 0; j < q; ++j) {
      int64_t v = idx.i[s * q + j], dim = data.shape[j];
      if (v < -dim || v >= dim) {
        op.emitError("scatter_nd index ") << v << " is out of range for dim "
                                          << j << " of size " << dim;
        return failure();
      }
      base += (v < 0 ? v + dim : v) * st[j];
    }
    ScatterReduction red = op.getReduction();
    for (int64_t e = 0; e < sliceSize; ++e) {
      if (red == ScatterReduction::None)
        copyElt(out, base + e, upd, s * sliceSize + e);
      else
        scatterCombine(out, base + e, upd, s * sliceSize + e, red);
    }
  }
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalMovement(Operation *op,
                                           ArrayRef<Tensor> in) {
  return llvm::TypeSwitch<Operation *, std::optional<Result>>(op)
      .Case([&](ConstantOp c) -> std::optional<Result> {
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        if (!dense) {
          op->emitError("reference backend needs a dense constant");
          return Result(failure());
        }
        return Result(SmallVector<Tensor>{Tensor::fromAttr(dense)});
      })
      .Case([&](GatherOp g) { return gather(g, in[0], in[1]); })
      .Case([&](ReshapeOp) -> std::optional<Result> {
        Tensor out = in[0];
        out.shape = resultLike(op).shape;
        return Result(SmallVector<Tensor>{std::move(out)});
      })
      .Case([&](TransposeOp t) { return transpose(t, in[0]); })
      .Case([&](SliceOp s) { return slice(s, in[0]); })
      .Case([&](ConcatOp c) { return concat(c, in); })
      .Case([&](SplitOp s) { return split(s, in[0]); })
      .Case([&](ExpandOp) {
        Tensor out = resultLike(op);
        return gatherBy(op, in[0], broadcastStrides(in[0].shape, out.shape));
      })
      .Case([&](TriluOp t) { return trilu(t, in[0]); })
      .Case([&](ScatterNDOp s) { return scatterND(s, in); })
      .Default([](Operation *) { return std::nullopt; });
}

//===- Indexing.cpp - reference kernels that select along an axis ---------===//
//
// kiln.gather_elements, kiln.scatter_elements, kiln.arg_max / kiln.arg_min,
// kiln.cumsum and kiln.top_k. Indices are checked here (a located error, never an
// out-of-bounds read); sums accumulate in double (floats) or int64
// (integers, wrapping).
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

namespace {

Result gatherElements(GatherElementsOp op, const Tensor &data,
                      const Tensor &idx) {
  Tensor out = resultLike(op);
  int64_t axis = (int64_t)op.getAxis(), n = data.shape[axis];
  SmallVector<int64_t> dataStrides = stridesOf(data.shape);
  SmallVector<int64_t> coord(idx.shape.size(), 0);
  for (int64_t k = 0, e = out.numElements(); k < e; ++k) {
    int64_t rem = k;
    for (int64_t d = (int64_t)idx.shape.size() - 1; d >= 0; --d) {
      coord[d] = idx.shape[d] ? rem % idx.shape[d] : 0;
      rem = idx.shape[d] ? rem / idx.shape[d] : 0;
    }
    int64_t i = idx.i[k];
    if (i < -n || i >= n) {
      op.emitError("index ") << i << " is out of range [" << -n << ", " << n
                             << ") of axis " << axis;
      return failure();
    }
    if (i < 0)
      i += n;
    int64_t src = 0;
    for (size_t d = 0; d < coord.size(); ++d)
      src += ((int64_t)d == axis ? i : coord[d]) * dataStrides[d];
    if (data.kind == Kind::F32)
      out.f[k] = data.f[src];
    else
      out.i[k] = data.i[src];
  }
  return SmallVector<Tensor>{std::move(out)};
}

/// True when `a` is strictly better than `b` for an arg-max (`max`) or
/// arg-min; a NaN beats every number (numpy's argmax / argmin).
bool better(double a, double b, bool max) {
  if (std::isnan(b))
    return false;
  if (std::isnan(a))
    return true;
  return max ? a > b : a < b;
}

Result argReduce(Operation *op, const Tensor &x, int64_t axis, bool max,
                 bool last) {
  Tensor out = resultLike(op);
  AxisExtents ext = splitAround(x.shape, axis);
  int64_t outer = ext.outer, n = ext.n, inner = ext.inner;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t bestAt = 0;
      double best = getD(x, o * n * inner + i);
      for (int64_t j = 1; j < n; ++j) {
        double v = getD(x, (o * n + j) * inner + i);
        bool tie = !better(v, best, max) && !better(best, v, max);
        if (better(v, best, max) || (last && tie)) {
          best = v;
          bestAt = j;
        }
      }
      out.i[o * inner + i] = bestAt;
    }
  return SmallVector<Tensor>{std::move(out)};
}

/// kiln.cumsum (`product` false) and kiln.cumprod.
template <typename OpTy>
Result cumulate(OpTy op, const Tensor &x, bool product) {
  Tensor out = resultLike(op);
  AxisExtents ext = splitAround(x.shape, (int64_t)op.getAxis());
  int64_t outer = ext.outer, n = ext.n, inner = ext.inner;
  bool exclusive = op.getExclusive(), reverse = op.getReverse();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = product ? 1 : 0;
      uint64_t iacc = product ? 1 : 0;
      auto step = [&](int64_t k) {
        if (x.kind == Kind::F32)
          acc = product ? acc * x.f[k] : acc + x.f[k];
        else
          iacc = product ? iacc * (uint64_t)x.i[k] : iacc + (uint64_t)x.i[k];
      };
      for (int64_t s = 0; s < n; ++s) {
        int64_t j = reverse ? n - 1 - s : s;
        int64_t k = (o * n + j) * inner + i;
        if (!exclusive)
          step(k);
        if (x.kind == Kind::F32)
          out.f[k] = (float)acc;
        else
          out.i[k] = (int64_t)iacc;
        if (exclusive)
          step(k);
      }
    }
  return SmallVector<Tensor>{std::move(out)};
}

Result topK(TopKOp op, const Tensor &x) {
  Tensor values = resultLike(op, 0), indices = resultLike(op, 1);
  int64_t axis = (int64_t)op.getAxis(), k = (int64_t)op.getK();
  bool largest = op.getLargest();
  AxisExtents ext = splitAround(x.shape, axis);
  int64_t outer = ext.outer, n = ext.n, inner = ext.inner;
  std::vector<int64_t> order(n);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      std::iota(order.begin(), order.end(), 0);
      // Stable: equal elements keep the order of their indices.
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return better(getD(x, at(a)), getD(x, at(b)), largest);
      });
      for (int64_t j = 0; j < k; ++j) {
        int64_t dst = (o * k + j) * inner + i;
        if (x.kind == Kind::F32)
          values.f[dst] = x.f[at(order[j])];
        else
          values.i[dst] = x.i[at(order[j])];
        indices.i[dst] = order[j];
      }
    }
  return SmallVector<Tensor>{std::move(values), std::move(indices)};
}

} // namespace

void kern::scatterCombine(Tensor &out, int64_t at, const Tensor &upd,
                          int64_t from, ScatterReduction red) {
  auto combine = [&](auto old, auto u) -> decltype(old) {
    switch (red) {
    case ScatterReduction::None:
      return u;
    case ScatterReduction::Add:
      return old + u;
    case ScatterReduction::Mul:
      return old * u;
    case ScatterReduction::Max:
      return old > u ? old : u;
    case ScatterReduction::Min:
      return old < u ? old : u;
    }
    return u;
  };
  if (out.kind == Kind::F32)
    out.f[at] = combine(out.f[at], upd.f[from]);
  else if (red == ScatterReduction::Add || red == ScatterReduction::Mul)
    // Wrapping integer arithmetic (no signed-overflow UB).
    out.i[at] = (int64_t)combine((uint64_t)out.i[at], (uint64_t)upd.i[from]);
  else
    out.i[at] = combine(out.i[at], upd.i[from]);
}

namespace {

Result scatterElements(ScatterElementsOp op, const Tensor &data,
                       const Tensor &idx, const Tensor &upd) {
  Tensor out = data;
  int64_t axis = (int64_t)op.getAxis(), n = data.shape[axis];
  ScatterReduction red = op.getReduction();
  SmallVector<int64_t> dataStrides = stridesOf(data.shape);
  SmallVector<int64_t> coord(idx.shape.size(), 0);
  for (int64_t k = 0, e = idx.numElements(); k < e; ++k) {
    int64_t rem = k;
    for (int64_t d = (int64_t)idx.shape.size() - 1; d >= 0; --d) {
      coord[d] = rem % idx.shape[d];
      rem /= idx.shape[d];
    }
    int64_t i = idx.i[k];
    if (i < -n || i >= n) {
      op.emitError("index ") << i << " is out of range [" << -n << ", " << n
                             << ") of axis " << axis;
      return failure();
    }
    if (i < 0)
      i += n;
    int64_t dst = 0;
    for (size_t d = 0; d < coord.size(); ++d)
      dst += ((int64_t)d == axis ? i : coord[d]) * dataStrides[d];
    scatterCombine(out, dst, upd, k, red);
  }
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalIndexing(Operation *op, ArrayRef<Tensor> in) {
  return llvm::TypeSwitch<Operation *, std::optional<Result>>(op)
      .Case([&](GatherElementsOp g) { return gatherElements(g, in[0], in[1]); })
      .Case([&](ArgMaxOp a) {
        return argReduce(op, in[0], (int64_t)a.getAxis(), /*max=*/true,
                         a.getSelectLastIndex());
      })
      .Case([&](ArgMinOp a) {
        return argReduce(op, in[0], (int64_t)a.getAxis(), /*max=*/false,
                         a.getSelectLastIndex());
      })
      .Case([&](CumsumOp c) { return cumulate(c, in[0], false); })
      .Case([&](CumprodOp c) { return cumulate(c, in[0], true); })
      .Case([&](TopKOp t) { return topK(t, in[0]); })
      .Case([&](ScatterElementsOp s) {
        return scatterElements(s, in[0], in[1], in[2]);
      })
      .Default([](Operation *) { return std::nullopt; });
}

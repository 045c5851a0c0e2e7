//===- Structured.cpp - reference matmul, reduction, norm, attention ------===//
//
// Reference kernels with an inner reduction: matmul and linear, reductions,
// softmax, layer and RMS norm, attention and rotary embedding. Every dot
// product and reduction accumulates in double.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

void kern::batchedMatmul(const Tensor &a, const Tensor &b, bool transB,
                         ArrayRef<int64_t> outShape,
                         function_ref<double(int64_t)> seed,
                         function_ref<void(int64_t, int64_t, double)> store) {
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t m = a.shape[ra - 2], k = a.shape[ra - 1];
  int64_t n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  ArrayRef<int64_t> batch = outShape.drop_back(2);
  SmallVector<SmallVector<int64_t>> strides = {
      broadcastStrides(ArrayRef<int64_t>(a.shape).drop_back(2), batch),
      broadcastStrides(ArrayRef<int64_t>(b.shape).drop_back(2), batch)};
  forEachBroadcast(batch, strides, [&](int64_t bi, ArrayRef<int64_t> o) {
    const float *pa = a.f.data() + o[0] * m * k;
    const float *pb = b.f.data() + o[1] * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = seed(j);
        for (int64_t p = 0; p < k; ++p)
          acc += (double)pa[i * k + p] *
                 (transB ? pb[j * k + p] : pb[p * n + j]);
        store(bi * m * n + i * n + j, j, acc);
      }
  });
}

void kern::attendRows(const Tensor &q, const Tensor &k, const Tensor &v,
                      const Tensor *mask, double scale,
                      std::optional<int64_t> causalShift,
                      function_ref<int64_t(int64_t, int64_t)> keyCount,
                      Tensor &out) {
  int64_t B = q.shape[0], Hq = q.shape[1], S = q.shape[2], D = q.shape[3];
  int64_t Hkv = k.shape[1], T = k.shape[2], Dv = v.shape[3];
  int64_t group = Hq / Hkv;
  SmallVector<int64_t> full = {B, Hq, S, T};
  SmallVector<int64_t> mStr;
  if (mask)
    mStr = broadcastStrides(mask->shape, full);
  std::vector<double> score(T);
  const double ninf = -std::numeric_limits<double>::infinity();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t hk = h / group;
      for (int64_t s = 0; s < S; ++s) {
        int64_t keys = std::min(keyCount(b, s), T);
        const float *pq = q.f.data() + ((b * Hq + h) * S + s) * D;
        double mx = ninf;
        for (int64_t t = 0; t < keys; ++t) {
          const float *pk = k.f.data() + ((b * Hkv + hk) * T + t) * D;
          double acc = 0;
          for (int64_t d = 0; d < D; ++d)
            acc += (double)pq[d] * pk[d];
          acc *= scale;
          if (causalShift && t > s + *causalShift)
            acc = ninf;
          if (mask) {
            int64_t mo = b * mStr[0] + h * mStr[1] + s * mStr[2] + t * mStr[3];
            if (mask->kind == Kind::Bool)
              acc = mask->i[mo] ? acc : ninf;
            else
              acc += getD(*mask, mo);
          }
          score[t] = acc;
          mx = std::max(mx, acc);
        }
        double sum = 0;
        for (int64_t t = 0; t < keys; ++t) {
          score[t] = mx == ninf ? 0.0 : std::exp(score[t] - mx);
          sum += score[t];
        }
        float *po = out.f.data() + ((b * Hq + h) * S + s) * Dv;
        for (int64_t d = 0; d < Dv; ++d) {
          double acc = 0;
          for (int64_t t = 0; t < keys; ++t)
            acc += score[t] * v.f[((b * Hkv + hk) * T + t) * Dv + d];
          po[d] = (float)(sum > 0 ? acc / sum : 0.0);
        }
      }
    }
}

namespace {

Result matmul(Operation *op, const Tensor &a, const Tensor &b) {
  Tensor out = resultLike(op);
  batchedMatmul(
      a, b, /*transB=*/false, out.shape, [](int64_t) { return 0.0; },
      [&](int64_t index, int64_t, double acc) { out.f[index] = (float)acc; });
  return SmallVector<Tensor>{std::move(out)};
}

Result linear(LinearOp op, ArrayRef<Tensor> in) {
  Tensor out = resultLike(op);
  const Tensor &x = in[0], &w = in[1];
  bool t = op.getTransposeWeight();
  int64_t k = x.shape.back(), n = out.shape.back();
  int64_t rows = x.numElements() / (k ? k : 1);
  if (k == 0)
    rows = out.numElements() / (n ? n : 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double acc = in.size() > 2 ? in[2].f[j] : 0.0;
      for (int64_t p = 0; p < k; ++p)
        acc += (double)x.f[r * k + p] * (t ? w.f[j * k + p] : w.f[p * n + j]);
      out.f[r * n + j] = (float)acc;
    }
  return SmallVector<Tensor>{std::move(out)};
}

enum class RedKind { Sum, Mean, Max, Min, Prod };

Result reduce(Operation *op, const Tensor &x, ArrayRef<int64_t> axes,
              RedKind kind) {
  Tensor out = resultLike(op);
  // Map every input element to its output slot: reduced dims get stride 0.
  SmallVector<int64_t> keptShape(x.shape);
  for (int64_t a : axes)
    keptShape[a] = 1;
  SmallVector<int64_t> outStrides = broadcastStrides(keptShape, x.shape);
  int64_t count = 1;
  for (int64_t a : axes)
    count *= x.shape[a];
  int64_t nOut = out.numElements();
  SmallVector<SmallVector<int64_t>> strides = {outStrides};
  if (out.kind != Kind::F32) {
    // Integers reduce exactly in int64, wrapping on overflow (a double
    // accumulator loses bits past 2^53 and cannot be cast back safely).
    std::vector<uint64_t> iacc(nOut, 0);
    std::vector<bool> seen(nOut, false);
    forEachBroadcast(x.shape, strides, [&](int64_t k, ArrayRef<int64_t> o) {
      int64_t v = x.i[k]; // a reduction keeps its element type
      if (kind == RedKind::Max || kind == RedKind::Min) {
        bool better = kind == RedKind::Max ? v > (int64_t)iacc[o[0]]
                                           : v < (int64_t)iacc[o[0]];
        if (!seen[o[0]] || better)
          iacc[o[0]] = (uint64_t)v;
        seen[o[0]] = true;
      } else if (kind == RedKind::Prod) {
        iacc[o[0]] = (seen[o[0]] ? iacc[o[0]] : 1) * (uint64_t)v;
        seen[o[0]] = true;
      } else {
        iacc[o[0]] += (uint64_t)v;
      }
    });
    for (int64_t k = 0; k < nOut; ++k) {
      int64_t v = (int64_t)iacc[k];
      if (kind == RedKind::Max && !seen[k]) {
        // ONNX: an empty max is the element type's minimum.
        unsigned bits = out.elementType.getIntOrFloatBitWidth();
        v = out.elementType.isUnsignedInteger() || bits == 1
                ? 0
                : (int64_t)(~uint64_t(0) << (bits - 1));
      }
      if (kind == RedKind::Min && !seen[k]) {
        // ONNX: an empty min is the element type's maximum.
        unsigned bits = out.elementType.getIntOrFloatBitWidth();
        v = bits == 1 ? 1
            : out.elementType.isUnsignedInteger()
                ? (int64_t)((uint64_t(1) << bits) - 1)
                : (int64_t)((uint64_t(1) << (bits - 1)) - 1);
      }
      if (kind == RedKind::Prod && !seen[k])
        v = 1;
      if (kind == RedKind::Mean)
        v = count ? v / count : 0;
      out.i[k] = v;
    }
    return SmallVector<Tensor>{std::move(out)};
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> acc(nOut, kind == RedKind::Max   ? -inf
                                : kind == RedKind::Min ? inf
                                : kind == RedKind::Prod ? 1.0
                                                        : 0.0);
  forEachBroadcast(x.shape, strides, [&](int64_t k, ArrayRef<int64_t> o) {
    double v = getD(x, k);
    if (kind == RedKind::Max)
      acc[o[0]] = (std::isnan(v) || v > acc[o[0]]) ? v : acc[o[0]];
    else if (kind == RedKind::Min)
      acc[o[0]] = (std::isnan(v) || v < acc[o[0]]) ? v : acc[o[0]];
    else if (kind == RedKind::Prod)
      acc[o[0]] *= v;
    else
      acc[o[0]] += v;
  });
  for (int64_t k = 0; k < nOut; ++k) {
    double v = acc[k];
    if (kind == RedKind::Mean)
      v = count ? v / count : std::numeric_limits<double>::quiet_NaN();
    out.f[k] = (float)v;
  }
  return SmallVector<Tensor>{std::move(out)};
}

Result softmax(SoftmaxOp op, const Tensor &x) {
  Tensor out = resultLike(op);
  auto [outer, n, inner] = splitAround(x.shape, op.getAxis());
  std::vector<double> e(n);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * n * inner + i;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < n; ++j)
        mx = std::max(mx, (double)x.f[base + j * inner]);
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += e[j] = std::exp((double)x.f[base + j * inner] - mx);
      for (int64_t j = 0; j < n; ++j)
        out.f[base + j * inner] = (float)(e[j] / sum);
    }
  return SmallVector<Tensor>{std::move(out)};
}

/// The product of `dims`.
static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// The row-major coordinates of linear index `linear` in `shape`.
static void unravel(int64_t linear, ArrayRef<int64_t> shape,
                    MutableArrayRef<int64_t> coords) {
  for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
    coords[d] = linear % shape[d];
    linear /= shape[d];
  }
}

/// kiln.pool: every output position's window, in double. Integer inputs
/// (max pooling of int8/uint8) are compared as int64.
Result pool(PoolOp op, const Tensor &x) {
  Tensor out = resultLike(op);
  ArrayRef<int64_t> ks = op.getKernelShape(), st = op.getStrides(),
                    pd = op.getPads(), dl = op.getDilations();
  StringRef kind = op.getKind();
  bool includePad = op.getCountIncludePad();
  double p = (double)op.getP();
  int64_t k = ks.size();
  ArrayRef<int64_t> is = ArrayRef<int64_t>(x.shape).drop_front(2);
  ArrayRef<int64_t> os = ArrayRef<int64_t>(out.shape).drop_front(2);
  int64_t inPlane = product(is), outPlane = product(os), window = product(ks);
  bool isFloat = x.kind == Kind::F32;
  SmallVector<int64_t> o(k), j(k);
  for (int64_t plane = 0; plane < x.shape[0] * x.shape[1]; ++plane)
    for (int64_t oi = 0; oi < outPlane; ++oi) {
      unravel(oi, os, o);
      double acc = kind == "max" ? -std::numeric_limits<double>::infinity() : 0;
      int64_t valid = 0, padded = 0;
      for (int64_t wi = 0; wi < window; ++wi) {
        unravel(wi, ks, j);
        int64_t at = 0;
        bool inside = true, inPadded = true;
        for (int64_t d = 0; d < k; ++d) {
          int64_t pos = o[d] * st[d] - pd[d] + j[d] * dl[d];
          if (pos < 0 || pos >= is[d])
            inside = false;
          if (pos < -pd[d] || pos >= is[d] + pd[k + d])
            inPadded = false;
          at = at * is[d] + pos;
        }
        padded += inPadded;
        if (!inside)
          continue;
        ++valid;
        double v = isFloat ? (double)x.f[plane * inPlane + at]
                           : (double)x.i[plane * inPlane + at];
        if (kind == "max")
          acc = std::max(acc, v);
        else if (kind == "avg")
          acc += v;
        else
          acc += std::pow(std::fabs(v), p);
      }
      if (kind == "avg")
        acc = (includePad ? padded : valid)
                  ? acc / (double)(includePad ? padded : valid)
                  : std::numeric_limits<double>::quiet_NaN();
      else if (kind == "lp")
        acc = std::pow(acc, 1.0 / p);
      int64_t idx = plane * outPlane + oi;
      if (isFloat)
        out.f[idx] = (float)acc;
      else
        out.i[idx] = (int64_t)acc;
    }
  return SmallVector<Tensor>{std::move(out)};
}

/// kiln.det: Gaussian elimination with partial pivoting, in double.
Result det(DetOp op, const Tensor &x) {
  Tensor out = resultLike(op);
  int64_t m = x.shape.back(), count = m ? x.numElements() / (m * m) : 0;
  std::vector<double> a(m * m);
  for (int64_t b = 0; b < count; ++b) {
    for (int64_t k = 0; k < m * m; ++k)
      a[k] = x.f[b * m * m + k];
    double d = 1;
    for (int64_t col = 0; col < m && d != 0; ++col) {
      int64_t pivot = col;
      for (int64_t r = col + 1; r < m; ++r)
        if (std::fabs(a[r * m + col]) > std::fabs(a[pivot * m + col]))
          pivot = r;
      if (a[pivot * m + col] == 0) {
        d = 0;
        break;
      }
      if (pivot != col) {
        for (int64_t j = 0; j < m; ++j)
          std::swap(a[col * m + j], a[pivot * m + j]);
        d = -d;
      }
      d *= a[col * m + col];
      for (int64_t r = col + 1; r < m; ++r) {
        double f = a[r * m + col] / a[col * m + col];
        for (int64_t j = col; j < m; ++j)
          a[r * m + j] -= f * a[col * m + j];
      }
    }
    out.f[b] = (float)d;
  }
  return SmallVector<Tensor>{std::move(out)};
}

/// kiln.conv: every output element's window over its group's channels, in
/// double.
Result conv(ConvOp op, ArrayRef<Tensor> in) {
  const Tensor &x = in[0], &w = in[1];
  const Tensor *bias = in.size() > 2 ? &in[2] : nullptr;
  Tensor out = resultLike(op);
  ArrayRef<int64_t> st = op.getStrides(), pd = op.getPads(),
                    dl = op.getDilations();
  int64_t k = st.size(), g = op.getGroup();
  int64_t n = x.shape[0], c = x.shape[1], m = w.shape[0], cg = w.shape[1];
  ArrayRef<int64_t> is = ArrayRef<int64_t>(x.shape).drop_front(2);
  ArrayRef<int64_t> ks = ArrayRef<int64_t>(w.shape).drop_front(2);
  ArrayRef<int64_t> os = ArrayRef<int64_t>(out.shape).drop_front(2);
  int64_t inPlane = product(is), outPlane = product(os), window = product(ks);
  int64_t perGroup = m / g;
  SmallVector<int64_t> o(k), j(k);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t f = 0; f < m; ++f) {
      int64_t group = f / perGroup;
      for (int64_t oi = 0; oi < outPlane; ++oi) {
        unravel(oi, os, o);
        double acc = bias ? (double)bias->f[f] : 0.0;
        for (int64_t wi = 0; wi < window; ++wi) {
          unravel(wi, ks, j);
          int64_t at = 0;
          bool inside = true;
          for (int64_t d = 0; d < k && inside; ++d) {
            int64_t pos = o[d] * st[d] - pd[d] + j[d] * dl[d];
            inside = pos >= 0 && pos < is[d];
            at = at * is[d] + pos;
          }
          if (!inside)
            continue;
          for (int64_t ci = 0; ci < cg; ++ci) {
            int64_t ch = group * cg + ci;
            acc += (double)x.f[(b * c + ch) * inPlane + at] *
                   (double)w.f[(f * cg + ci) * window + wi];
          }
        }
        out.f[(b * m + f) * outPlane + oi] = (float)acc;
      }
    }
  return SmallVector<Tensor>{std::move(out)};
}

/// Layer norm (`center`) or RMS norm over dims [axis, rank). With
/// `roundNormalized` (kiln.rms_norm's round_normalized) the normalised
/// value is rounded to the result's element type before the scale
/// multiplies it (the product is rounded again by the evaluator).
Result norm(Operation *op, ArrayRef<Tensor> in, int64_t axis, double eps,
            bool center, const Tensor *bias, bool roundNormalized = false) {
  const Tensor &x = in[0], &scale = in[1];
  Tensor out = resultLike(op);
  int64_t inner = 1;
  for (size_t d = axis; d < x.shape.size(); ++d)
    inner *= x.shape[d];
  int64_t outer = inner ? x.numElements() / inner : 0;
  ArrayRef<int64_t> normShape = ArrayRef<int64_t>(x.shape).drop_front(axis);
  SmallVector<int64_t> sStr = broadcastStrides(scale.shape, normShape);
  SmallVector<int64_t> bStr;
  if (bias)
    bStr = broadcastStrides(bias->shape, normShape);
  // Precompute per-position parameter offsets once.
  std::vector<int64_t> sOff(inner), bOff(inner);
  SmallVector<SmallVector<int64_t>> strides = {sStr};
  if (bias)
    strides.push_back(bStr);
  forEachBroadcast(normShape, strides, [&](int64_t k, ArrayRef<int64_t> o) {
    sOff[k] = o[0];
    if (bias)
      bOff[k] = o[1];
  });
  for (int64_t r = 0; r < outer; ++r) {
    const float *px = x.f.data() + r * inner;
    double mean = 0, sq = 0;
    if (center) {
      for (int64_t j = 0; j < inner; ++j)
        mean += px[j];
      mean /= inner;
    }
    for (int64_t j = 0; j < inner; ++j) {
      double d = px[j] - mean;
      sq += d * d;
    }
    double inv = 1.0 / std::sqrt(sq / inner + eps);
    for (int64_t j = 0; j < inner; ++j) {
      double n = (px[j] - mean) * inv;
      if (roundNormalized)
        n = roundToElementType((float)n, out.elementType);
      double v = n * scale.f[sOff[j]];
      if (bias)
        v += bias->f[bOff[j]];
      out.f[r * inner + j] = (float)v;
    }
  }
  return SmallVector<Tensor>{std::move(out)};
}

Result attention(AttentionOp op, ArrayRef<Tensor> in) {
  const Tensor *mask = in.size() > 3 ? &in[3] : nullptr;
  Tensor out = resultLike(op);
  int64_t S = in[0].shape[2], T = in[1].shape[2];
  std::optional<int64_t> causalShift;
  if (op.getCausal())
    causalShift = T - S;
  attendRows(in[0], in[1], in[2], mask, op.getScale().convertToFloat(),
             causalShift, [T](int64_t, int64_t) { return T; }, out);
  return SmallVector<Tensor>{std::move(out)};
}

Result rotary(RotaryOp op, ArrayRef<Tensor> in) {
  const Tensor &x = in[0], &c = in[1], &sn = in[2];
  Tensor out = resultLike(op);
  out.f = x.f;
  int64_t B = x.shape[0], H = x.shape[1], S = x.shape[2], D = x.shape[3];
  // Tables of an angle a pair ([B|1, S, R/2]), or (full_tables) of an entry
  // an element ([B|1, S, R]).
  bool full = op.getFullTables();
  int64_t width = c.shape[2], half = full ? width / 2 : width;
  bool interleaved = op.getInterleaved();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t s = 0; s < S; ++s) {
        int64_t cb = (c.shape[0] == 1 ? 0 : b);
        const float *pc = c.f.data() + (cb * S + s) * width;
        const float *ps = sn.f.data() + (cb * S + s) * width;
        const float *px = x.f.data() + ((b * H + h) * S + s) * D;
        float *po = out.f.data() + ((b * H + h) * S + s) * D;
        for (int64_t i = 0; i < half; ++i) {
          int64_t i1 = interleaved ? 2 * i : i;
          int64_t i2 = interleaved ? 2 * i + 1 : i + half;
          int64_t t1 = full ? i1 : i, t2 = full ? i2 : i;
          double x1 = px[i1], x2 = px[i2];
          po[i1] = (float)(x1 * pc[t1] - x2 * ps[t1]);
          po[i2] = (float)(x2 * pc[t2] + x1 * ps[t2]);
        }
      }
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalStructured(Operation *op,
                                             ArrayRef<Tensor> in) {
  return llvm::TypeSwitch<Operation *, std::optional<Result>>(op)
      .Case([&](MatmulOp) { return matmul(op, in[0], in[1]); })
      .Case([&](LinearOp l) { return linear(l, in); })
      .Case([&](ReduceSumOp r) {
        return reduce(op, in[0], r.getAxes(), RedKind::Sum);
      })
      .Case([&](ReduceMeanOp r) {
        return reduce(op, in[0], r.getAxes(), RedKind::Mean);
      })
      .Case([&](ReduceMaxOp r) {
        return reduce(op, in[0], r.getAxes(), RedKind::Max);
      })
      .Case([&](ReduceMinOp r) {
        return reduce(op, in[0], r.getAxes(), RedKind::Min);
      })
      .Case([&](ReduceProdOp r) {
        return reduce(op, in[0], r.getAxes(), RedKind::Prod);
      })
      .Case([&](SoftmaxOp s) { return softmax(s, in[0]); })
      .Case([&](PoolOp p) { return pool(p, in[0]); })
      .Case([&](ConvOp c) { return conv(c, in); })
      .Case([&](DetOp d) { return det(d, in[0]); })
      .Case([&](LayerNormOp n) {
        return norm(op, in, n.getAxis(), n.getEpsilon().convertToFloat(),
                    /*center=*/true, in.size() > 2 ? &in[2] : nullptr);
      })
      .Case([&](RmsNormOp n) {
        return norm(op, in, n.getAxis(), n.getEpsilon().convertToFloat(),
                    /*center=*/false, nullptr, n.getRoundNormalized());
      })
      .Case([&](AttentionOp a) { return attention(a, in); })
      .Case([&](RotaryOp r) { return rotary(r, in); })
      .Default([](Operation *) { return std::nullopt; });
}

//===- ConvertMath.cpp - ONNX math, activations and reductions to kiln ----===//
//
// Converters for the elementwise math ops added with KilnIndexOps.td (Tan,
// Asin, ..., Floor, Ceil, Round, Sign, Mod, the Bitwise* ops), the
// predicates IsNaN / IsInf, the parameterised activations (Clip, LeakyRelu,
// Elu, Selu, Celu, HardSigmoid, HardSwish, Softsign, ThresholdedRelu,
// Shrink, PRelu, Mish, Swish, SwiGLU), LRN, Mean, LogSoftmax and the Reduce*
// ops that are compositions of existing kiln ops (ReduceL1, ReduceL2,
// ReduceSumSquare, ReduceLogSum, ReduceLogSumExp). Everything here is built
// from kiln ops; none needs a kernel of its own beyond the elementwise table.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

/// A rank-0 constant of `x`'s element type.
Value scalarOf(NodeContext &c, Value x, double v) {
  return c.scalar(eltOf(x), v);
}

template <typename OpTy> LogicalResult convertUnaryMath(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  return c.push(c.create<OpTy>(x.getType(), x));
}

LogicalResult convertMod(NodeContext &c) {
  Value a = c.required(0, "A"), b = c.required(1, "B");
  if (!a || !b)
    return failure();
  int64_t fmod = c.getInt("fmod", 0);
  if (fmod != 0 && fmod != 1) {
    c.emitError() << "fmod must be 0 or 1, got " << fmod;
    return failure();
  }
  if (fmod == 0 && isa<FloatType>(eltOf(a))) {
    c.emitError() << "fmod must be 1 for floating-point inputs (ONNX), got 0";
    return failure();
  }
  return c.push(fmod ? c.binary<FmodOp>(a, b) : c.binary<ModOp>(a, b));
}

LogicalResult requireFloat(NodeContext &c, Value x, StringRef what) {
  if (isa<FloatType>(eltOf(x)))
    return success();
  c.emitError() << what << " must be a float tensor, got " << eltOf(x);
  return failure();
}

/// IsNaN: x != x.
LogicalResult convertIsNaN(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  Value eq = c.binary<EqualOp>(x, x, /*isCompare=*/true);
  return c.push(eq ? c.create<NotOp>(eq.getType(), eq) : Value());
}

/// IsInf: x == +inf (detect_positive) or x == -inf (detect_negative).
LogicalResult convertIsInf(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  bool pos = c.getInt("detect_positive", 1) != 0;
  bool neg = c.getInt("detect_negative", 1) != 0;
  const double inf = std::numeric_limits<double>::infinity();
  Value r;
  if (pos)
    r = c.binary<EqualOp>(x, scalarOf(c, x, inf), true);
  if (neg) {
    Value n = c.binary<EqualOp>(x, scalarOf(c, x, -inf), true);
    r = r && n ? c.binary<OrOp>(r, n) : n;
  }
  if (!pos && !neg)
    r = c.constant(DenseElementsAttr::get(
        RankedTensorType::get(shapeOf(x), c.b.getI1Type()), false));
  return c.push(r);
}

/// Clip-11+: max(x, min) then min(., max); absent bounds are not applied.
LogicalResult convertClip(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  Value r = x;
  for (unsigned i : {1u, 2u}) {
    Value bound = c.input(i);
    if (!bound || !r)
      continue;
    if (tensorType(bound).getNumElements() != 1) {
      c.emitError() << "input " << i << " ('" << (i == 1 ? "min" : "max")
                    << "') must be a scalar, got "
                    << shapeString(shapeOf(bound));
      return failure();
    }
    if (tensorType(bound).getRank() != 0)
      bound = c.reshape(bound, {});
    r = bound ? (i == 1 ? c.binary<MaxOp>(r, bound) : c.binary<MinOp>(r, bound))
              : Value();
  }
  return c.push(r);
}

/// where(x < 0, f(x), x): LeakyRelu, PRelu.
LogicalResult whereNegative(NodeContext &c, Value x, Value negative) {
  if (!negative)
    return failure();
  Value isNeg = c.binary<LessOp>(x, scalarOf(c, x, 0.0), true);
  auto shape = kiln::broadcastShapes(shapeOf(x), shapeOf(negative));
  if (!isNeg || failed(shape))
    return failure();
  return c.push(
      c.create<WhereOp>(withShape(x, *shape), isNeg, negative, x));
}

LogicalResult convertLeakyRelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  float alpha = c.getFloat("alpha", 0.01f);
  return whereNegative(c, x, c.binary<MulOp>(x, scalarOf(c, x, alpha)));
}

LogicalResult convertPRelu(NodeContext &c) {
  Value x = c.required(0, "X"), slope = c.required(1, "slope");
  if (!x || !slope)
    return failure();
  if (!isBroadcastableTo(shapeOf(slope), shapeOf(x))) {
    c.emitError() << "slope shape " << shapeString(shapeOf(slope))
                  << " does not broadcast to X's shape "
                  << shapeString(shapeOf(x));
    return failure();
  }
  return whereNegative(c, x, c.binary<MulOp>(x, slope));
}

/// alpha * (exp(x) - 1), the negative branch of Elu and Selu.
Value expm1Scaled(NodeContext &c, Value x, double alpha) {
  Value e = c.create<ExpOp>(x.getType(), x);
  Value m = e ? c.binary<SubOp>(e, scalarOf(c, x, 1.0)) : Value();
  return m ? c.binary<MulOp>(m, scalarOf(c, x, alpha)) : Value();
}

LogicalResult convertElu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  return whereNegative(c, x, expm1Scaled(c, x, c.getFloat("alpha", 1.0f)));
}

LogicalResult convertSelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  float alpha = c.getFloat("alpha", 1.67326319217681884765625f);
  float gamma = c.getFloat("gamma", 1.05070102214813232421875f);
  Value neg = expm1Scaled(c, x, alpha);
  Value isPos = c.binary<GreaterOp>(x, scalarOf(c, x, 0.0), true);
  if (!neg || !isPos)
    return failure();
  Value y = c.create<WhereOp>(x.getType(), isPos, x, neg);
  return c.push(y ? c.binary<MulOp>(y, scalarOf(c, x, gamma)) : Value());
}

/// Celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
LogicalResult convertCelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  float alpha = c.getFloat("alpha", 1.0f);
  if (alpha == 0.0f) {
    c.emitError() << "alpha must not be 0";
    return failure();
  }
  Value zero = scalarOf(c, x, 0.0);
  Value scaled = c.binary<DivOp>(x, scalarOf(c, x, alpha));
  Value neg = scaled ? expm1Scaled(c, scaled, alpha) : Value();
  Value lo = neg ? c.binary<MinOp>(neg, zero) : Value();
  Value hi = c.binary<MaxOp>(x, zero);
  return c.push(lo && hi ? c.binary<AddOp>(hi, lo) : Value());
}

/// max(0, min(1, alpha * x + beta)).
Value hardSigmoid(NodeContext &c, Value x, double alpha, double beta) {
  Value ax = c.binary<MulOp>(x, scalarOf(c, x, alpha));
  Value y = ax ? c.binary<AddOp>(ax, scalarOf(c, x, beta)) : Value();
  y = y ? c.binary<MinOp>(y, scalarOf(c, x, 1.0)) : Value();
  return y ? c.binary<MaxOp>(y, scalarOf(c, x, 0.0)) : Value();
}

LogicalResult convertHardSigmoid(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  return c.push(hardSigmoid(c, x, c.getFloat("alpha", 0.2f),
                            c.getFloat("beta", 0.5f)));
}

LogicalResult convertHardSwish(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  Value hs = hardSigmoid(c, x, 1.0 / 6.0, 0.5);
  return c.push(hs ? c.binary<MulOp>(x, hs) : Value());
}

/// x / (1 + |x|).
LogicalResult convertSoftsign(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x || failed(requireFloat(c, x, "input")))
    return failure();
  Value a = c.create<AbsOp>(x.getType(), x);
  Value d = a ? c.binary<AddOp>(a, scalarOf(c, x, 1.0)) : Value();
  return c.push(d ? c.binary<DivOp>(x, d) : Value());
}

LogicalResult convertThresholdedRelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  Value gt = c.binary<GreaterOp>(x, scalarOf(c, x, c.getFloat("alpha", 1.0f)),
                                 true);
  return c.push(gt ? c.create<WhereOp>(x.getType(), gt, x, scalarOf(c, x, 0.0))
                   : Value());
}

/// Shrink: x < -lambd ? x + bias : (x > lambd ? x - bias : 0).
LogicalResult convertShrink(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  float bias = c.getFloat("bias", 0.0f), lambd = c.getFloat("lambd", 0.5f);
  if (lambd < 0) {
    c.emitError() << "lambd must be >= 0, got " << lambd;
    return failure();
  }
  Value lo = c.binary<LessOp>(x, scalarOf(c, x, -lambd), true);
  Value hi = c.binary<GreaterOp>(x, scalarOf(c, x, lambd), true);
  Value plus = c.binary<AddOp>(x, scalarOf(c, x, bias));
  Value minus = c.binary<SubOp>(x, scalarOf(c, x, bias));
  if (!lo || !hi || !plus || !minus)
    return failure();
  Value inner = c.create<WhereOp>(x.getType(), hi, minus, scalarOf(c, x, 0.0));
  return c.push(inner ? c.create<WhereOp>(x.getType(), lo, plus, inner)
                      : Value());
}

/// Mish: x * tanh(softplus(x)).
LogicalResult convertMish(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  Value sp = c.create<SoftplusOp>(x.getType(), x);
  Value t = sp ? c.create<TanhOp>(x.getType(), sp) : Value();
  return c.push(t ? c.binary<MulOp>(x, t) : Value());
}

/// Swish: x * sigmoid(alpha * x).
LogicalResult convertSwish(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  Value ax = c.binary<MulOp>(x, scalarOf(c, x, c.getFloat("alpha", 1.0f)));
  Value s = ax ? c.create<SigmoidOp>(x.getType(), ax) : Value();
  return c.push(s ? c.binary<MulOp>(x, s) : Value());
}

/// SwiGLU-28: Swish_alpha(A) * B (A, B of one shape); `silu` when alpha = 1.
LogicalResult convertSwiGLU(NodeContext &c) {
  Value a = c.required(0, "A"), b = c.required(1, "B");
  if (!a || !b || failed(requireFloat(c, a, "A")))
    return failure();
  if (a.getType() != b.getType()) {
    c.emitError() << "A and B must have one type (SwiGLU does not broadcast), "
                     "got "
                  << a.getType() << " and " << b.getType();
    return failure();
  }
  float alpha = c.getFloat("alpha", 1.0f);
  Value gate;
  if (alpha == 1.0f) {
    gate = c.create<SiluOp>(a.getType(), a);
  } else {
    Value ax = c.binary<MulOp>(a, scalarOf(c, a, alpha));
    Value s = ax ? c.create<SigmoidOp>(a.getType(), ax) : Value();
    gate = s ? c.binary<MulOp>(a, s) : Value();
  }
  return c.push(gate ? c.binary<MulOp>(gate, b) : Value());
}

/// LRN-13 on [N, C, ...]: x / (bias + alpha / size * square_sum)^beta, the
/// square sum over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]:
/// the squares padded with zeros along C, `size` shifted slices added.
LogicalResult convertLrn(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x || failed(requireFloat(c, x, "X")))
    return failure();
  int64_t size = c.getInt("size", 0);
  if (size <= 0) {
    c.emitError() << "size must be a positive integer, got " << size;
    return failure();
  }
  ArrayRef<int64_t> shape = shapeOf(x);
  if (shape.size() < 2) {
    c.emitError() << "X must have rank >= 2 ([N, C, ...]), got "
                  << shapeString(shape);
    return failure();
  }
  int64_t rank = shape.size();
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  Value sq = c.binary<MulOp>(x, x);
  if (!sq)
    return failure();
  SmallVector<Value> parts;
  auto zeros = [&](int64_t n) {
    SmallVector<int64_t> zs(shape);
    zs[1] = n;
    return c.expand(scalarOf(c, x, 0.0), zs);
  };
  if (lo)
    parts.push_back(zeros(lo));
  parts.push_back(sq);
  if (hi)
    parts.push_back(zeros(hi));
  if (llvm::any_of(parts, [](Value v) { return !v; }))
    return failure();
  Value padded = c.concat(parts, 1);
  Value sum;
  for (int64_t k = 0; padded && k < size; ++k) {
    SmallVector<int64_t> starts(rank, 0), steps(rank, 1);
    starts[1] = k;
    Value piece = c.slice(padded, starts, steps, shape);
    sum = !piece ? Value() : sum ? c.binary<AddOp>(sum, piece) : piece;
    if (!sum)
      return failure();
  }
  double alpha = c.getFloat("alpha", 1e-4f), beta = c.getFloat("beta", 0.75f),
         bias = c.getFloat("bias", 1.0f);
  Value scaled = sum ? c.binary<MulOp>(sum, scalarOf(c, x, alpha / size))
                     : Value();
  Value base = scaled ? c.binary<AddOp>(scaled, scalarOf(c, x, bias)) : Value();
  Value den = base ? c.binary<PowOp>(base, scalarOf(c, x, beta)) : Value();
  return c.push(den ? c.binary<DivOp>(x, den) : Value());
}

/// Mean: the sum of the inputs (broadcast) divided by their count.
LogicalResult convertMean(NodeContext &c) {
  if (c.numInputs() == 0) {
    c.emitError() << "needs at least one input";
    return failure();
  }
  Value acc = c.required(0, "data_0");
  if (acc && failed(requireFloat(c, acc, "data_0")))
    return failure();
  for (unsigned i = 1; acc && i < c.numInputs(); ++i) {
    Value next = c.required(i, "data_i");
    acc = next ? c.binary<AddOp>(acc, next) : Value();
  }
  if (acc && c.numInputs() > 1)
    acc = c.binary<DivOp>(acc, scalarOf(c, acc, c.numInputs()));
  return c.push(acc);
}

/// LogSoftmax-13: x - max - log(sum(exp(x - max))) along `axis`, so a tiny
/// probability stays finite instead of log(0).
LogicalResult convertLogSoftmax(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x || failed(requireFloat(c, x, "input")))
    return failure();
  auto axis =
      c.normAxis(c.getInt("axis", -1), tensorType(x).getRank(), "axis");
  if (!axis)
    return failure();
  SmallVector<int64_t> kept(shapeOf(x));
  kept[*axis] = 1;
  SmallVector<int64_t> axes = {*axis};
  Value mx = c.create<ReduceMaxOp>(withShape(x, kept), x, axes, true);
  Value shifted = mx ? c.binary<SubOp>(x, mx) : Value();
  Value e = shifted ? c.create<ExpOp>(x.getType(), shifted) : Value();
  Value s = e ? c.create<ReduceSumOp>(withShape(x, kept), e, axes, true)
              : Value();
  Value l = s ? c.create<LogOp>(s.getType(), s) : Value();
  return c.push(l ? c.binary<SubOp>(shifted, l) : Value());
}

/// The Reduce* ops that are a reduction between elementwise steps.
enum class Composite { L1, L2, SumSquare, LogSum, LogSumExp };

template <Composite K> LogicalResult convertCompositeReduce(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  if ((K == Composite::L2 || K == Composite::LogSum ||
       K == Composite::LogSumExp) &&
      failed(requireFloat(c, x, "data")))
    return failure();
  auto spec = reduceSpec(c, x, 18);
  if (failed(spec))
    return failure();
  // The elementwise step before the reduction.
  Value pre = x;
  Value mx;
  if (K == Composite::L1)
    pre = c.create<AbsOp>(x.getType(), x);
  else if (K == Composite::L2 || K == Composite::SumSquare)
    pre = c.binary<MulOp>(x, x);
  if (!pre)
    return failure();
  SmallVector<int64_t> kept(shapeOf(x));
  for (int64_t a : spec->axes)
    kept[a] = 1;
  if (K == Composite::LogSumExp) {
    if (spec->noop) {
      // Nothing is reduced: log(exp(x)) = x.
      return c.push(x);
    }
    mx = c.create<ReduceMaxOp>(withShape(x, kept), x, spec->axes, true);
    // An empty or all -inf slice has max -inf: shift by 0 there instead.
    Value inf = scalarOf(c, x, -std::numeric_limits<double>::infinity());
    Value isInf = mx ? c.binary<EqualOp>(mx, inf, true) : Value();
    if (!isInf)
      return failure();
    mx = c.create<WhereOp>(mx.getType(), isInf, scalarOf(c, x, 0.0), mx);
    Value shifted = mx ? c.binary<SubOp>(x, mx) : Value();
    pre = shifted ? c.create<ExpOp>(x.getType(), shifted) : Value();
    if (!pre)
      return failure();
  }
  Value r = pre;
  if (!spec->noop)
    r = c.create<ReduceSumOp>(withShape(x, K == Composite::LogSumExp
                                               ? ArrayRef<int64_t>(kept)
                                               : ArrayRef<int64_t>(spec->shape)),
                              pre, spec->axes,
                              K == Composite::LogSumExp ? true
                                                        : spec->keepdims);
  if (r && K == Composite::L2)
    r = c.create<SqrtOp>(r.getType(), r);
  if (r && (K == Composite::LogSum || K == Composite::LogSumExp))
    r = c.create<LogOp>(r.getType(), r);
  if (r && K == Composite::LogSumExp) {
    r = c.binary<AddOp>(r, mx);
    if (r && shapeOf(r) != ArrayRef<int64_t>(spec->shape))
      r = c.reshape(r, spec->shape);
  }
  return c.push(r);
}

/// BitwiseAnd / Or / Xor (integers, broadcasting) and BitwiseNot.
template <typename OpTy> LogicalResult convertBitwise(NodeContext &c) {
  Value a = c.required(0, "A"), b = c.required(1, "B");
  if (!a || !b)
    return failure();
  return c.push(c.binary<OpTy>(a, b));
}

/// BitShift-28: `direction` picks kiln.shift_left or kiln.shift_right.
LogicalResult convertBitShift(NodeContext &c) {
  Value x = c.required(0, "X"), y = c.required(1, "Y");
  if (!x || !y)
    return failure();
  std::string dir = c.getString("direction", "");
  if (dir == "LEFT")
    return c.push(c.binary<ShiftLeftOp>(x, y));
  if (dir == "RIGHT")
    return c.push(c.binary<ShiftRightOp>(x, y));
  c.emitError() << "attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \""
                << dir << "\"";
  return failure();
}

/// The scale (or zero point) `s` of a Quantize/DequantizeLinear on `x`,
/// shaped to broadcast against it: per tensor (one element) as it is, per
/// axis ([C]) reshaped to C at `axis`, blocked (x's rank, `block` > 0)
/// repeated `block` times along `axis` (expand of an inserted dim, reshape,
/// slice to x's extent).
static Value quantParam(NodeContext &c, Value s, ArrayRef<int64_t> xShape,
                        int64_t axis, int64_t block, StringRef what) {
  ArrayRef<int64_t> ss = shapeOf(s);
  int64_t rank = xShape.size();
  if (tensorType(s).getNumElements() == 1 && block == 0)
    return ss.empty() ? s : c.reshape(s, {});
  if (block == 0) {
    if (ss.size() != 1 || ss[0] != xShape[axis]) {
      c.emitError() << "input '" << what << "' must have one element or ["
                    << xShape[axis] << "] (axis " << axis << ")";
      return Value();
    }
    SmallVector<int64_t> shape(rank, 1);
    shape[axis] = xShape[axis];
    return c.reshape(s, shape);
  }
  int64_t blocks = (xShape[axis] + block - 1) / block;
  bool ok = (int64_t)ss.size() == rank;
  for (int64_t d = 0; ok && d < rank; ++d)
    ok = ss[d] == (d == axis ? blocks : xShape[d]);
  if (!ok) {
    c.emitError() << "input '" << what << "' must be x's shape with "
                  << blocks << " blocks of " << block << " along axis "
                  << axis;
    return Value();
  }
  SmallVector<int64_t> lifted(ss.begin(), ss.end()), wide(ss.begin(), ss.end());
  lifted.insert(lifted.begin() + axis + 1, 1);
  wide.insert(wide.begin() + axis + 1, block);
  SmallVector<int64_t> flat(ss.begin(), ss.end());
  flat[axis] = blocks * block;
  Value r = c.reshape(c.expand(c.reshape(s, lifted), wide), flat);
  if (flat[axis] == xShape[axis])
    return r;
  SmallVector<int64_t> starts(rank, 0), steps(rank, 1);
  return c.slice(r, starts, steps, xShape);
}

/// The axis and block size of a Quantize/DequantizeLinear on `xs` with
/// `scale`: the axis is read (and checked) only for a per-axis or blocked
/// scale; a negative block_size is an error.
static FailureOr<std::pair<int64_t, int64_t>>
quantLayout(NodeContext &c, ArrayRef<int64_t> xs, Value scale) {
  int64_t block = c.getInt("block_size", 0);
  if (block < 0) {
    c.emitError() << "attribute 'block_size' must be >= 0, got " << block;
    return failure();
  }
  if (block == 0 && tensorType(scale).getNumElements() == 1)
    return std::make_pair(int64_t(0), block);
  std::optional<int64_t> axis =
      c.normAxis(c.getInt("axis", 1), xs.size(), "axis");
  if (!axis)
    return failure();
  return std::make_pair(*axis, block);
}

/// A Quantize/DequantizeLinear's layout (quantLayout) and its scale shaped
/// to broadcast against x (quantParam); the zero point, if any, is shaped
/// with the same axis and block.
struct QuantScale {
  int64_t axis = 0, block = 0;
  Value scale;
};
static FailureOr<QuantScale> quantScale(NodeContext &c, ArrayRef<int64_t> xs,
                                        Value scale, StringRef what) {
  FailureOr<std::pair<int64_t, int64_t>> layout = quantLayout(c, xs, scale);
  if (failed(layout))
    return failure();
  QuantScale q{layout->first, layout->second, Value()};
  q.scale = quantParam(c, scale, xs, q.axis, q.block, what);
  if (!q.scale)
    return failure();
  return q;
}

/// DequantizeLinear: `(x - zero_point) * scale` in the scale's float type
/// (per tensor, per axis or blocked).
LogicalResult convertDequantizeLinear(NodeContext &c) {
  Value x = c.required(0, "x"), scale = c.required(1, "x_scale"),
        zp = c.input(2);
  if (!x || !scale)
    return failure();
  Type f = eltOf(scale);
  if (!isa<FloatType>(f) || !eltOf(x).isInteger()) {
    c.emitError() << "x must be an integer tensor and x_scale a float one";
    return failure();
  }
  if (int64_t out = c.getInt("output_dtype", 0); out && out != 1) {
    c.emitError() << "output_dtype " << out << " is not supported (only the "
                     "scale's type)";
    return failure();
  }
  ArrayRef<int64_t> xs = shapeOf(x);
  FailureOr<QuantScale> q = quantScale(c, xs, scale, "x_scale");
  if (failed(q))
    return failure();
  Value v = c.cast(x, f);
  if (zp) {
    Value z = quantParam(c, zp, xs, q->axis, q->block, "x_zero_point");
    if (!z)
      return failure();
    v = c.binary<SubOp>(v, c.cast(z, f));
  }
  return c.push(c.binary<MulOp>(v, q->scale));
}

/// QuantizeLinear to int8 or uint8 (the zero point's type, or output_dtype,
/// default uint8): `clamp(round_half_even(x / scale) + zero_point)`, cast.
LogicalResult convertQuantizeLinear(NodeContext &c) {
  Value x = c.required(0, "x"), scale = c.required(1, "y_scale"),
        zp = c.input(2);
  if (!x || !scale)
    return failure();
  Type f = eltOf(scale);
  if (!isa<FloatType>(f) || !isa<FloatType>(eltOf(x))) {
    c.emitError() << "x and y_scale must be float tensors";
    return failure();
  }
  if (int64_t precision = c.getInt("precision", 0); precision != 0) {
    c.emitError() << "precision " << precision << " is not supported (only "
                     "the scale's type)";
    return failure();
  }
  Type out = zp ? eltOf(zp) : Type();
  int64_t outDtype = c.getInt("output_dtype", 0);
  if (!out)
    out = outDtype == 3 ? Type(c.b.getIntegerType(8))
          : outDtype == 0 || outDtype == 2
              ? Type(c.b.getIntegerType(8, /*isSigned=*/false))
              : Type();
  double lo = 0, hi = 0;
  if (out && out.isInteger(8)) {
    lo = out.isUnsignedInteger() ? 0 : -128;
    hi = out.isUnsignedInteger() ? 255 : 127;
  } else {
    c.emitError() << "only int8 and uint8 outputs are supported";
    return failure();
  }
  ArrayRef<int64_t> xs = shapeOf(x);
  FailureOr<QuantScale> layout = quantScale(c, xs, scale, "y_scale");
  if (failed(layout))
    return failure();
  Value v = c.cast(x, f);
  Value q = c.binary<DivOp>(v, layout->scale);
  if (!q)
    return failure();
  q = c.create<RoundOp>(q.getType(), q);
  if (zp) {
    Value z = quantParam(c, zp, xs, layout->axis, layout->block,
                         "y_zero_point");
    if (!z)
      return failure();
    q = c.binary<AddOp>(q, c.cast(z, f));
  }
  q = c.binary<MinOp>(c.binary<MaxOp>(q, c.scalar(f, lo)), c.scalar(f, hi));
  return c.push(c.cast(q, out));
}

const OpConverter kMath[] = {
    {"DequantizeLinear", 13, 28, convertDequantizeLinear},
    {"QuantizeLinear", 13, 28, convertQuantizeLinear},
    {"BitShift", 28, 28, convertBitShift},
    {"BitwiseAnd", 18, 18, convertBitwise<BitAndOp>},
    {"BitwiseOr", 18, 18, convertBitwise<BitOrOp>},
    {"BitwiseXor", 18, 18, convertBitwise<BitXorOp>},
    {"BitwiseNot", 18, 18, convertUnaryMath<BitNotOp>},
    {"Tan", 7, 22, convertUnaryMath<TanOp>},
    {"Asin", 7, 22, convertUnaryMath<AsinOp>},
    {"Acos", 7, 22, convertUnaryMath<AcosOp>},
    {"Atan", 7, 22, convertUnaryMath<AtanOp>},
    {"Sinh", 9, 22, convertUnaryMath<SinhOp>},
    {"Cosh", 9, 22, convertUnaryMath<CoshOp>},
    {"Asinh", 9, 22, convertUnaryMath<AsinhOp>},
    {"Acosh", 9, 22, convertUnaryMath<AcoshOp>},
    {"Atanh", 9, 22, convertUnaryMath<AtanhOp>},
    {"Floor", 13, 23, convertUnaryMath<FloorOp>},
    {"Ceil", 13, 23, convertUnaryMath<CeilOp>},
    {"Round", 11, 22, convertUnaryMath<RoundOp>},
    {"Sign", 13, 23, convertUnaryMath<SignOp>},
    {"Mod", 13, 28, convertMod},
    {"IsNaN", 13, 20, convertIsNaN},
    {"IsInf", 10, 20, convertIsInf},
    {"Clip", 13, 23, convertClip},
    {"LeakyRelu", 6, 16, convertLeakyRelu},
    {"PRelu", 9, 16, convertPRelu},
    {"Elu", 6, 22, convertElu},
    {"Selu", 6, 22, convertSelu},
    {"Celu", 12, 28, convertCelu},
    {"HardSigmoid", 6, 22, convertHardSigmoid},
    {"HardSwish", 14, 22, convertHardSwish},
    {"Softsign", 1, 22, convertSoftsign},
    {"ThresholdedRelu", 10, 22, convertThresholdedRelu},
    {"Shrink", 9, 9, convertShrink},
    {"Mish", 18, 22, convertMish},
    {"Swish", 24, 24, convertSwish},
    {"SwiGLU", 28, 28, convertSwiGLU},
    {"LRN", 13, 13, convertLrn},
    {"Mean", 13, 23, convertMean},
    {"LogSoftmax", 13, 23, convertLogSoftmax},
    {"ReduceL1", 13, 18, convertCompositeReduce<Composite::L1>},
    {"ReduceL2", 13, 18, convertCompositeReduce<Composite::L2>},
    {"ReduceSumSquare", 13, 18, convertCompositeReduce<Composite::SumSquare>},
    {"ReduceLogSum", 13, 28, convertCompositeReduce<Composite::LogSum>},
    {"ReduceLogSumExp", 13, 28, convertCompositeReduce<Composite::LogSumExp>},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getMathConverters() { return kMath; }

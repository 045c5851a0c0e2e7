//===- RecognizeNorms.cpp - kiln-recognize: RMSNorm and LayerNorm ---------===//
//
// Rewrites the normalisations exporters write as elementwise chains into
// kiln.rms_norm and kiln.layer_norm, in two steps that compose:
//
//  1. The unscaled core becomes a norm with a ones scale (both ops require a
//     scale):
//       RMSNorm:   x * 1/sqrt(mean(x^2) + eps)        (pow(x, 2) or x * x;
//                  reciprocal(sqrt), 1 / sqrt, rsqrt, or x / sqrt(...))
//       LayerNorm: d / sqrt(mean(d^2) + eps), d = x - mean(x)
//     with every mean over the same trailing axes (keepdims).
//  2. A following `mul` by a scale that broadcasts to the normalised shape
//     replaces a ones scale (Gemma's `1 + w` is just another scale value);
//     an `add` of a bias that broadcasts likewise becomes layer_norm's bias.
//  3. A 16-bit export's RMSNorm, `w * cast<T>(rms_norm(cast<f32>(x)))` with
//     x and w of T (bf16 or f16: Hugging Face's `weight *
//     x.to(input_dtype)`), becomes `rms_norm(x, w) {round_normalized}` of
//     T: the widening cast is exact and the norm computes in f32 anyway,
//     and round_normalized keeps the rounding of the normalised row before
//     the scale.
//  4. A 16-bit export's norm computed in f32 and rounded once,
//     `cast<T>(norm(cast<f32>(x), cast<f32>(w)[, cast<f32>(b)]))` with x, w
//     and b of T, becomes the norm of x, w, b in T (exact, as kiln's norms
//     of T compute in f32 and round once).
//
// Everything is structural: op kinds, shapes, element types and constant
// values. Every intermediate must have no user outside the idiom, so a near
// miss is left as it was.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

#include "RecognizeSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Matchers.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace kiln;
using kiln::recognize::scalarFloatConstant;

namespace {

/// Whether `v` is a one-element float constant equal to `expected`.
bool isScalar(Value v, double expected) {
  std::optional<double> c = scalarFloatConstant(v);
  return c && *c == expected;
}

/// Whether `v` is a constant whose every element is 1.0.
bool isOnesConstant(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  return dense && dense.isSplat() && isa<FloatType>(dense.getElementType()) &&
         dense.getSplatValue<APFloat>().convertToDouble() == 1.0;
}

RankedTensorType typeOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// The first normalised axis if `axes` are exactly the trailing dims
/// [k, rank) of a rank-`rank` tensor (any order), else nullopt.
std::optional<int64_t> trailingAxes(ArrayRef<int64_t> axes, int64_t rank) {
  if (axes.empty() || (int64_t)axes.size() > rank)
    return std::nullopt;
  int64_t first = rank - (int64_t)axes.size();
  SmallVector<bool> seen(rank, false);
  for (int64_t a : axes) {
    if (a < first || a >= rank || seen[a])
      return std::nullopt;
    seen[a] = true;
  }
  return first;
}

/// `mean(y^2) + eps` as matched: the squared value, the first normalised
/// axis and epsilon.
struct MeanSquare {
  Value input;
  int64_t axis;
  double epsilon;
  ReduceMeanOp mean;
  Operation *square;
};

/// Matches `v = add(reduce_mean(square(y)), eps)` (either add order), with
/// `square` being `pow(y, 2)` or `mul(y, y)`, the mean keeping dims over
/// trailing axes, eps a non-negative scalar constant, and the add, mean and
/// square each used once.
FailureOr<MeanSquare> matchMeanSquarePlusEps(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add || !v.hasOneUse())
    return failure();
  Value meanVal = add.getLhs(), epsVal = add.getRhs();
  if (!scalarFloatConstant(epsVal))
    std::swap(meanVal, epsVal);
  std::optional<double> eps = scalarFloatConstant(epsVal);
  auto mean = meanVal.getDefiningOp<ReduceMeanOp>();
  if (!eps || *eps < 0 || !mean || !meanVal.hasOneUse() || !mean.getKeepdims())
    return failure();
  if (add.getType() != mean.getType())
    return failure();
  Value sq = mean.getInput();
  Operation *sqOp = sq.getDefiningOp();
  if (!sqOp || !sq.hasOneUse())
    return failure();
  Value y;
  if (auto pow = dyn_cast<PowOp>(sqOp)) {
    if (!isScalar(pow.getRhs(), 2.0))
      return failure();
    y = pow.getLhs();
  } else if (auto mul = dyn_cast<MulOp>(sqOp)) {
    if (mul.getLhs() != mul.getRhs())
      return failure();
    y = mul.getLhs();
  } else {
    return failure();
  }
  auto yType = typeOf(y);
  if (!yType || sq.getType() != yType ||
      !isa<FloatType>(yType.getElementType()))
    return failure();
  std::optional<int64_t> axis =
      trailingAxes(mean.getAxes(), yType.getRank());
  if (!axis)
    return failure();
  return MeanSquare{y, *axis, *eps, mean, sqOp};
}

/// Matches `root` as `y * invsqrt(s)` (either order) or `y / sqrt(s)`,
/// invsqrt being rsqrt(s), reciprocal(sqrt(s)) or 1 / sqrt(s), with the
/// intermediates used once. Returns y and s.
FailureOr<std::pair<Value, Value>> matchTimesInvSqrt(Operation *root) {
  auto sqrtArg = [](Value v) -> Value {
    auto s = v.getDefiningOp<SqrtOp>();
    return s && v.hasOneUse() ? s.getInput() : Value();
  };
  if (auto div = dyn_cast<DivOp>(root)) {
    if (Value s = sqrtArg(div.getRhs()))
      return std::pair<Value, Value>(div.getLhs(), s);
    return failure();
  }
  auto mul = dyn_cast<MulOp>(root);
  if (!mul)
    return failure();
  for (auto [y, r] : recognize::bothOrders(mul.getLhs(), mul.getRhs())) {
    if (!r.hasOneUse())
      continue;
    Value s;
    if (auto rs = r.getDefiningOp<RsqrtOp>())
      s = rs.getInput();
    else if (auto rc = r.getDefiningOp<ReciprocalOp>())
      s = sqrtArg(rc.getInput());
    else if (auto dv = r.getDefiningOp<DivOp>())
      s = isScalar(dv.getLhs(), 1.0) && dv.getType() == dv.getRhs().getType()
              ? sqrtArg(dv.getRhs())
              : Value();
    if (s)
      return std::pair<Value, Value>(y, s);
  }
  return failure();
}

/// A `[1]` scale of ones of `x`'s element type: what a norm whose weight
/// multiply is not (yet) folded in scales by.
Value onesScale(PatternRewriter &rewriter, Location loc, Value x) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  return recognize::splatConstant(rewriter, loc, {1}, elt, 1.0);
}

/// x * 1/sqrt(mean(x^2) + eps)  =>  kiln.rms_norm(x, ones).
template <typename OpTy>
struct RecognizeRmsNormCore : OpRewritePattern<OpTy> {
  RecognizeRmsNormCore(MLIRContext *ctx)
      : OpRewritePattern<OpTy>(ctx, /*benefit=*/1) {}

  LogicalResult matchAndRewrite(OpTy rootOp,
                                PatternRewriter &rewriter) const override {
    Operation *root = rootOp;
    FailureOr<std::pair<Value, Value>> core = matchTimesInvSqrt(root);
    if (failed(core))
      return rewriter.notifyMatchFailure(root, "not x * invsqrt(s)");
    auto [x, s] = *core;
    FailureOr<MeanSquare> ms = matchMeanSquarePlusEps(s);
    if (failed(ms) || ms->input != x)
      return recognize::nearMiss(rewriter, root,
                                 "rms_norm: x * invsqrt(s), but s is not "
                                 "mean(x^2) + eps (eps >= 0, the mean over "
                                 "trailing axes of x, kept, each step used "
                                 "only there)");
    if (root->getResult(0).getType() != x.getType())
      return recognize::nearMiss(rewriter, root,
                                 "rms_norm: the result's type differs from x");
    replaceWithNorm(root, x, ms->axis, ms->epsilon, rewriter);
    return success();
  }

  static void replaceWithNorm(Operation *root, Value x, int64_t axis,
                              double eps, PatternRewriter &rewriter) {
    Value ones = onesScale(rewriter, root->getLoc(), x);
    rewriter.replaceOpWithNewOp<RmsNormOp>(root, x, ones, (uint64_t)axis,
                                           APFloat((float)eps));
  }
};

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)  =>
/// kiln.layer_norm(x, ones). Tried before the RMSNorm core, which the same
/// root would also match with x - mean(x) as its input.
template <typename OpTy>
struct RecognizeLayerNormCore : OpRewritePattern<OpTy> {
  RecognizeLayerNormCore(MLIRContext *ctx)
      : OpRewritePattern<OpTy>(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(OpTy rootOp,
                                PatternRewriter &rewriter) const override {
    Operation *root = rootOp;
    FailureOr<std::pair<Value, Value>> core = matchTimesInvSqrt(root);
    if (failed(core))
      return rewriter.notifyMatchFailure(root, "not d * invsqrt(s)");
    auto [d, s] = *core;
    FailureOr<MeanSquare> ms = matchMeanSquarePlusEps(s);
    if (failed(ms) || ms->input != d)
      return rewriter.notifyMatchFailure(root, "not mean(d^2) + eps of d");
    auto sub = d.getDefiningOp<SubOp>();
    if (!sub)
      return rewriter.notifyMatchFailure(root, "d is not x - mean(x)");
    // d feeds only the square and the root.
    for (Operation *user : d.getUsers())
      if (user != ms->square && user != root)
        return recognize::nearMiss(rewriter, root,
                                   "layer_norm: x - mean(x) has other users");
    Value x = sub.getLhs();
    auto mean = sub.getRhs().getDefiningOp<ReduceMeanOp>();
    if (!mean || mean.getInput() != x || !sub.getRhs().hasOneUse() ||
        !mean.getKeepdims() || mean.getAxes() != ms->mean.getAxes())
      return rewriter.notifyMatchFailure(root, "d is not x - mean(x)");
    if (d.getType() != x.getType() ||
        root->getResult(0).getType() != x.getType())
      return recognize::nearMiss(rewriter, root,
                                 "layer_norm: types differ from x");
    Value ones = onesScale(rewriter, root->getLoc(), x);
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        root, x.getType(), x, ones, Value(),
        rewriter.getI64IntegerAttr(ms->axis),
        rewriter.getF32FloatAttr((float)ms->epsilon));
    return success();
  }
};

/// Whether `param` can be a norm parameter over dims [axis, rank) of
/// `normed`: same element type, broadcasting to the normalised shape.
bool isNormParam(Value param, Value normed, int64_t axis) {
  auto p = typeOf(param), n = typeOf(normed);
  return p && n && p.getElementType() == n.getElementType() &&
         isBroadcastableTo(p.getShape(), n.getShape().drop_front(axis));
}

/// mul(norm(x, ones), w) (either order) => norm(x, w), for rms_norm and a
/// bias-less layer_norm, when w broadcasts to the normalised shape.
struct FoldScaleIntoNorm : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (auto [n, w] : recognize::bothOrders(mul.getLhs(), mul.getRhs())) {
      if (!n.hasOneUse() || mul.getType() != n.getType())
        continue;
      if (auto rms = n.getDefiningOp<RmsNormOp>()) {
        if (!isOnesConstant(rms.getScale()) ||
            !isNormParam(w, n, rms.getAxis()))
          continue;
        rewriter.replaceOpWithNewOp<RmsNormOp>(mul, rms.getInput(), w,
                                               rms.getAxisAttr(),
                                               rms.getEpsilonAttr());
        return success();
      }
      if (auto ln = n.getDefiningOp<LayerNormOp>()) {
        if (ln.getBias() || !isOnesConstant(ln.getScale()) ||
            !isNormParam(w, n, ln.getAxis()))
          continue;
        rewriter.replaceOpWithNewOp<LayerNormOp>(
            mul, ln.getType(), ln.getInput(), w, Value(), ln.getAxisAttr(),
            ln.getEpsilonAttr());
        return success();
      }
    }
    return rewriter.notifyMatchFailure(mul, "not a norm times a scale");
  }
};

/// mul(cast<T>(rms_norm(cast<f32>(x), ones)), w) (either order), x and w
/// of a 16-bit float type T => rms_norm(x, w) {round_normalized} of T.
struct FoldRoundedScaleIntoRmsNorm : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (auto [c, w] : recognize::bothOrders(mul.getLhs(), mul.getRhs())) {
      auto narrow = c.getDefiningOp<CastOp>();
      if (!narrow || !c.hasOneUse() || mul.getType() != c.getType())
        continue;
      Value n = narrow.getInput();
      auto rms = n.getDefiningOp<RmsNormOp>();
      if (!rms || !n.hasOneUse() || rms.getRoundNormalized() ||
          !isOnesConstant(rms.getScale()))
        continue;
      RankedTensorType narrowType = typeOf(c), wideType = typeOf(n);
      if (!narrowType || !wideType ||
          !(narrowType.getElementType().isBF16() ||
            narrowType.getElementType().isF16()) ||
          !wideType.getElementType().isF32())
        continue;
      auto widen = rms.getInput().getDefiningOp<CastOp>();
      if (!widen || widen.getInput().getType() != mul.getType())
        return recognize::nearMiss(
            rewriter, mul,
            "rms_norm: a 16-bit scale times the norm rounded to it, but the "
            "norm's input is not x of that type widened by a cast, so "
            "kiln.rms_norm {round_normalized} of x would not be exact");
      if (!isNormParam(w, c, rms.getAxis()))
        continue;
      rewriter.replaceOpWithNewOp<RmsNormOp>(
          mul, widen.getInput(), w, rms.getAxisAttr(), rms.getEpsilonAttr(),
          rewriter.getUnitAttr());
      return success();
    }
    return rewriter.notifyMatchFailure(mul,
                                       "not a scale times a rounded rms_norm");
  }
};

/// cast<T>(norm(cast<f32>(x), cast<f32>(w)[, cast<f32>(b)])), x, w and b of
/// a 16-bit float type T, the norm an f32 rms_norm (without
/// round_normalized) or layer_norm => the norm of x, w[, b] in T. A 16-bit
/// export that computes its norm in f32 and rounds once writes this (e.g.
/// Cohere's LayerNorm, `(w.to(f32) * layer_norm(x.to(f32))).to(T)`, once
/// steps 1 and 2 have made the f32 norm). Exact: every widening cast is,
/// and kiln's norms of T compute in f32 and round the result once, as the
/// narrowing cast does. A scale that is not a widened T value (Gemma's f32
/// `1 + w`, an f32 weight) or an input computed in f32 is left as it was,
/// with a remark.
struct FoldWidenedNormInto16Bit : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CastOp narrow,
                                PatternRewriter &rewriter) const override {
    RankedTensorType narrowType = typeOf(narrow.getResult());
    Value n = narrow.getInput();
    RankedTensorType wideType = typeOf(n);
    if (!narrowType || !wideType || !wideType.getElementType().isF32() ||
        !(narrowType.getElementType().isBF16() ||
          narrowType.getElementType().isF16()))
      return rewriter.notifyMatchFailure(narrow, "not an f32 -> 16-bit cast");
    auto rms = n.getDefiningOp<RmsNormOp>();
    auto ln = n.getDefiningOp<LayerNormOp>();
    if ((!rms && !ln) || !n.hasOneUse() || (rms && rms.getRoundNormalized()))
      return rewriter.notifyMatchFailure(narrow, "not of an f32 norm alone");
    Value scale = rms ? rms.getScale() : ln.getScale();
    // A norm with a ones scale rounded to T is Hugging Face's rounded
    // RMSNorm before its scale (FoldRoundedScaleIntoRmsNorm), or a bare
    // norm: not this idiom.
    if (isOnesConstant(scale) && !(ln && ln.getBias()))
      return rewriter.notifyMatchFailure(narrow, "a norm of a ones scale");
    Type t = narrowType.getElementType();
    // v if it is cast<f32>(v') with v' of T: v', else null.
    auto widened = [&](Value v) -> Value {
      auto cast = v ? v.getDefiningOp<CastOp>() : CastOp();
      if (!cast)
        return Value();
      RankedTensorType from = typeOf(cast.getInput());
      return from && from.getElementType() == t ? cast.getInput() : Value();
    };
    StringRef what = rms ? "rms_norm" : "layer_norm";
    Operation *norm = n.getDefiningOp();
    Value x = widened(norm->getOperand(0));
    if (!x || x.getType() != narrowType)
      return recognize::nearMiss(
          rewriter, narrow,
          (what + ": an f32 norm rounded to a 16-bit type, but its input is "
                  "not a value of that type widened by a cast, so the norm "
                  "of that type would not be exact")
              .str());
    Value w = widened(scale);
    Value b = ln && ln.getBias() ? widened(ln.getBias()) : Value();
    if (!w || (ln && ln.getBias() && !b))
      return recognize::nearMiss(
          rewriter, narrow,
          (what + ": an f32 norm of a widened 16-bit input rounded back, "
                  "but its scale or bias is not a 16-bit value widened by "
                  "a cast (an f32 weight, or a scale computed in f32 such "
                  "as Gemma's 1 + w), so the norm of the 16-bit type would "
                  "not be exact")
              .str());
    if (rms)
      rewriter.replaceOpWithNewOp<RmsNormOp>(narrow, x, w, rms.getAxisAttr(),
                                             rms.getEpsilonAttr());
    else
      rewriter.replaceOpWithNewOp<LayerNormOp>(narrow, narrowType, x, w, b,
                                               ln.getAxisAttr(),
                                               ln.getEpsilonAttr());
    return success();
  }
};

/// add(layer_norm(x, w), b) (either order) => layer_norm(x, w, b), when the
/// norm has no bias yet and b broadcasts to the normalised shape.
struct FoldBiasIntoLayerNorm : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [n, b] : recognize::bothOrders(add.getLhs(), add.getRhs())) {
      auto ln = n.getDefiningOp<LayerNormOp>();
      if (!ln || ln.getBias() || !n.hasOneUse() || add.getType() != n.getType() ||
          !isNormParam(b, n, ln.getAxis()))
        continue;
      rewriter.replaceOpWithNewOp<LayerNormOp>(
          add, ln.getType(), ln.getInput(), ln.getScale(), b, ln.getAxisAttr(),
          ln.getEpsilonAttr());
      return success();
    }
    return rewriter.notifyMatchFailure(add, "not a layer_norm plus a bias");
  }
};

} // namespace

void kiln::populateRecognizeNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeRmsNormCore<MulOp>, RecognizeRmsNormCore<DivOp>,
               RecognizeLayerNormCore<MulOp>, RecognizeLayerNormCore<DivOp>,
               FoldScaleIntoNorm, FoldRoundedScaleIntoRmsNorm,
               FoldBiasIntoLayerNorm, FoldWidenedNormInto16Bit>(
      patterns.getContext());
}

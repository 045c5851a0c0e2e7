//===- RecognizeAttention.cpp - kiln-recognize: attention idioms ----------===//
//
// Rewrites scaled dot-product attention as the exporters write it,
//
//   scores = matmul(q, transpose(k)) [* or / a scalar constant, on q, on
//            k^T or on the scores]
//   scores = scores + mask | where(bool_mask, scores, -inf or <= -1e30)
//            (optional)
//   out    = matmul(softmax(scores, last axis), v)
//
// into kiln.attention(q, k, v, mask?) {scale}. Grouped-query attention's
// K/V head expansion (reshape to [B, Hkv, 1, T, D], expand to
// [B, Hkv, n, T, D], reshape to [B, Hkv*n, T, D]) is looked through so the
// op gets the unexpanded K/V. Every intermediate the rewrite replaces must
// have no other user, else the graph is left alone. A constant mask that
// is exactly the causal one (0 / -inf or the lowest value, or i1) becomes
// the op's `causal` flag.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

#include "RecognizeSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using kiln::recognize::scalarFloatConstant;
using kiln::recognize::shapeOf;

namespace {

/// The value of a one-element float constant of element type `elt`.
std::optional<double> scalarConstant(Value v, Type elt) {
  if (getElementTypeOrSelf(v.getType()) != elt)
    return std::nullopt;
  return scalarFloatConstant(v);
}

/// Strips single-use `v * c`, `c * v` and `v / c` with a scalar constant c
/// (not changing v's type) off `v`, multiplying their factors into `scale`.
Value peelScale(Value v, double &scale) {
  while (v.hasOneUse()) {
    Operation *def = v.getDefiningOp();
    if (!isa_and_nonnull<MulOp, DivOp>(def))
      break;
    Value lhs = def->getOperand(0), rhs = def->getOperand(1);
    Type elt = cast<RankedTensorType>(v.getType()).getElementType();
    std::optional<double> factor;
    Value rest;
    if ((factor = scalarConstant(rhs, elt))) {
      rest = lhs;
      if (isa<DivOp>(def))
        factor = 1.0 / *factor;
    } else if (isa<MulOp>(def) && (factor = scalarConstant(lhs, elt))) {
      rest = rhs;
    }
    if (!factor || rest.getType() != v.getType() || !std::isfinite(*factor))
      break;
    scale *= *factor;
    v = rest;
  }
  return v;
}

/// If `e` is the exporters' GQA head expansion of some K [B, H, T, D] to
/// [B, H*n, T, D] (reshape to [B, H, 1, T, D], expand to [B, H, n, T, D],
/// reshape), each step used only by the next, returns K.
Value unexpandHeads(Value e) {
  auto outer = e.getDefiningOp<ReshapeOp>();
  if (!outer || !e.hasOneUse())
    return {};
  auto expand = outer.getInput().getDefiningOp<ExpandOp>();
  if (!expand || !outer.getInput().hasOneUse())
    return {};
  auto inner = expand.getInput().getDefiningOp<ReshapeOp>();
  if (!inner || !expand.getInput().hasOneUse())
    return {};
  Value k = inner.getInput();
  ArrayRef<int64_t> es = shapeOf(e), xs = shapeOf(expand.getResult()),
                    rs = shapeOf(inner.getResult()), ks = shapeOf(k);
  if (es.size() != 4 || ks.size() != 4 || xs.size() != 5 || rs.size() != 5)
    return {};
  int64_t b = ks[0], h = ks[1], t = ks[2], d = ks[3], n = xs[2];
  if (ArrayRef<int64_t>(rs) != ArrayRef<int64_t>({b, h, 1, t, d}) ||
      ArrayRef<int64_t>(xs) != ArrayRef<int64_t>({b, h, n, t, d}) ||
      ArrayRef<int64_t>(es) != ArrayRef<int64_t>({b, h * n, t, d}))
    return {};
  return k;
}

/// The pieces of a matched attention, before anything is built.
struct AttentionMatch {
  Value query;
  /// K^T's source and the permutation that turns it into K [B, H, T, D]
  /// (empty: it already is K).
  Value keySource;
  SmallVector<int64_t> keyPerm;
  Value value;
  Value mask;
  bool invertMask = false;
  /// A where's finite fill (<= -1e30): the mask becomes additive,
  /// where(mask, 0, fill) (or where(mask, fill, 0) when inverted).
  std::optional<double> fill;
  double scale = 1.0;
};

/// Matches the scores (the softmax input) down to matmul(q, k^T), filling
/// query, key, mask and scale. Where the scores are masked by a where whose
/// fill is a finite constant above -1e30, `whyNot` says so (a near miss).
LogicalResult matchScores(Value scores, AttentionMatch &m,
                          std::string &whyNot) {
  if (!scores.hasOneUse())
    return failure();
  auto scoresType = cast<RankedTensorType>(scores.getType());
  Type elt = scoresType.getElementType();
  SmallVector<int64_t> full(scoresType.getShape());
  // The mask, if any: one side of an add, or a where against -inf.
  Value unmasked = scores;
  Operation *def = scores.getDefiningOp();
  auto isMaskFor = [&](Value mask, Value other) {
    auto t = cast<RankedTensorType>(mask.getType());
    return other.getType() == scoresType && t.getRank() <= 4 &&
           isBroadcastableTo(t.getShape(), full);
  };
  auto leadsToMatmul = [&](Value v) {
    double s = 1.0;
    return isa_and_nonnull<MatmulOp>(peelScale(v, s).getDefiningOp());
  };
  if (auto add = dyn_cast_or_null<AddOp>(def)) {
    for (auto [s, mask] : {std::pair(add.getLhs(), add.getRhs()),
                           std::pair(add.getRhs(), add.getLhs())}) {
      if (isMaskFor(mask, s) && s.hasOneUse() && leadsToMatmul(s) &&
          cast<RankedTensorType>(mask.getType()).getElementType() == elt) {
        unmasked = s;
        m.mask = mask;
        break;
      }
    }
    if (!m.mask)
      return failure();
  } else if (auto where = dyn_cast_or_null<WhereOp>(def)) {
    // The fill: -inf (the op's i1 mask), or a finite value at most -1e30
    // (the exporters' lowest float), which becomes the additive mask
    // where(cond, 0, fill): the same scores, since a score s plus such a
    // fill rounds to the fill for |s| below about 1e13 (f32 and f64), so
    // even a row masked whole keeps its uniform softmax.
    auto fillOf = [&](Value v) -> std::optional<double> {
      std::optional<double> c = scalarConstant(v, elt);
      if (!c || !(*c <= -1e30))
        return std::nullopt;
      return c;
    };
    Value cond = where.getCondition();
    std::optional<double> fill;
    if ((fill = fillOf(where.getOnFalse())) &&
        isMaskFor(cond, where.getOnTrue())) {
      unmasked = where.getOnTrue();
    } else if ((fill = fillOf(where.getOnTrue())) &&
               isMaskFor(cond, where.getOnFalse())) {
      unmasked = where.getOnFalse();
      m.invertMask = true;
    } else {
      // A finite fill above -1e30 is a near miss.
      for (Value side : {where.getOnFalse(), where.getOnTrue()}) {
        std::optional<double> c = scalarConstant(side, elt);
        if (!c || !std::isfinite(*c))
          continue;
        llvm::raw_string_ostream os(whyNot);
        os << "the where's fill " << *c
           << " is above -1e30: a score plus it need not round to it, so "
              "as an additive mask it would not be exact";
        break;
      }
      return failure();
    }
    if (!std::isinf(*fill))
      m.fill = fill;
    if (!unmasked.hasOneUse())
      return failure();
    m.mask = cond;
  }
  auto qk = peelScale(unmasked, m.scale).getDefiningOp<MatmulOp>();
  if (!qk || !qk.getResult().hasOneUse())
    return failure();
  m.query = peelScale(qk.getLhs(), m.scale);
  Value keyT = peelScale(qk.getRhs(), m.scale);
  if (shapeOf(m.query).size() != 4 || shapeOf(keyT).size() != 4)
    return failure();
  // K^T as transpose(y, p): K is transpose(y, p with its last two swapped).
  m.keySource = keyT;
  m.keyPerm = {0, 1, 3, 2};
  if (auto transpose = keyT.getDefiningOp<TransposeOp>();
      transpose && keyT.hasOneUse()) {
    m.keySource = transpose.getInput();
    m.keyPerm = llvm::to_vector(transpose.getPerm());
    std::swap(m.keyPerm[2], m.keyPerm[3]);
    if (llvm::equal(m.keyPerm, ArrayRef<int64_t>({0, 1, 2, 3})))
      m.keyPerm.clear();
  }
  return success();
}

/// matmul(softmax(scores), v) => kiln.attention.
struct AttentionPattern : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp pv,
                                PatternRewriter &rewriter) const override {
    auto softmax = pv.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || !pv.getLhs().hasOneUse())
      return rewriter.notifyMatchFailure(pv, "lhs is not a single-use softmax");
    auto probsType = cast<RankedTensorType>(softmax.getType());
    if (probsType.getRank() != 4 || softmax.getAxis() != 3)
      return rewriter.notifyMatchFailure(pv, "softmax is not over the last "
                                             "axis of rank-4 scores");
    AttentionMatch m;
    std::string whyNot;
    if (failed(matchScores(softmax.getInput(), m, whyNot))) {
      if (!whyNot.empty())
        return recognize::nearMiss(rewriter, pv, "attention: " + whyNot);
      return rewriter.notifyMatchFailure(pv, "scores are not q @ k^T "
                                             "(scaled, masked)");
    }
    // Shapes: q [B, Hq, S, D], K [B, Hk, T, D], V [B, Hk, T, Dv].
    ArrayRef<int64_t> qs = shapeOf(m.query), ps = probsType.getShape();
    SmallVector<int64_t> ks(shapeOf(m.keySource));
    if (!m.keyPerm.empty())
      ks = llvm::map_to_vector(m.keyPerm, [&](int64_t p) { return ks[p]; });
    Value key = m.keyPerm.empty() ? m.keySource : Value();
    Value value = pv.getRhs();
    // Look through the GQA expansion of both or neither.
    Value rawKey = key ? unexpandHeads(key) : Value();
    Value rawValue = unexpandHeads(value);
    if (rawKey && rawValue && shapeOf(rawKey)[1] == shapeOf(rawValue)[1]) {
      key = rawKey;
      value = rawValue;
      ks = llvm::to_vector(shapeOf(key));
    }
    ArrayRef<int64_t> vs = shapeOf(value);
    Type elt = probsType.getElementType();
    auto eltOf = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getElementType();
    };
    if (eltOf(m.query) != elt || eltOf(m.keySource) != elt ||
        eltOf(value) != elt || vs.size() != 4)
      return recognize::nearMiss(rewriter, pv,
                                 "attention: element types or ranks of q, k "
                                 "and v differ");
    int64_t b = qs[0], hq = qs[1], s = qs[2], d = qs[3], t = ks[2];
    if (ks[0] != b || vs[0] != b || ks[3] != d || vs[1] != ks[1] ||
        vs[2] != t || ks[1] == 0 || hq % ks[1] != 0 ||
        ArrayRef<int64_t>(ps) != ArrayRef<int64_t>({b, hq, s, t}) ||
        shapeOf(pv.getResult()) != ArrayRef<int64_t>({b, hq, s, vs[3]}))
      return recognize::nearMiss(rewriter, pv,
                                 "attention: q, k and v shapes do not line "
                                 "up (batch, heads a multiple of kv heads, "
                                 "head dims)");
    if (m.mask && isa<IntegerType>(eltOf(m.mask)) &&
        !eltOf(m.mask).isInteger(1))
      return recognize::nearMiss(rewriter, pv,
                                 "attention: the mask is not i1 or float");

    // Build.
    Location loc = pv.getLoc();
    if (!key)
      key = TransposeOp::create(rewriter, loc, m.keySource,
                                rewriter.getDenseI64ArrayAttr(m.keyPerm));
    Value mask = m.mask;
    if (mask && m.fill) {
      // where(cond, 0, fill) as the additive mask (swapped when inverted).
      Value zero = recognize::splatConstant(rewriter, loc, {}, elt, 0.0);
      Value fill = recognize::splatConstant(rewriter, loc, {}, elt, *m.fill);
      mask = m.invertMask ? WhereOp::create(rewriter, loc, mask, fill, zero)
                          : WhereOp::create(rewriter, loc, mask, zero, fill);
    } else if (mask && m.invertMask) {
      mask = NotOp::create(rewriter, loc, mask);
    }
    if (mask && shapeOf(mask).size() < 4) {
      SmallVector<int64_t> padded(4 - shapeOf(mask).size(), 1);
      llvm::append_range(padded, shapeOf(mask));
      mask = ReshapeOp::create(rewriter, loc,
                               RankedTensorType::get(padded, eltOf(mask)),
                               mask);
    }
    rewriter.replaceOpWithNewOp<AttentionOp>(
        pv, pv.getType(), m.query, key, value, mask,
        rewriter.getF32FloatAttr(static_cast<float>(m.scale)),
        rewriter.getBoolAttr(false));
    return success();
  }
};

/// Whether the constant `mask` (shape broadcasting to [B, Hq, S, T], its
/// last two dims S and T, any leading dims) says exactly what `causal` says: attend to key t
/// from query s iff t <= s + (T - S). An i1 mask must be true there and
/// false elsewhere; an additive float mask 0 there and, elsewhere, -inf or
/// at most -1e30 (the exporters write -inf or the type's lowest value), so
/// a masked score's exp is 0 as the causal mask makes it, for any scores
/// whose spread is below 1e30. T >= S: every row sees at least its own
/// key, so no row is masked whole (where an additive mask and `causal`
/// would differ).
bool isCausalConstant(DenseElementsAttr mask, int64_t s, int64_t t) {
  ArrayRef<int64_t> ms = mask.getType().getShape();
  size_t r = ms.size();
  if (r < 2 || ms[r - 2] != s || ms[r - 1] != t || t < s)
    return false;
  int64_t shift = t - s;
  auto visible = [&](int64_t i) {
    int64_t col = i % t, row = (i / t) % s;
    return col <= row + shift;
  };
  Type elt = mask.getElementType();
  if (elt.isInteger(1)) {
    int64_t i = 0;
    for (bool v : mask.getValues<bool>())
      if (v != visible(i++))
        return false;
    return true;
  }
  if (!isa<FloatType>(elt))
    return false;
  int64_t i = 0;
  for (const APFloat &v : mask.getValues<APFloat>()) {
    double d = v.convertToDouble();
    if (visible(i++) ? d != 0.0 : !(d <= -1e30))
      return false;
  }
  return true;
}

/// kiln.attention with a constant causal mask => kiln.attention {causal}
/// without it: the kernel skips the masked keys instead of reading a mask.
struct CausalMaskPattern : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value mask = op.getMask();
    if (!mask || op.getCausal())
      return rewriter.notifyMatchFailure(op, "no mask, or causal already");
    DenseElementsAttr values;
    if (!matchPattern(mask, m_Constant(&values)))
      return rewriter.notifyMatchFailure(op, "mask is not a constant");
    ArrayRef<int64_t> qs = shapeOf(op.getQuery());
    int64_t t = shapeOf(op.getKey())[2];
    if (!isCausalConstant(values, qs[2], t))
      return rewriter.notifyMatchFailure(op, "mask is not causal (or a row "
                                             "sees no key, or its fill is "
                                             "above -1e30)");
    rewriter.modifyOpInPlace(op, [&] {
      op.getMaskMutable().clear();
      op.setCausal(true);
    });
    return success();
  }
};

} // namespace

void kiln::populateRecognizeAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionPattern, CausalMaskPattern>(patterns.getContext());
}

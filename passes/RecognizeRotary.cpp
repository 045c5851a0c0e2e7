//===- RecognizeRotary.cpp - kiln-recognize: rotary idioms ----------------===//
//
// Rewrites the rotate-half rotary embedding the exporters write,
//
//   out = x * cos + concat(-x[..., D/2:], x[..., :D/2]) * sin
//
// (kiln.mul/slice/neg/concat/add, either operand order) into kiln.rotary.
// The graph's cos/sin are `[..., S, D]` with both halves of the last dim
// equal (they are cos/sin of concat(freqs, freqs)); kiln.rotary reads one
// half as `[B, S, D/2]`, so the rewrite slices the first half and reshapes
// it, leaving the computation of cos/sin itself (from position ids, or a
// folded constant) as it is. The halves' equality is proven structurally
// (partnersEqual below), never assumed; where it cannot be (cos/sin fed as
// inputs), kiln.rotary {full_tables} reads the tables whole, reshaped to
// `[B, S, D]`: exact for any tables, but not fused into the decode
// attention kernel, whose hooks read an angle a pair.
//
// The interleaved form (GPT-J's rotate_every_two, pairs (2i, 2i + 1)),
//
//   out = x * cos + flatten(stack(-x[..., 1::2], x[..., ::2])) * sin
//
// (slices of step 2, a neg, unsqueezes as reshapes, a concat on a new last
// axis of 2 and the reshape that flattens it), with cos/sin whose pairs are
// equal (repeat_interleave's unsqueeze, expand and reshape; partnersEqual
// below), becomes kiln.rotary {interleaved} reading every other element.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

#include "RecognizeSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;
using kiln::recognize::shapeOf;

namespace {

/// Which elements of a table's last dim D a rotary pairs: `Halves`, i and
/// i + D/2 (rotate-half); `Pairs`, 2i and 2i + 1 (interleaved).
enum class Pairing { Halves, Pairs };

/// The element of the last dim (size d) that element i (the first of its
/// pair) is paired with.
int64_t partner(int64_t i, int64_t d, Pairing pairing) {
  return pairing == Pairing::Halves ? i + d / 2 : i + 1;
}

/// Whether i is the first element of its pair.
bool firstOfPair(int64_t i, int64_t d, Pairing pairing) {
  return pairing == Pairing::Halves ? i < d / 2 : i % 2 == 0;
}

/// True if the constant's paired elements of the last dim agree in every
/// row.
bool constantPartnersEqual(ConstantOp c, Pairing pairing) {
  auto attr = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!attr)
    return false;
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() == 0 || type.getShape().back() % 2 != 0)
    return false;
  if (attr.isSplat())
    return true;
  constexpr int64_t kMaxScan = int64_t(1) << 20;
  if (type.getNumElements() > kMaxScan)
    return false;
  int64_t d = type.getShape().back();
  auto values = llvm::to_vector(attr.getValues<Attribute>());
  for (int64_t row = 0; row < (int64_t)values.size(); row += d)
    for (int64_t i = 0; i < d; ++i)
      if (firstOfPair(i, d, pairing) &&
          values[row + i] != values[row + partner(i, d, pairing)])
        return false;
  return true;
}

/// True if `v` (rank >= 1, even last dim D) provably has equal paired
/// elements along its last dim, never assumed: a constant that does; or
/// elementwise ops, casts, expands, reshapes and transposes that keep the
/// last dim of such values (operands broadcast along the last dim are
/// fine). Halves also: a concat of one value with itself along the last
/// axis (cos(concat(freqs, freqs))), a slice keeping the last dim's start.
/// Pairs also: a reshape of a value whose last dim of 2 holds equal halves
/// (repeat_interleave(h, 2) as reshape(expand(unsqueeze(h)))), since a
/// row-major reshape to an even last dim keeps those pairs at even offsets.
bool partnersEqual(Value v, Pairing pairing, unsigned depth = 0) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() == 0 || depth > 24)
    return false;
  int64_t rank = type.getRank(), d = type.getShape().back();
  if (d % 2 != 0)
    return false;
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  // An operand keeps the property if it is constant along the last dim
  // (broadcast) or has the same last dim and the property itself.
  auto operandOk = [&](Value operand) {
    ArrayRef<int64_t> s = shapeOf(operand);
    if (s.empty() || s.back() == 1)
      return true;
    return s.back() == d && partnersEqual(operand, pairing, depth + 1);
  };
  if (auto c = dyn_cast<ConstantOp>(def))
    return constantPartnersEqual(c, pairing);
  if (isa<ElementwiseOpInterface, CastOp, ExpandOp>(def))
    return llvm::all_of(def->getOperands(), operandOk);
  if (auto reshape = dyn_cast<ReshapeOp>(def)) {
    ArrayRef<int64_t> s = shapeOf(reshape.getInput());
    if (s.empty())
      return false;
    if (pairing == Pairing::Pairs && s.back() == 2)
      return partnersEqual(reshape.getInput(), Pairing::Halves, depth + 1);
    return s.back() == d && partnersEqual(reshape.getInput(), pairing,
                                          depth + 1);
  }
  if (auto transpose = dyn_cast<TransposeOp>(def))
    return transpose.getPerm().back() == rank - 1 &&
           partnersEqual(transpose.getInput(), pairing, depth + 1);
  if (pairing != Pairing::Halves)
    return false;
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    // I64Attr getters return uint64_t: read the axis as signed.
    int64_t axis = static_cast<int64_t>(concat.getAxis());
    axis = axis < 0 ? axis + rank : axis;
    return axis == rank - 1 && concat.getInputs().size() == 2 &&
           concat.getInputs()[0] == concat.getInputs()[1];
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    ArrayRef<int64_t> s = shapeOf(slice.getInput());
    return slice.getStarts().back() == 0 && slice.getSteps().back() == 1 &&
           s.back() == d &&
           partnersEqual(slice.getInput(), pairing, depth + 1);
  }
  return false;
}

/// True if `slice` takes `x[..., start : start + D/2]` with unit steps and
/// every other dim whole.
bool isHalfSlice(SliceOp slice, Value x, int64_t start) {
  if (slice.getInput() != x)
    return false;
  ArrayRef<int64_t> xs = shapeOf(x), rs = shapeOf(slice.getResult());
  int64_t rank = xs.size();
  if ((int64_t)rs.size() != rank)
    return false;
  for (int64_t i = 0; i < rank; ++i) {
    bool last = i == rank - 1;
    if (slice.getSteps()[i] != 1 ||
        slice.getStarts()[i] != (last ? start : 0) ||
        rs[i] != (last ? xs[i] / 2 : xs[i]))
      return false;
  }
  return true;
}

/// If `v` is rotate_half(x) = concat(-x[..., D/2:], x[..., :D/2]) along the
/// last axis, with every intermediate used only there, returns x.
Value matchRotateHalf(Value v) {
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || !v.hasOneUse() || concat.getInputs().size() != 2)
    return {};
  int64_t rank = shapeOf(v).size();
  int64_t axis = static_cast<int64_t>(concat.getAxis());
  axis = axis < 0 ? axis + rank : axis;
  if (axis != rank - 1)
    return {};
  Value negated = concat.getInputs()[0], low = concat.getInputs()[1];
  auto neg = negated.getDefiningOp<NegOp>();
  auto lowSlice = low.getDefiningOp<SliceOp>();
  if (!neg || !lowSlice || !negated.hasOneUse() || !low.hasOneUse())
    return {};
  auto highSlice = neg.getInput().getDefiningOp<SliceOp>();
  if (!highSlice || !neg.getInput().hasOneUse())
    return {};
  Value x = lowSlice.getInput();
  if (x.getType() != v.getType() || shapeOf(x).back() % 2 != 0)
    return {};
  int64_t half = shapeOf(x).back() / 2;
  if (!isHalfSlice(lowSlice, x, 0) || !isHalfSlice(highSlice, x, half))
    return {};
  return x;
}

/// `v` through single-use reshapes that only add or drop unit dims.
Value throughUnitReshapes(Value v) {
  while (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    if (!v.hasOneUse())
      break;
    ArrayRef<int64_t> in = shapeOf(reshape.getInput());
    SmallVector<int64_t> a, b;
    for (int64_t n : in)
      if (n != 1)
        a.push_back(n);
    for (int64_t n : shapeOf(v))
      if (n != 1)
        b.push_back(n);
    if (a != b)
      break;
    v = reshape.getInput();
  }
  return v;
}

/// True if `slice` takes x[..., start::2] (D/2 elements) with every other
/// dim whole.
bool isStrideTwoSlice(SliceOp slice, Value x, int64_t start) {
  if (!slice || slice.getInput() != x)
    return false;
  ArrayRef<int64_t> xs = shapeOf(x), rs = shapeOf(slice.getResult());
  int64_t rank = xs.size();
  if ((int64_t)rs.size() != rank)
    return false;
  for (int64_t i = 0; i < rank; ++i) {
    bool last = i == rank - 1;
    if (slice.getSteps()[i] != (last ? 2 : 1) ||
        slice.getStarts()[i] != (last ? start : 0) ||
        rs[i] != (last ? xs[i] / 2 : xs[i]))
      return false;
  }
  return true;
}

/// If `v` is rotate_every_two(x) = flatten(stack(-x[..., 1::2],
/// x[..., ::2])) - a reshape of a concat on a new last axis of 2 of the
/// two slices unsqueezed, the odd one negated before or after - with every
/// intermediate used only there, returns x.
Value matchRotateEveryTwo(Value v) {
  auto flatten = v.getDefiningOp<ReshapeOp>();
  if (!flatten || !v.hasOneUse() || !flatten.getInput().hasOneUse())
    return {};
  auto concat = flatten.getInput().getDefiningOp<ConcatOp>();
  ArrayRef<int64_t> vs = shapeOf(v);
  if (!concat || concat.getInputs().size() != 2 || vs.empty() ||
      vs.back() % 2 != 0)
    return {};
  ArrayRef<int64_t> cs = shapeOf(concat.getResult());
  int64_t rank = cs.size();
  int64_t axis = static_cast<int64_t>(concat.getAxis());
  axis = axis < 0 ? axis + rank : axis;
  if (axis != rank - 1 || cs.back() != 2 || cs[rank - 2] != vs.back() / 2)
    return {};
  Value odd = concat.getInputs()[0], even = concat.getInputs()[1];
  if (!odd.hasOneUse() || !even.hasOneUse())
    return {};
  // -x[..., 1::2]: a neg before or after the unsqueeze.
  Value oddInner = throughUnitReshapes(odd);
  auto neg = oddInner.getDefiningOp<NegOp>();
  if (!neg || !oddInner.hasOneUse())
    return {};
  Value oddSliced = throughUnitReshapes(neg.getInput());
  auto oddSlice = oddSliced.getDefiningOp<SliceOp>();
  auto evenSlice = throughUnitReshapes(even).getDefiningOp<SliceOp>();
  if (!oddSlice || !evenSlice || !oddSliced.hasOneUse())
    return {};
  Value x = evenSlice.getInput();
  if (x.getType() != v.getType() || !isStrideTwoSlice(evenSlice, x, 0) ||
      !isStrideTwoSlice(oddSlice, x, 1))
    return {};
  return x;
}

/// The operand of the single-use binary `mul` other than `v`, if `v` is one
/// of its operands.
Value otherMulOperand(MulOp mul, Value v) {
  if (mul.getLhs() == v)
    return mul.getRhs();
  if (mul.getRhs() == v)
    return mul.getLhs();
  return {};
}

/// What one rotary computes: input x, the graph's full-width cos/sin, and
/// the pairing (rotate-half, or interleaved: rotate_every_two).
struct RotaryMatch {
  Value x, cos, sin;
  bool interleaved = false;
};

/// Matches `cosTerm + sinTerm` as x * cos + rotate_half(x) * sin or
/// x * cos + rotate_every_two(x) * sin.
FailureOr<RotaryMatch> matchTerms(Value cosTerm, Value sinTerm) {
  auto cosMul = cosTerm.getDefiningOp<MulOp>();
  auto sinMul = sinTerm.getDefiningOp<MulOp>();
  if (!cosMul || !sinMul || !cosTerm.hasOneUse() || !sinTerm.hasOneUse())
    return failure();
  for (bool interleaved : {false, true})
    for (Value rotated : {sinMul.getLhs(), sinMul.getRhs()}) {
      Value x = interleaved ? matchRotateEveryTwo(rotated)
                            : matchRotateHalf(rotated);
      if (!x)
        continue;
      Value cos = otherMulOperand(cosMul, x);
      if (!cos)
        continue;
      return RotaryMatch{x, cos, otherMulOperand(sinMul, rotated),
                         interleaved};
    }
  return failure();
}

/// True if `user` is in `root`'s block before it (so it dominates it).
bool isBefore(Operation *user, Operation *root) {
  return user->getBlock() == root->getBlock() && user->isBeforeInBlock(root);
}

/// `v` as `type`: itself, an identical reshape of it already before `root`
/// (the query's and the key's rotary read the same tables), or a new
/// reshape at `loc` right after `v`'s definition.
Value reshapedBefore(PatternRewriter &rewriter, Value v, RankedTensorType type,
                     Operation *root, Location loc) {
  if (v.getType() == type)
    return v;
  for (Operation *user : v.getUsers())
    if (isa<ReshapeOp>(user) && user->getResult(0).getType() == type &&
        isBefore(user, root))
      return user->getResult(0);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointAfterValue(v);
  return ReshapeOp::create(rewriter, loc, type, v);
}

/// `table[..., :D/2]` (interleaved: `table[..., ::2]`) reshaped to
/// `[B, S, D/2]`, built right after `table`'s definition; an identical
/// slice or reshape already there (the query's and the key's rotary read
/// the same tables) is reused.
Value halfTable(PatternRewriter &rewriter, Value table, int64_t batch,
                int64_t seq, Operation *root, bool interleaved) {
  auto type = cast<RankedTensorType>(table.getType());
  SmallVector<int64_t> sliced(type.getShape());
  sliced.back() /= 2;
  auto slicedType = RankedTensorType::get(sliced, type.getElementType());
  auto halfType = RankedTensorType::get({batch, seq, sliced.back()},
                                        type.getElementType());
  SmallVector<int64_t> zeros(type.getRank(), 0), ones(type.getRank(), 1);
  if (interleaved)
    ones.back() = 2;
  OpBuilder::InsertionGuard guard(rewriter);

  // A constant table (the dynamo exporter folds them) becomes a constant.
  if (auto c = table.getDefiningOp<ConstantOp>()) {
    auto attr = cast<DenseElementsAttr>(c.getValue());
    SmallVector<Attribute> values;
    int64_t d = type.getShape().back(), half = d / 2;
    if (attr.isSplat()) {
      values.push_back(attr.getSplatValue<Attribute>());
    } else {
      auto all = llvm::to_vector(attr.getValues<Attribute>());
      for (int64_t row = 0; row < (int64_t)all.size(); row += d)
        for (int64_t i = 0; i < half; ++i)
          values.push_back(all[row + (interleaved ? 2 * i : i)]);
    }
    auto halfAttr = DenseElementsAttr::get(halfType, values);
    for (ConstantOp other : c->getBlock()->getOps<ConstantOp>())
      if (other.getValue() == halfAttr && isBefore(other, root))
        return other.getResult();
    rewriter.setInsertionPointAfter(c);
    return ConstantOp::create(rewriter, c.getLoc(), halfAttr);
  }

  Value half;
  for (Operation *user : table.getUsers()) {
    auto slice = dyn_cast<SliceOp>(user);
    if (slice && slice.getType() == slicedType &&
        slice.getStarts() == ArrayRef<int64_t>(zeros) &&
        slice.getSteps() == ArrayRef<int64_t>(ones) && isBefore(slice, root)) {
      half = slice.getResult();
      break;
    }
  }
  if (!half) {
    rewriter.setInsertionPointAfterValue(table);
    half = SliceOp::create(rewriter, table.getLoc(), slicedType, table,
                           rewriter.getDenseI64ArrayAttr(zeros),
                           rewriter.getDenseI64ArrayAttr(ones));
  }
  return reshapedBefore(rewriter, half, halfType, root, table.getLoc());
}

/// `table` (`[..., S, D]`, leading dims 1 but the batch's) reshaped to
/// `[B, S, D]` for kiln.rotary {full_tables}, built right after `table`'s
/// definition; an identical reshape already there is reused.
Value fullTable(PatternRewriter &rewriter, Value table, int64_t batch,
                int64_t seq, Operation *root) {
  auto type = cast<RankedTensorType>(table.getType());
  return reshapedBefore(
      rewriter, table,
      RankedTensorType::get({batch, seq, type.getShape().back()},
                            type.getElementType()),
      root, table.getLoc());
}

/// x * cos + rotate_half(x) * sin => kiln.rotary x, cos', sin';
/// x * cos + rotate_every_two(x) * sin => kiln.rotary {interleaved}.
struct RotateHalfPattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(add.getType());
    if (type.getRank() != 4 || !isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(add, "not a rank-4 float add");
    FailureOr<RotaryMatch> m = matchTerms(add.getLhs(), add.getRhs());
    if (failed(m))
      m = matchTerms(add.getRhs(), add.getLhs());
    if (failed(m))
      return rewriter.notifyMatchFailure(
          add, "not x*cos + rotate_half(x)*sin or rotate_every_two");
    if (m->x.getType() != type || add.getLhs().getType() != type ||
        add.getRhs().getType() != type)
      return recognize::nearMiss(rewriter, add,
                                 "rotary: x is broadcast by cos/sin");
    ArrayRef<int64_t> xs = type.getShape();
    auto cosType = cast<RankedTensorType>(m->cos.getType());
    if (cosType != m->sin.getType() || cosType.getRank() < 2 ||
        cosType.getRank() > 4 ||
        cosType.getElementType() != type.getElementType())
      return recognize::nearMiss(rewriter, add, "rotary: cos/sin types differ");
    // cos/sin as [c0, c1, S, D] after padding with leading 1s: one table per
    // batch row (or shared), none per head.
    SmallVector<int64_t> cs(4 - cosType.getRank(), 1);
    llvm::append_range(cs, cosType.getShape());
    if (cs[3] != xs[3] || cs[2] != xs[2] || cs[1] != 1 ||
        (cs[0] != 1 && cs[0] != xs[0]))
      return recognize::nearMiss(rewriter, add,
                                 "rotary: cos/sin shape is not [B|1, 1, S, D]");
    Pairing pairing = m->interleaved ? Pairing::Pairs : Pairing::Halves;
    if (!partnersEqual(m->cos, pairing) || !partnersEqual(m->sin, pairing)) {
      // Tables whose pairs are not provably equal (fed as inputs, or
      // computed otherwise): kiln.rotary reads them whole, an entry per
      // element, which is exact for any tables.
      Value cos = fullTable(rewriter, m->cos, cs[0], xs[2], add);
      Value sin = fullTable(rewriter, m->sin, cs[0], xs[2], add);
      rewriter.replaceOpWithNewOp<RotaryOp>(
          add, type, m->x, cos, sin, rewriter.getBoolAttr(m->interleaved),
          rewriter.getBoolAttr(true));
      return success();
    }
    Value cos = halfTable(rewriter, m->cos, cs[0], xs[2], add, m->interleaved);
    Value sin = halfTable(rewriter, m->sin, cs[0], xs[2], add, m->interleaved);
    rewriter.replaceOpWithNewOp<RotaryOp>(add, type, m->x, cos, sin,
                                          rewriter.getBoolAttr(m->interleaved));
    return success();
  }
};

} // namespace

void kiln::populateRecognizeRotaryPatterns(RewritePatternSet &patterns) {
  patterns.add<RotateHalfPattern>(patterns.getContext());
}

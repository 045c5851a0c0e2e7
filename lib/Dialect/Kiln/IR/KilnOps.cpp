//===- KilnOps.cpp - kiln op verifiers, inference and folders ------------===//
//
// Result-type inference, verifiers and folders for the graph-level kiln ops.
// Every diagnostic is emitted at the op (or, during inference, at the location
// the builder supplied) and says what was expected.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace kiln;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

std::optional<int64_t> kiln::checkedNumElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d == 0)
      return 0;
  }
  for (int64_t d : shape) {
    if (n > kMaxElements / d)
      return std::nullopt;
    n *= d;
  }
  return n;
}

FailureOr<SmallVector<int64_t>> kiln::broadcastShapes(ArrayRef<int64_t> a,
                                                      ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return failure();
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool kiln::isScalarMap(Operation *op) {
  return isa<ElementwiseOpInterface, CastOp, WhereOp>(op);
}

bool kiln::isBroadcastableTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (auto [i, d] : llvm::enumerate(from))
    if (d != 1 && d != to[lead + i])
      return false;
  return true;
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s + "]";
}

static RankedTensorType rtt(Value v) {
  return cast<RankedTensorType>(v.getType());
}
static RankedTensorType rtt(Type t) { return cast<RankedTensorType>(t); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

namespace {
/// Shared inference for the broadcasting elementwise ops.
LogicalResult inferBroadcast(std::optional<Location> loc, StringRef opName,
                             ValueRange operands, Type resultElt,
                             SmallVectorImpl<Type> &results) {
  SmallVector<int64_t> shape(rtt(operands.front()).getShape());
  for (Value v : operands.drop_front()) {
    auto t = rtt(v);
    auto next = broadcastShapes(shape, t.getShape());
    if (failed(next))
      return emitOptionalError(loc, "'", opName, "' op operand shapes ",
                               shapeStr(shape), " and ",
                               shapeStr(t.getShape()),
                               " are not broadcast-compatible");
    shape = *next;
  }
  results.push_back(RankedTensorType::get(shape, resultElt));
  return success();
}
} // namespace

#define KILN_BINARY_INFER(OP, RESULT_ELT)                                      \
  Type OP::resultElementType(Type operandElt) { return RESULT_ELT; }           \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    Type elt = rtt(adaptor.getLhs()).getElementType();                         \
    if (elt != rtt(adaptor.getRhs()).getElementType())                         \
      return emitOptionalError(loc, "'", getOperationName(),                   \
                               "' op operands have different element types");  \
    return inferBroadcast(loc, getOperationName(), adaptor.getOperands(),      \
                          resultElementType(elt), results);                    \
  }

#define KILN_ARITH(OP) KILN_BINARY_INFER(OP, operandElt)
#define KILN_CMP(OP)                                                           \
  KILN_BINARY_INFER(OP, IntegerType::get(operandElt.getContext(), 1))

KILN_ARITH(AddOp)
KILN_ARITH(SubOp)
KILN_ARITH(MulOp)
KILN_ARITH(DivOp)
KILN_ARITH(PowOp)
KILN_ARITH(MaxOp)
KILN_ARITH(MinOp)
KILN_CMP(EqualOp)
KILN_CMP(GreaterOp)
KILN_CMP(GreaterEqualOp)
KILN_CMP(LessOp)
KILN_CMP(LessEqualOp)
KILN_ARITH(AndOp)
KILN_ARITH(OrOp)
KILN_ARITH(XorOp)
KILN_ARITH(ModOp)
KILN_ARITH(FmodOp)
KILN_ARITH(BitAndOp)
KILN_ARITH(BitOrOp)
KILN_ARITH(BitXorOp)
KILN_ARITH(ShiftLeftOp)
KILN_ARITH(ShiftRightOp)

#undef KILN_ARITH
#undef KILN_CMP
#undef KILN_BINARY_INFER

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() != getResult().getType().getShape())
    return emitOpError("result shape ")
           << shapeStr(getResult().getType().getShape())
           << " differs from input shape "
           << shapeStr(getInput().getType().getShape());
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  return {};
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Type elt = rtt(adaptor.getOnTrue()).getElementType();
  if (elt != rtt(adaptor.getOnFalse()).getElementType())
    return emitOptionalError(
        loc, "'kiln.where' op on_true and on_false have different element "
             "types");
  return inferBroadcast(loc, getOperationName(), adaptor.getOperands(), elt,
                        results);
}


//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto a = rtt(adaptor.getLhs()), b = rtt(adaptor.getRhs());
  if (a.getRank() < 2 || b.getRank() < 2)
    return emitOptionalError(loc, "'kiln.matmul' op operands must have rank "
                                  ">= 2, got ",
                             a.getRank(), " and ", b.getRank());
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(
        loc, "'kiln.matmul' op operands have different element types");
  int64_t m = a.getShape()[a.getRank() - 2], k = a.getShape().back();
  int64_t k2 = b.getShape()[b.getRank() - 2], n = b.getShape().back();
  if (k != k2)
    return emitOptionalError(loc, "'kiln.matmul' op contraction dims differ: "
                                  "lhs K = ",
                             k, ", rhs K = ", k2);
  auto batch = broadcastShapes(a.getShape().drop_back(2),
                               b.getShape().drop_back(2));
  if (failed(batch))
    return emitOptionalError(
        loc, "'kiln.matmul' op batch dims ",
        shapeStr(a.getShape().drop_back(2)), " and ",
        shapeStr(b.getShape().drop_back(2)), " are not broadcast-compatible");
  SmallVector<int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(n);
  results.push_back(RankedTensorType::get(shape, a.getElementType()));
  return success();
}


LogicalResult PoolOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  StringRef kind = getKind();
  if (kind != "max" && kind != "avg" && kind != "lp")
    return emitOpError("kind must be max, avg or lp, got '") << kind << "'";
  if (kind != "max" && !isa<FloatType>(in.getElementType()))
    return emitOpError(kind) << " pooling needs a float input";
  if (in.getElementType() != out.getElementType())
    return emitOpError("result element type differs from the input's");
  int64_t rank = in.getRank(), k = rank - 2;
  if (rank < 3 || out.getRank() != rank)
    return emitOpError("input and result must be [N, C, spatial...] of one "
                       "rank >= 3");
  ArrayRef<int64_t> ks = getKernelShape(), st = getStrides(), pd = getPads(),
                    dl = getDilations();
  if ((int64_t)ks.size() != k || (int64_t)st.size() != k ||
      (int64_t)dl.size() != k || (int64_t)pd.size() != 2 * k)
    return emitOpError("kernel_shape, strides and dilations need ")
           << k << " values and pads " << 2 * k;
  if (kind == "lp" && getP() < 1)
    return emitOpError("p must be >= 1, got ") << getP();
  ArrayRef<int64_t> is = in.getShape(), os = out.getShape();
  if (is[0] != os[0] || is[1] != os[1])
    return emitOpError("result N and C must be the input's");
  for (int64_t d = 0; d < k; ++d) {
    if (ks[d] < 1 || st[d] < 1 || dl[d] < 1 || pd[d] < 0 || pd[k + d] < 0)
      return emitOpError("spatial dim ")
             << d << ": kernel, stride and dilation must be >= 1 and pads >= 0";
    int64_t span = is[2 + d] + pd[d] + pd[k + d], eff = (ks[d] - 1) * dl[d] + 1;
    if (span < eff)
      return emitOpError("spatial dim ")
             << d << ": the window (" << eff << ") is larger than the padded input ("
             << span << ")";
    int64_t floorCount = (span - eff) / st[d] + 1;
    int64_t o = os[2 + d];
    if ((o != floorCount && o != floorCount + 1) ||
        (o - 1) * st[d] - pd[d] >= is[2 + d])
      return emitOpError("spatial dim ")
             << d << ": " << o << " outputs, expected " << floorCount
             << " (or one more whose window starts in the input)";
  }
  return success();
}

LogicalResult DetOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  ArrayRef<int64_t> s = in.getShape();
  if (s.size() < 2 || s[s.size() - 1] != s[s.size() - 2])
    return emitOpError("input must be [..., M, M], got [")
           << s << "]";
  if (out.getShape() != s.drop_back(2) ||
      out.getElementType() != in.getElementType())
    return emitOpError("result must be the input's batch dims [")
           << s.drop_back(2) << "] of its element type";
  return success();
}

LogicalResult ConvOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto w = cast<RankedTensorType>(getWeight().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  if (in.getElementType() != w.getElementType() ||
      in.getElementType() != out.getElementType() ||
      (getBias() && cast<RankedTensorType>(getBias().getType())
                            .getElementType() != in.getElementType()))
    return emitOpError("input, weight, bias and result element types differ");
  int64_t rank = in.getRank(), k = rank - 2;
  if (rank < 3 || w.getRank() != rank || out.getRank() != rank)
    return emitOpError("input, weight and result must have one rank >= 3 "
                       "([N, C, spatial...], [M, C / group, kernel...])");
  ArrayRef<int64_t> st = getStrides(), pd = getPads(), dl = getDilations();
  if ((int64_t)st.size() != k || (int64_t)dl.size() != k ||
      (int64_t)pd.size() != 2 * k)
    return emitOpError("strides and dilations need ")
           << k << " values and pads " << 2 * k;
  ArrayRef<int64_t> is = in.getShape(), ws = w.getShape(), os = out.getShape();
  int64_t g = getGroup();
  if (g < 1 || is[1] % g || ws[0] % g || ws[1] * g != is[1])
    return emitOpError("group ")
           << g << " must divide the input's " << is[1]
           << " channels and the weight's " << ws[0]
           << " filters, each reading " << ws[1] << " channels";
  if (os[0] != is[0] || os[1] != ws[0])
    return emitOpError("result must be [N, M, ...] of the input's N and the "
                       "weight's M");
  if (Value b = getBias()) {
    auto bt = cast<RankedTensorType>(b.getType());
    if (bt.getRank() != 1 || bt.getDimSize(0) != ws[0])
      return emitOpError("bias must be [") << ws[0] << "]";
  }
  for (int64_t d = 0; d < k; ++d) {
    if (st[d] < 1 || dl[d] < 1 || pd[d] < 0 || pd[k + d] < 0)
      return emitOpError("spatial dim ")
             << d << ": stride and dilation must be >= 1 and pads >= 0";
    int64_t span = is[2 + d] + pd[d] + pd[k + d],
            eff = (ws[2 + d] - 1) * dl[d] + 1;
    if (span < eff)
      return emitOpError("spatial dim ")
             << d << ": the kernel (" << eff
             << ") is larger than the padded input (" << span << ")";
    if (os[2 + d] != (span - eff) / st[d] + 1)
      return emitOpError("spatial dim ")
             << d << ": " << os[2 + d] << " outputs, expected "
             << (span - eff) / st[d] + 1;
  }
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto x = rtt(adaptor.getInput()), w = rtt(adaptor.getWeight());
  if (x.getRank() < 1)
    return emitOptionalError(loc, "'kiln.linear' op input must have rank >= 1");
  if (w.getRank() != 2)
    return emitOptionalError(loc, "'kiln.linear' op weight must be 2-D, got "
                                  "rank ",
                             w.getRank());
  if (x.getElementType() != w.getElementType())
    return emitOptionalError(
        loc, "'kiln.linear' op input and weight element types differ");
  bool t = adaptor.getTransposeWeight();
  int64_t k = t ? w.getShape()[1] : w.getShape()[0];
  int64_t n = t ? w.getShape()[0] : w.getShape()[1];
  if (k != x.getShape().back())
    return emitOptionalError(loc, "'kiln.linear' op weight K = ", k,
                             " does not match input K = ", x.getShape().back());
  if (Value bias = adaptor.getBias()) {
    auto bt = rtt(bias);
    if (bt.getElementType() != x.getElementType())
      return emitOptionalError(
          loc, "'kiln.linear' op bias element type differs from input");
    if (bt.getRank() != 1 || bt.getShape()[0] != n)
      return emitOptionalError(loc, "'kiln.linear' op bias must be [", n,
                               "], got ", shapeStr(bt.getShape()));
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = n;
  results.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}


//===----------------------------------------------------------------------===//
// Reductions and normalisation
//===----------------------------------------------------------------------===//

namespace {
LogicalResult inferReduce(std::optional<Location> loc, StringRef opName,
                          RankedTensorType in, ArrayRef<int64_t> axes,
                          bool keepdims, SmallVectorImpl<Type> &results) {
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t a : axes) {
    if (a < 0 || a >= in.getRank())
      return emitOptionalError(loc, "'", opName, "' op axis ", a,
                               " is out of range [0, ", in.getRank(), ")");
    if (!seen.insert(a).second)
      return emitOptionalError(loc, "'", opName, "' op axis ", a,
                               " is repeated");
  }
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(in.getShape())) {
    if (!seen.contains(i))
      shape.push_back(d);
    else if (keepdims)
      shape.push_back(1);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}
} // namespace

#define KILN_REDUCE(OP)                                                        \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferReduce(loc, getOperationName(), rtt(adaptor.getInput()),       \
                       adaptor.getAxes(), adaptor.getKeepdims(), results);     \
  }
KILN_REDUCE(ReduceSumOp)
KILN_REDUCE(ReduceMeanOp)
KILN_REDUCE(ReduceMaxOp)
KILN_REDUCE(ReduceMinOp)
KILN_REDUCE(ReduceProdOp)
#undef KILN_REDUCE

LogicalResult SoftmaxOp::verify() {
  // I64Attr getters return uint64_t: read the axis as signed.
  int64_t rank = getInput().getType().getRank();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range [0, " << rank
                                << ")";
  return success();
}

namespace {
/// Shared check of a norm's axis and per-feature parameter shapes.
LogicalResult inferNorm(std::optional<Location> loc, StringRef opName,
                        RankedTensorType in, int64_t axis,
                        ArrayRef<Value> params,
                        SmallVectorImpl<Type> &results) {
  if (axis < 0 || axis >= in.getRank())
    return emitOptionalError(loc, "'", opName, "' op axis ", axis,
                             " is out of range [0, ", in.getRank(), ")");
  ArrayRef<int64_t> normShape = in.getShape().drop_front(axis);
  for (Value p : params) {
    if (!p)
      continue;
    auto pt = rtt(p);
    if (pt.getElementType() != in.getElementType())
      return emitOptionalError(loc, "'", opName,
                               "' op scale/bias element type differs from "
                               "input");
    if (!isBroadcastableTo(pt.getShape(), normShape))
      return emitOptionalError(loc, "'", opName, "' op scale/bias shape ",
                               shapeStr(pt.getShape()),
                               " does not broadcast to normalised shape ",
                               shapeStr(normShape));
  }
  results.push_back(in);
  return success();
}
} // namespace

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  return inferNorm(loc, getOperationName(), rtt(adaptor.getInput()),
                   adaptor.getAxis(), {adaptor.getScale(), adaptor.getBias()},
                   results);
}
LogicalResult LayerNormOp::verify() {
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  return inferNorm(loc, getOperationName(), rtt(adaptor.getInput()),
                   adaptor.getAxis(), {adaptor.getScale()}, results);
}
LogicalResult RmsNormOp::verify() {
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto data = rtt(adaptor.getData()), idx = rtt(adaptor.getIndices());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    return emitOptionalError(loc, "'kiln.gather' op axis ", axis,
                             " is out of range [0, ", data.getRank(), ")");
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  results.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("element type changes from ")
           << in.getElementType() << " to " << out.getElementType();
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("element count changes from ")
           << in.getNumElements() << " " << shapeStr(in.getShape()) << " to "
           << out.getNumElements() << " " << shapeStr(out.getShape());
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getResult().getType());
  return {};
}

namespace {
/// reshape(reshape(x)) -> reshape(x).
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a reshape");
    rewriter.modifyOpInPlace(
        op, [&] { op.getInputMutable().assign(inner.getInput()); });
    return success();
  }
};

/// transpose(transpose(x, p1), p2) -> transpose(x, p1∘p2).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return rewriter.notifyMatchFailure(op, "input is not a transpose");
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, inner.getInput(), perm);
    return success();
  }
};
} // namespace

namespace {
/// reshape(kiln.weight) -> kiln.weight of the reshaped type: the same bytes
/// in the same order (a view of a weight is not in the arena, so the
/// reshape would be a copy kernel every step: MatMulNBits' 2-D scales and
/// zero points reshaped to 1-D). Not for a weight read transposed or as a
/// column range, whose type is tied to those attributes, nor for a reshape
/// that is returned (an output must be computed into the arena).
struct ReshapeOfWeight : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto w = op.getInput().getDefiningOp<WeightOp>();
    if (!w || w.getTransposed() || w.getColumns())
      return rewriter.notifyMatchFailure(op, "not a weight as stored");
    // A returned reshape stays: an output is computed into the arena.
    for (Operation *user : op->getUsers())
      if (user->hasTrait<OpTrait::IsTerminator>())
        return rewriter.notifyMatchFailure(op, "returned");
    rewriter.setInsertionPoint(w);
    auto reshaped = cast<WeightOp>(rewriter.clone(*w));
    reshaped.getResult().setType(op.getType());
    rewriter.replaceOp(op, reshaped.getResult());
    if (w->use_empty())
      rewriter.eraseOp(w);
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposeReshapes, ReshapeOfWeight>(context);
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto in = rtt(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != in.getRank())
    return emitOptionalError(loc, "'kiln.transpose' op perm has ", perm.size(),
                             " entries for rank ", in.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOptionalError(loc, "'kiln.transpose' op perm is not a "
                                    "permutation of [0, ",
                               in.getRank(), ")");
    seen[p] = true;
    shape.push_back(in.getShape()[p]);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput();
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

LogicalResult SliceOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  int64_t rank = in.getRank();
  if ((int64_t)getStarts().size() != rank || (int64_t)getSteps().size() != rank)
    return emitOpError("starts and steps need ")
           << rank << " entries each, got " << getStarts().size() << " and "
           << getSteps().size();
  if (out.getRank() != rank || in.getElementType() != out.getElementType())
    return emitOpError("result must have the input's rank and element type");
  for (int64_t d = 0; d < rank; ++d) {
    int64_t start = getStarts()[d], step = getSteps()[d],
            count = out.getShape()[d], dim = in.getShape()[d];
    if (step == 0)
      return emitOpError("step of dim ") << d << " is zero";
    if (count == 0)
      continue;
    int64_t last = start + (count - 1) * step;
    if (start < 0 || start >= dim || last < 0 || last >= dim)
      return emitOpError("dim ")
             << d << " reads indices " << start << " to " << last
             << ", outside [0, " << dim << ")";
  }
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() != getResult().getType())
    return {};
  for (auto [s, st] : llvm::zip_equal(getStarts(), getSteps()))
    if (s != 0 || st != 1)
      return {};
  return getInput();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "'kiln.concat' op needs at least one input");
  auto first = rtt(inputs.front());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "'kiln.concat' op axis ", axis,
                             " is out of range [0, ", first.getRank(), ")");
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : inputs) {
    auto t = rtt(v);
    if (t.getElementType() != first.getElementType() ||
        t.getRank() != first.getRank())
      return emitOptionalError(loc, "'kiln.concat' op inputs differ in rank "
                                    "or element type");
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != axis && t.getShape()[d] != first.getShape()[d])
        return emitOptionalError(loc, "'kiln.concat' op input shapes ",
                                 shapeStr(first.getShape()), " and ",
                                 shapeStr(t.getShape()), " differ off axis ",
                                 axis);
    shape[axis] += t.getShape()[axis];
  }
  results.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SplitOp::verify() {
  auto in = getInput().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= in.getRank())
    return emitOpError("axis ") << axis << " is out of range [0, "
                                << in.getRank() << ")";
  if (getResults().empty())
    return emitOpError("needs at least one result");
  int64_t total = 0;
  for (Type t : getResults().getTypes()) {
    auto rt = rtt(t);
    if (rt.getRank() != in.getRank() ||
        rt.getElementType() != in.getElementType())
      return emitOpError("results must have the input's rank and element "
                         "type");
    for (int64_t d = 0; d < rt.getRank(); ++d)
      if (d != axis && rt.getShape()[d] != in.getShape()[d])
        return emitOpError("result shape ")
               << shapeStr(rt.getShape()) << " differs from input "
               << shapeStr(in.getShape()) << " off axis " << axis;
    total += rt.getShape()[axis];
  }
  if (total != in.getShape()[axis])
    return emitOpError("result sizes along axis ")
           << axis << " add up to " << total << ", input has "
           << in.getShape()[axis];
  return success();
}

LogicalResult ExpandOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("element type changes");
  if (!isBroadcastableTo(in.getShape(), out.getShape()))
    return emitOpError("input shape ")
           << shapeStr(in.getShape()) << " does not broadcast to "
           << shapeStr(out.getShape());
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    if (dense.isSplat())
      return DenseElementsAttr::get(getResult().getType(),
                                    dense.getSplatValue<Attribute>());
  return {};
}

LogicalResult TriluOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError("input must have rank >= 2");
  return success();
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto data = rtt(adaptor.getData()), idx = rtt(adaptor.getIndices()),
       upd = rtt(adaptor.getUpdates());
  if (idx.getRank() < 1)
    return emitOptionalError(loc, "'kiln.scatter_nd' op indices must have "
                                  "rank >= 1");
  int64_t q = idx.getShape().back();
  if (q > data.getRank())
    return emitOptionalError(loc, "'kiln.scatter_nd' op index depth ", q,
                             " exceeds data rank ", data.getRank());
  SmallVector<int64_t> want(idx.getShape().drop_back());
  llvm::append_range(want, data.getShape().drop_front(q));
  if (upd.getShape() != ArrayRef<int64_t>(want) ||
      upd.getElementType() != data.getElementType())
    return emitOptionalError(loc, "'kiln.scatter_nd' op updates must be ",
                             shapeStr(want), " of the data's element type, "
                                             "got ",
                             shapeStr(upd.getShape()));
  results.push_back(data);
  return success();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  auto t = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!t)
    return emitOptionalError(loc, "'kiln.constant' op value must be a ranked "
                                  "tensor");
  results.push_back(t);
  return success();
}

LogicalResult ConstantOp::verify() {
  // Weights belong in kiln.weight; keep the IR small and printable.
  constexpr int64_t kMaxElements = 1 << 20;
  if (getResult().getType().getNumElements() > kMaxElements &&
      !(isa<DenseElementsAttr>(getValue()) &&
        cast<DenseElementsAttr>(getValue()).isSplat()))
    return emitOpError("holds ")
           << getResult().getType().getNumElements()
           << " elements; non-splat constants above " << kMaxElements
           << " elements must be kiln.weight references";
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult WeightOp::verify() {
  auto t = getResult().getType();
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  // I64Attr getters return uint64_t: read offset and length as signed.
  int64_t offset = getOffset(), length = getLength();
  if (offset < 0)
    return emitOpError("offset must be non-negative, got ") << offset;
  Type stored = t.getElementType();
  if (std::optional<Type> source = getSourceType()) {
    if (!source->isF32() || !(stored.isBF16() || stored.isF16()))
      return emitOpError("source_type ")
             << *source << " cannot be read as " << stored
             << " (supported: f32 stored, read as bf16 or f16)";
    stored = *source;
  }
  if (getTransposed() && t.getRank() != 2)
    return emitOpError("transposed needs a rank-2 result, got rank ")
           << t.getRank();
  unsigned bits = stored.getIntOrFloatBitWidth();
  int64_t bytes = t.getNumElements() * ((bits + 7) / 8);
  if (std::optional<ArrayRef<int64_t>> cols = getColumns()) {
    if (cols->size() != 3 || t.getRank() != 2)
      return emitOpError("columns needs [begin, end, stored columns] and a "
                         "rank-2 result");
    int64_t b = (*cols)[0], e = (*cols)[1], n = (*cols)[2];
    int64_t width = t.getDimSize(getTransposed() ? 0 : 1);
    if (b < 0 || e <= b || e > n || e - b != width)
      return emitOpError("columns [")
             << b << ", " << e << ") of " << n
             << " stored columns do not give the result's " << width;
    bytes = bytes / width * n; // the whole stored [K, n] matrix
  }
  if (length != bytes)
    return emitOpError("length ")
           << length << " does not match the tensor's " << bytes
           << " bytes (" << t.getNumElements() << " x " << stored << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// Transformer blocks
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto q = rtt(adaptor.getQuery()), k = rtt(adaptor.getKey()),
       v = rtt(adaptor.getValue());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOptionalError(loc, "'kiln.attention' op query, key and value "
                                  "must be rank 4 [B, H, S, D]");
  if (k.getElementType() != q.getElementType() ||
      v.getElementType() != q.getElementType())
    return emitOptionalError(loc, "'kiln.attention' op query, key and value "
                                  "element types differ");
  auto qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  if (qs[0] != ks[0] || ks[0] != vs[0])
    return emitOptionalError(loc, "'kiln.attention' op batch sizes differ");
  if (ks[1] != vs[1] || ks[2] != vs[2])
    return emitOptionalError(loc, "'kiln.attention' op key and value differ "
                                  "in heads or length");
  if (ks[1] == 0 || qs[1] % ks[1] != 0)
    return emitOptionalError(loc, "'kiln.attention' op query heads ", qs[1],
                             " are not a multiple of kv heads ", ks[1]);
  if (qs[3] != ks[3])
    return emitOptionalError(loc, "'kiln.attention' op query head dim ", qs[3],
                             " differs from key head dim ", ks[3]);
  if (Value mask = adaptor.getMask()) {
    Type maskElt = rtt(mask).getElementType();
    // An f32 mask may sit beside 16-bit data (kiln-lower-precision).
    bool f32Mask = maskElt.isF32() && (q.getElementType().isBF16() ||
                                       q.getElementType().isF16());
    if (!maskElt.isInteger(1) && maskElt != q.getElementType() && !f32Mask)
      return emitOptionalError(loc, "'kiln.attention' op mask must be i1 or "
                                    "the query's element type, got ",
                               maskElt);
    SmallVector<int64_t> full = {qs[0], qs[1], qs[2], ks[2]};
    if (!isBroadcastableTo(rtt(mask).getShape(), full))
      return emitOptionalError(loc, "'kiln.attention' op mask shape ",
                               shapeStr(rtt(mask).getShape()),
                               " does not broadcast to ", shapeStr(full));
  }
  results.push_back(
      RankedTensorType::get({qs[0], qs[1], qs[2], vs[3]}, q.getElementType()));
  return success();
}

LogicalResult RotaryOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto x = rtt(adaptor.getInput()), c = rtt(adaptor.getCos()),
       s = rtt(adaptor.getSin());
  if (x.getRank() != 4)
    return emitOptionalError(loc, "'kiln.rotary' op input must be rank 4 "
                                  "[B, H, S, D]");
  bool full = adaptor.getFullTables();
  if (c != s || c.getRank() != 3)
    return emitOptionalError(loc, "'kiln.rotary' op cos and sin must be the "
                                  "same rank-3 type ",
                             full ? "[B, S, R] (full_tables)" : "[B, S, R/2]");
  // cos/sin may be f32 beside 16-bit data (kiln-lower-precision keeps the
  // tables computed from positions exact).
  bool f32Tables = c.getElementType().isF32() &&
                   (x.getElementType().isBF16() || x.getElementType().isF16());
  if (c.getElementType() != x.getElementType() && !f32Tables)
    return emitOptionalError(
        loc, "'kiln.rotary' op cos/sin element type differs from input "
             "(and is not f32 beside a bf16/f16 input)");
  auto xs = x.getShape(), cs = c.getShape();
  // The rotary dim R: twice the tables' width, or (full_tables) their width,
  // even.
  int64_t r = full ? cs[2] : 2 * cs[2];
  if ((cs[0] != xs[0] && cs[0] != 1) || cs[1] != xs[2] || r > xs[3] ||
      r % 2 != 0)
    return emitOptionalError(loc, "'kiln.rotary' op cos/sin shape ",
                             shapeStr(cs), " does not fit input ",
                             shapeStr(xs),
                             full ? " (full_tables: [B|1, S, R], R even, R <= D)"
                                  : "");
  results.push_back(x);
  return success();
}

bool kiln::isBinary(ElementwiseFn fn) {
  return fn >= ElementwiseFn::Add;
}

#include "kiln/Dialect/Kiln/IR/KilnOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnOps.cpp.inc"

//===- ConvertElementwise.cpp - ONNX elementwise ops to kiln --------------===//
//
// Converters for the broadcasting binary ops (arithmetic, comparison,
// logic), the unary math ops, Cast/CastLike, Where, Gelu and the
// pass-through ops (Identity, Dropout at inference).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/SmallString.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::import;

namespace {

/// Shared body of a two-operand converter.
template <typename OpTy, bool IsCompare = false>
LogicalResult convertBinary(NodeContext &c) {
  Value lhs = c.required(0, "A"), rhs = c.required(1, "B");
  if (!lhs || !rhs)
    return failure();
  // Comparisons on booleans (Equal) compare as i8: kiln compares numbers.
  if (IsCompare && eltOf(lhs).isInteger(1) && eltOf(rhs).isInteger(1)) {
    lhs = c.cast(lhs, c.b.getI8Type());
    rhs = c.cast(rhs, c.b.getI8Type());
    if (!lhs || !rhs)
      return failure();
  }
  Value r = c.binary<OpTy>(lhs, rhs, IsCompare);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

/// Pow allows an exponent of another type: cast it to the base's type.
LogicalResult convertPow(NodeContext &c) {
  Value base = c.required(0, "X"), exp = c.required(1, "Y");
  if (!base || !exp || !(exp = c.cast(exp, eltOf(base))))
    return failure();
  Value r = c.binary<PowOp>(base, exp);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

/// Variadic Max / Min / Sum / Mean fold left over their inputs.
template <typename OpTy> LogicalResult convertVariadic(NodeContext &c) {
  if (c.numInputs() == 0) {
    c.emitError() << "needs at least one input";
    return failure();
  }
  Value acc = c.required(0, "data_0");
  for (unsigned i = 1; acc && i < c.numInputs(); ++i) {
    Value next = c.required(i, "data_i");
    acc = next ? c.binary<OpTy>(acc, next) : Value();
  }
  if (!acc)
    return failure();
  c.results.push_back(acc);
  return success();
}

template <typename OpTy> LogicalResult convertUnary(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  Value r = c.create<OpTy>(x.getType(), x);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

LogicalResult convertRelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  Value zero = c.scalar(eltOf(x), 0.0);
  Value r = c.binary<MaxOp>(x, zero);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

LogicalResult convertIdentity(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  c.results.push_back(x);
  return success();
}

/// Dropout is the identity: kiln compiles inference, and a training-mode
/// Dropout (random masks) has no deterministic meaning to reproduce, so
/// `ratio` and `training_mode` are ignored -- with a warning at the node when
/// the graph asks for training mode with a non-zero ratio, since outputs taken
/// from such a model in training mode will not match. Its mask output is all
/// true.
LogicalResult convertDropout(NodeContext &c) {
  Value x = c.required(0, "data");
  if (!x)
    return failure();
  DenseElementsAttr training = c.input(2) ? c.constantOf(c.input(2)) : nullptr;
  if (training && training.getNumElements() == 1 &&
      training.getValues<bool>()[0]) {
    DenseElementsAttr ratio = c.input(1) ? c.constantOf(c.input(1)) : nullptr;
    double r = 0.5; // ONNX's default ratio
    if (ratio && ratio.getNumElements() == 1 &&
        isa<FloatType>(ratio.getElementType()))
      r = (*ratio.getValues<APFloat>().begin()).convertToDouble();
    SmallString<16> ratioText;
    APFloat(r).toString(ratioText, /*FormatPrecision=*/6);
    if (!c.input(1) || !ratio || r != 0.0)
      emitWarning(c.loc) << "Dropout (opset " << c.opset
                         << "): training_mode is true (ratio " << ratioText
                         << "); kiln compiles inference and imports it as "
                            "the identity";
  }
  c.results.push_back(x);
  if (c.outputUsed(1))
    c.results.push_back(c.constant(DenseElementsAttr::get(
        RankedTensorType::get(shapeOf(x), c.b.getI1Type()), true)));
  return success();
}

LogicalResult convertCast(NodeContext &c) {
  Value x = c.required(0, "input");
  if (!x)
    return failure();
  Type to;
  if (c.opType() == "CastLike") {
    Value like = c.required(1, "target_type");
    if (!like)
      return failure();
    to = eltOf(like);
  } else {
    int64_t dt = c.getInt("to", 0);
    to = onnxElementType(c.getContext(), static_cast<int32_t>(dt));
    if (!to) {
      c.emitError() << "cannot cast to unsupported "
                    << onnxTypeName(static_cast<int32_t>(dt));
      return failure();
    }
  }
  Value r = c.cast(x, to);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

LogicalResult convertWhere(NodeContext &c) {
  Value cond = c.required(0, "condition"), x = c.required(1, "X"),
        y = c.required(2, "Y");
  if (!cond || !x || !y)
    return failure();
  auto shape = kiln::broadcastShapes(shapeOf(cond), shapeOf(x));
  if (succeeded(shape))
    shape = kiln::broadcastShapes(*shape, shapeOf(y));
  if (failed(shape)) {
    c.emitError() << "shapes " << shapeString(shapeOf(cond)) << ", "
                  << shapeString(shapeOf(x)) << " and "
                  << shapeString(shapeOf(y)) << " are not broadcastable";
    return failure();
  }
  Value r = c.create<WhereOp>(withShape(x, *shape), cond, x, y);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

LogicalResult convertGelu(NodeContext &c) {
  Value x = c.required(0, "X");
  if (!x)
    return failure();
  std::string text = c.getString("approximate", "none");
  std::optional<GeluApproximation> approx = symbolizeGeluApproximation(text);
  if (!approx) {
    c.emitError() << "approximate must be \"none\" or \"tanh\", got \"" << text
                  << "\"";
    return failure();
  }
  Value r = c.create<GeluOp>(x.getType(), x, *approx);
  if (!r)
    return failure();
  c.results.push_back(r);
  return success();
}

const OpConverter kElementwise[] = {
    {"Add", 13, 23, convertBinary<AddOp>},
    {"Sub", 13, 23, convertBinary<SubOp>},
    {"Mul", 13, 23, convertBinary<MulOp>},
    {"Div", 13, 23, convertBinary<DivOp>},
    {"Pow", 13, 23, convertPow},
    {"Max", 13, 23, convertVariadic<MaxOp>},
    {"Min", 13, 23, convertVariadic<MinOp>},
    {"Sum", 13, 23, convertVariadic<AddOp>},
    {"Equal", 13, 23, convertBinary<EqualOp, true>},
    {"Greater", 13, 23, convertBinary<GreaterOp, true>},
    {"GreaterOrEqual", 13, 23, convertBinary<GreaterEqualOp, true>},
    {"Less", 13, 23, convertBinary<LessOp, true>},
    {"LessOrEqual", 13, 23, convertBinary<LessEqualOp, true>},
    {"And", 13, 23, convertBinary<AndOp>},
    {"Or", 13, 23, convertBinary<OrOp>},
    {"Xor", 13, 23, convertBinary<XorOp>},
    {"Neg", 13, 23, convertUnary<NegOp>},
    {"Abs", 13, 23, convertUnary<AbsOp>},
    {"Sqrt", 13, 23, convertUnary<SqrtOp>},
    {"Reciprocal", 13, 23, convertUnary<ReciprocalOp>},
    {"Exp", 13, 23, convertUnary<ExpOp>},
    {"Log", 13, 23, convertUnary<LogOp>},
    {"Tanh", 13, 23, convertUnary<TanhOp>},
    {"Erf", 13, 23, convertUnary<ErfOp>},
    {"Sin", 13, 23, convertUnary<SinOp>},
    {"Cos", 13, 23, convertUnary<CosOp>},
    {"Sigmoid", 13, 23, convertUnary<SigmoidOp>},
    {"Softplus", 13, 23, convertUnary<SoftplusOp>},
    {"Not", 13, 23, convertUnary<NotOp>},
    {"Relu", 13, 23, convertRelu},
    {"Identity", 13, 25, convertIdentity},
    {"Dropout", 13, 23, convertDropout},
    {"Cast", 13, 28, convertCast},
    {"CastLike", 15, 28, convertCast},
    {"Where", 13, 23, convertWhere},
    {"Gelu", 20, 23, convertGelu},
};

} // namespace

ArrayRef<OpConverter> kiln::import::getElementwiseConverters() {
  return kElementwise;
}

const OpConverter *kiln::import::lookupConverter(StringRef opType) {
  for (ArrayRef<OpConverter> group :
       {getElementwiseConverters(), getShapeConverters(), getNNConverters(),
        getMathConverters(), getIndexConverters(), getLayoutConverters()})
    for (const OpConverter &conv : group)
      if (conv.opType == opType)
        return &conv;
  return nullptr;
}

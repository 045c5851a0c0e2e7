//===- EmitElementwise.cpp - CUDA for elementwise kiln ops ----------------===//
//
// Unary, binary (arithmetic, comparison, logic), where, cast, gelu, expand
// and reshape: a grid-stride loop, one thread per output element. Operands that
// broadcast are indexed through the output coordinates with compile-time
// strides (stride 0 on broadcast dims); operands of the output's layout are
// indexed directly.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// The scalar expression of a unary op applied to `x`, or empty.
static std::string unaryExpr(Operation *op, StringRef x) {
  auto call = [&](StringRef fn) { return ("kiln::op::" + fn + "(" + x + ")").str(); };
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](NegOp) { return call("neg"); })
      .Case([&](AbsOp) { return call("abs_"); })
      .Case([&](SqrtOp) { return call("sqrt_"); })
      .Case([&](RsqrtOp) { return call("rsqrt_"); })
      .Case([&](ReciprocalOp) { return call("reciprocal"); })
      .Case([&](ExpOp) { return call("exp_"); })
      .Case([&](LogOp) { return call("log_"); })
      .Case([&](TanhOp) { return call("tanh_"); })
      .Case([&](ErfOp) { return call("erf_"); })
      .Case([&](SinOp) { return call("sin_"); })
      .Case([&](CosOp) { return call("cos_"); })
      .Case([&](SigmoidOp) { return call("sigmoid"); })
      .Case([&](SiluOp) { return call("silu"); })
      .Case([&](SoftplusOp) { return call("softplus"); })
      .Case([&](NotOp) { return ("(!" + x + ")").str(); })
      .Case([&](GeluOp g) {
        return call(g.getApproximate() == GeluApproximation::Tanh ? "gelu_tanh"
                                                                  : "gelu_erf");
      })
      .Default([](Operation *) { return std::string(); });
}

/// The scalar expression of a binary op on `a`, `b`, or empty.
static std::string binaryExpr(Operation *op, StringRef a, StringRef b) {
  auto call = [&](StringRef fn) {
    return ("kiln::op::" + fn + "(" + a + ", " + b + ")").str();
  };
  auto infix = [&](StringRef o) { return ("(" + a + " " + o + " " + b + ")").str(); };
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](AddOp) { return call("add"); })
      .Case([&](SubOp) { return call("sub"); })
      .Case([&](MulOp) { return call("mul"); })
      .Case([&](DivOp) { return call("div"); })
      .Case([&](PowOp) { return call("pow_"); })
      .Case([&](MaxOp) { return call("max_"); })
      .Case([&](MinOp) { return call("min_"); })
      .Case([&](EqualOp) { return infix("=="); })
      .Case([&](GreaterOp) { return infix(">"); })
      .Case([&](GreaterEqualOp) { return infix(">="); })
      .Case([&](LessOp) { return infix("<"); })
      .Case([&](LessEqualOp) { return infix("<="); })
      .Case([&](AndOp) { return infix("&&"); })
      .Case([&](OrOp) { return infix("||"); })
      .Case([&](XorOp) { return infix("!="); })
      .Default([](Operation *) { return std::string(); });
}

/// Emits `out0[i] = (T)expr(in0[idx0], in1[idx1], ...)` over the result.
static LogicalResult
emitMap(EmitContext &ctx, Operation *op,
        llvm::function_ref<std::string(ArrayRef<std::string>)> expr) {
  Value result = op->getResult(0);
  FailureOr<std::string> outType = ctx.typeOf(result, op);
  if (failed(outType))
    return failure();
  ArrayRef<int64_t> outShape = shapeOf(result);
  SmallVector<std::string> loads;
  bool coords = false;
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    loads.push_back("in" + std::to_string(i) + "[" +
                    broadcastIndex(shapeOf(v), outShape, "i", "c", coords) +
                    "]");
  std::string body;
  llvm::raw_string_ostream os(body);
  int64_t n = product(outShape);
  os << "  kiln::forEach<" << n << ">(out0, [&](int64_t i) -> " << *outType
     << " {\n";
  if (coords)
    os << "    " << decompose("i", outShape, "c") << "\n";
  os << "    return (" << *outType << ")(" << expr(loads) << ");\n  });\n";
  return ctx.simpleKernel(op, SmallVector<Value>(op->getOperands()), {result},
                          body);
}

std::optional<LogicalResult>
kiln::codegen::emitElementwiseOp(EmitContext &ctx, Operation *op) {
  if (op->getNumResults() != 1)
    return std::nullopt;
  if (op->getNumOperands() == 1 && !unaryExpr(op, "x").empty())
    return emitMap(ctx, op, [&](ArrayRef<std::string> in) {
      return unaryExpr(op, in[0]);
    });
  if (op->getNumOperands() == 2 && !binaryExpr(op, "a", "b").empty())
    return emitMap(ctx, op, [&](ArrayRef<std::string> in) {
      return binaryExpr(op, in[0], in[1]);
    });
  if (isa<WhereOp>(op))
    return emitMap(ctx, op, [](ArrayRef<std::string> in) {
      return "(" + in[0] + " ? " + in[1] + " : " + in[2] + ")";
    });
  if (auto cast = dyn_cast<CastOp>(op)) {
    std::optional<std::string> to = cudaType(eltOf(cast.getResult()));
    if (!to)
      return LogicalResult(
          op->emitOpError("casts to unsupported element type ")
          << eltOf(cast.getResult()));
    return emitMap(ctx, op, [&](ArrayRef<std::string> in) {
      return "kiln::op::cast<" + *to + ">(" + in[0] + ")";
    });
  }
  // Expand is a broadcast copy.
  if (isa<ExpandOp>(op))
    return emitMap(ctx, op, [](ArrayRef<std::string> in) { return in[0]; });
  // Reshape keeps the row-major order: a plain copy (a reshape that needs no
  // copy is a view of a view at the scheduled level, not a kernel).
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    int64_t n = product(shapeOf(reshape.getResult()));
    return ctx.simpleKernel(
        op, {reshape.getInput()}, {reshape.getResult()},
        "  kiln::mapCopy<" + std::to_string(n) +
            ">(in0, out0, [](int64_t i) { return i; });\n");
  }
  return std::nullopt;
}

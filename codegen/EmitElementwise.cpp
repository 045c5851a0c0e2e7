//===- EmitElementwise.cpp - CUDA for elementwise kiln ops ----------------===//
//
// Unary, binary (arithmetic, comparison, logic), where, cast, gelu, expand
// and reshape: a grid-stride loop, one thread per output element. The
// scalar expressions (scalarMapExpr) are shared with fused kernels
// (EmitFused.cpp). Operands that
// broadcast are indexed through the output coordinates with compile-time
// strides (stride 0 on broadcast dims); operands of the output's layout are
// indexed directly.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// The scalar expression of `fn` (ElementwiseOpInterface) on `in` (one
/// operand expression per operand): a `kiln::op::` device function of
/// kiln_kernels.cuh, or a C++ operator.
static std::string fnExpr(ElementwiseFn fn, ArrayRef<std::string> in) {
  auto call = [&](StringRef name) {
    std::string s = "kiln::op::" + name.str() + "(" + in[0];
    if (in.size() == 2)
      s += ", " + in[1];
    return s + ")";
  };
  auto infix = [&](StringRef o) {
    return "(" + in[0] + " " + o.str() + " " + in[1] + ")";
  };
  using F = ElementwiseFn;
  switch (fn) {
  case F::Neg: return call("neg");
  case F::Abs: return call("abs_");
  case F::Sqrt: return call("sqrt_");
  case F::Rsqrt: return call("rsqrt_");
  case F::Reciprocal: return call("reciprocal");
  case F::Exp: return call("exp_");
  case F::Log: return call("log_");
  case F::Tanh: return call("tanh_");
  case F::Erf: return call("erf_");
  case F::Sin: return call("sin_");
  case F::Cos: return call("cos_");
  case F::Sigmoid: return call("sigmoid");
  case F::Silu: return call("silu");
  case F::Softplus: return call("softplus");
  case F::Not: return "(!" + in[0] + ")";
  case F::GeluErf: return call("gelu_erf");
  case F::GeluTanh: return call("gelu_tanh");
  case F::Tan: return call("tan_");
  case F::Asin: return call("asin_");
  case F::Acos: return call("acos_");
  case F::Atan: return call("atan_");
  case F::Sinh: return call("sinh_");
  case F::Cosh: return call("cosh_");
  case F::Asinh: return call("asinh_");
  case F::Acosh: return call("acosh_");
  case F::Atanh: return call("atanh_");
  case F::Floor: return call("floor_");
  case F::Ceil: return call("ceil_");
  case F::Round: return call("round_");
  case F::Sign: return call("sign_");
  case F::Mod: return call("mod_");
  case F::Fmod: return call("fmod_");
  case F::BitAnd: return infix("&");
  case F::BitOr: return infix("|");
  case F::BitXor: return infix("^");
  case F::ShiftLeft: return call("shl");
  case F::ShiftRight: return call("shr");
  case F::BitNot: return "(~" + in[0] + ")";
  case F::Add: return call("add");
  case F::Sub: return call("sub");
  case F::Mul: return call("mul");
  case F::Div: return call("div");
  case F::Pow: return call("pow_");
  case F::Max: return call("max_");
  case F::Min: return call("min_");
  case F::Equal: return infix("==");
  case F::Greater: return infix(">");
  case F::GreaterEqual: return infix(">=");
  case F::Less: return infix("<");
  case F::LessEqual: return infix("<=");
  case F::And: return infix("&&");
  case F::Or: return infix("||");
  case F::Xor: return infix("!=");
  }
  llvm_unreachable("every ElementwiseFn is handled above");
}

bool kiln::codegen::isScalarMap(Operation *op) {
  return kiln::isScalarMap(op) && op->getNumResults() == 1;
}

FailureOr<std::string> kiln::codegen::scalarMapExpr(Operation *op,
                                                    ArrayRef<std::string> in) {
  if (auto ew = dyn_cast<ElementwiseOpInterface>(op))
    return fnExpr(ew.getElementwiseFn(), in);
  if (isa<WhereOp>(op))
    return "(" + in[0] + " ? " + in[1] + " : " + in[2] + ")";
  auto cast = dyn_cast<CastOp>(op);
  if (!cast)
    return op->emitOpError("is not an elementwise scalar map");
  std::optional<std::string> to = cudaType(eltOf(cast.getResult()));
  if (!to)
    return op->emitOpError("casts to unsupported element type ")
           << eltOf(cast.getResult());
  return "kiln::op::cast<" + *to + ">(" + in[0] + ")";
}

/// Emits `out0[i] = (T)expr(in0[idx0], in1[idx1], ...)` over the result.
static LogicalResult
emitMap(EmitContext &ctx, Operation *op,
        llvm::function_ref<FailureOr<std::string>(ArrayRef<std::string>)>
            expr) {
  Value result = op->getResult(0);
  ArrayRef<int64_t> outShape = shapeOf(result);
  SmallVector<std::string> loads;
  bool coords = false;
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    loads.push_back("in" + std::to_string(i) + "[" +
                    broadcastIndex(shapeOf(v), outShape, "i", "c", coords) +
                    "]");
  // The expression first: a cast to an unsupported type is its error.
  FailureOr<std::string> value = expr(loads);
  if (failed(value))
    return failure();
  FailureOr<std::string> outType = ctx.typeOf(result, op);
  if (failed(outType))
    return failure();
  std::string body;
  llvm::raw_string_ostream os(body);
  int64_t n = product(outShape);
  os << "  kiln::forEach<" << n << ">(out0, [&](int64_t i) -> " << *outType
     << " {\n";
  if (coords)
    os << "    " << decompose("i", outShape, "c") << "\n";
  os << "    return (" << *outType << ")(" << *value << ");\n  });\n";
  return ctx.simpleKernel(op, SmallVector<Value>(op->getOperands()), {result},
                          body);
}

std::optional<LogicalResult>
kiln::codegen::emitElementwiseOp(EmitContext &ctx, Operation *op) {
  if (op->getNumResults() != 1)
    return std::nullopt;
  if (isScalarMap(op))
    return emitMap(ctx, op, [op](ArrayRef<std::string> in) {
      return scalarMapExpr(op, in);
    });
  // Expand is a broadcast copy.
  if (isa<ExpandOp>(op))
    return emitMap(ctx, op, [](ArrayRef<std::string> in) {
      return FailureOr<std::string>(in[0]);
    });
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

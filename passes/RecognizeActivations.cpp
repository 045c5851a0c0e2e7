//===- RecognizeActivations.cpp - kiln-recognize: SiLU and GELU -----------===//
//
// Rewrites activations that exporters write as elementwise chains:
//
//   SiLU:       x * sigmoid(x)                                => kiln.silu
//   GELU (erf): 0.5 * x * (1 + erf(x / sqrt(2)))               => kiln.gelu
//   GELU (tanh): 0.5 * x * (1 + tanh(sqrt(2/pi) *
//                                    (x + 0.044715 * x^3)))   => kiln.gelu
//                                                   approximate<tanh>
//
// GELU's products are matched after flattening: a chain of single-use muls,
// divisions by scalar constants and small integer powers becomes one scalar
// coefficient times a list of factors, so every association order and
// constant placement exporters use (`x * 0.5 * (...)`, `(x * (...)) * 0.5`,
// `x / 1.4142`, `x * 0.7071`, `pow(x, 3)`, `x * x * x`, and the
// `x * (1 + 0.044715 * x * x)` form of the tanh argument) is one shape.
// Constants match within a relative 1e-4. Every intermediate must have no
// user outside the idiom and keep x's type, so a near miss is left alone.
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

/// Whether `c` equals `expected` within a relative 1e-4.
bool near(double c, double expected) {
  return std::fabs(c - expected) <= 1e-4 * std::fabs(expected);
}

/// Whether `v` is a scalar constant near `expected`.
bool isScalarNear(Value v, double expected) {
  std::optional<double> c = scalarFloatConstant(v);
  return c && near(*c, expected);
}

/// A flattened product: `coef * factors[0] * factors[1] * ...`.
struct Product {
  double coef = 1.0;
  SmallVector<Value> factors;
};

/// Flattens `v` (of type `type`) into `p`. Looks through muls, divisions
/// by a scalar constant and powers by a small positive integer constant when
/// the op has `type` and (unless it is the root) a single use; anything
/// else is a factor.
void flatten(Value v, Type type, bool isRoot, Product &p, unsigned depth = 0) {
  Operation *op = v.getDefiningOp();
  bool absorb = op && depth < 8 && v.getType() == type &&
                (isRoot || v.hasOneUse());
  auto operand = [&](Value x) {
    if (std::optional<double> c = scalarFloatConstant(x))
      p.coef *= *c;
    else
      flatten(x, type, /*isRoot=*/false, p, depth + 1);
  };
  if (absorb) {
    if (auto mul = dyn_cast<MulOp>(op)) {
      operand(mul.getLhs());
      operand(mul.getRhs());
      return;
    }
    if (auto div = dyn_cast<DivOp>(op)) {
      std::optional<double> c = scalarFloatConstant(div.getRhs());
      if (c && *c != 0) {
        p.coef /= *c;
        operand(div.getLhs());
        return;
      }
    }
    if (auto pow = dyn_cast<PowOp>(op)) {
      std::optional<double> c = scalarFloatConstant(pow.getRhs());
      if (c && (*c == 2 || *c == 3 || *c == 4)) {
        for (int i = 0; i < (int)*c; ++i)
          operand(pow.getLhs());
        return;
      }
    }
  }
  p.factors.push_back(v);
}

Product flattenRoot(Value v) {
  Product p;
  flatten(v, v.getType(), /*isRoot=*/true, p);
  return p;
}

/// Whether `p` is `coef * x^n` with coef near `coef`.
bool isMonomial(const Product &p, Value x, unsigned n, double coef) {
  return near(p.coef, coef) && p.factors.size() == n &&
         llvm::all_of(p.factors, [&](Value f) { return f == x; });
}

/// If `v = add(a, b)` (either order) with one operand a scalar constant
/// near `c`, used once and of `type`, returns the other operand.
Value addOfConstant(Value v, double c, Type type) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add || !v.hasOneUse() || v.getType() != type)
    return Value();
  if (isScalarNear(add.getRhs(), c))
    return add.getLhs();
  if (isScalarNear(add.getLhs(), c))
    return add.getRhs();
  return Value();
}

/// Whether `u` (the tanh argument) is sqrt(2/pi) * (x + 0.044715 * x^3) or
/// sqrt(2/pi) * x * (1 + 0.044715 * x^2).
bool isTanhGeluArgument(Value u, Value x) {
  const double kBeta = std::sqrt(2.0 / M_PI), kKappa = 0.044715;
  Type type = x.getType();
  Product p = flattenRoot(u);
  if (!near(p.coef, kBeta) || !u.hasOneUse())
    return false;
  if (p.factors.size() == 1) {
    auto add = p.factors[0].getDefiningOp<AddOp>();
    if (!add || !p.factors[0].hasOneUse() || add.getType() != type)
      return false;
    for (auto [a, b] : recognize::bothOrders(add.getLhs(), add.getRhs()))
      if (a == x && b.hasOneUse() && isMonomial(flattenRoot(b), x, 3, kKappa))
        return true;
    return false;
  }
  if (p.factors.size() == 2) {
    for (auto [a, b] : recognize::bothOrders(p.factors[0], p.factors[1])) {
      if (a != x)
        continue;
      Value w = addOfConstant(b, 1.0, type);
      if (w && w.hasOneUse() && isMonomial(flattenRoot(w), x, 2, kKappa))
        return true;
    }
  }
  return false;
}

/// x * sigmoid(x) (either order) => kiln.silu(x).
struct RecognizeSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : recognize::bothOrders(mul.getLhs(), mul.getRhs())) {
      auto sig = s.getDefiningOp<SigmoidOp>();
      if (!sig || sig.getInput() != x || !s.hasOneUse() ||
          mul.getType() != x.getType())
        continue;
      rewriter.replaceOpWithNewOp<SiluOp>(mul, x);
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not x * sigmoid(x)");
  }
};

/// 0.5 * x * (1 + erf(x / sqrt(2))) => kiln.gelu(x), and the tanh form =>
/// kiln.gelu(x) approximate<tanh>.
struct RecognizeGelu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    Type type = mul.getType();
    Product p = flattenRoot(mul.getResult());
    if (!near(p.coef, 0.5) || p.factors.size() != 2)
      return rewriter.notifyMatchFailure(mul, "not 0.5 * a * b");
    for (auto [x, s] : recognize::bothOrders(p.factors[0], p.factors[1])) {
      if (x.getType() != type)
        continue;
      Value t = addOfConstant(s, 1.0, type);
      if (!t || !t.hasOneUse())
        continue;
      if (auto erf = t.getDefiningOp<ErfOp>()) {
        Value u = erf.getInput();
        if (u.hasOneUse() && isMonomial(flattenRoot(u), x, 1, M_SQRT1_2)) {
          rewriter.replaceOpWithNewOp<GeluOp>(mul, x,
                                              GeluApproximation::None);
          return success();
        }
      }
      if (auto tanh = t.getDefiningOp<TanhOp>()) {
        if (isTanhGeluArgument(tanh.getInput(), x)) {
          rewriter.replaceOpWithNewOp<GeluOp>(mul, x,
                                              GeluApproximation::Tanh);
          return success();
        }
      }
    }
    return rewriter.notifyMatchFailure(mul, "not a GELU product");
  }
};

} // namespace

void kiln::populateRecognizeActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RecognizeSilu, RecognizeGelu>(patterns.getContext());
}

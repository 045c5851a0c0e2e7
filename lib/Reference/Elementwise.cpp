//===- Elementwise.cpp - reference elementwise kernels --------------------===//
//
// Broadcasting binary arithmetic, comparisons and logic, unary math, cast and
// where on reference tensors. Float math is done in double and stored as
// float32; integer math stays in int64.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/Support/ErrorHandling.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

SmallVector<int64_t> kern::stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

SmallVector<int64_t> kern::broadcastStrides(ArrayRef<int64_t> shape,
                                              ArrayRef<int64_t> outShape) {
  SmallVector<int64_t> own = stridesOf(shape);
  SmallVector<int64_t> s(outShape.size(), 0);
  size_t lead = outShape.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d)
    s[lead + d] = shape[d] == 1 ? 0 : own[d];
  return s;
}

void kern::forEachBroadcast(
    ArrayRef<int64_t> outShape, ArrayRef<SmallVector<int64_t>> strides,
    function_ref<void(int64_t, ArrayRef<int64_t>)> fn) {
  int64_t n = 1;
  for (int64_t d : outShape)
    n *= d;
  if (n == 0)
    return;
  size_t rank = outShape.size(), nops = strides.size();
  SmallVector<int64_t> idx(rank, 0), off(nops, 0);
  for (int64_t k = 0; k < n; ++k) {
    fn(k, off);
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      ++idx[d];
      for (size_t j = 0; j < nops; ++j)
        off[j] += strides[j][d];
      if (idx[d] < outShape[d])
        break;
      for (size_t j = 0; j < nops; ++j)
        off[j] -= strides[j][d] * idx[d];
      idx[d] = 0;
    }
  }
}

Tensor kern::resultLike(Operation *op, unsigned idx) {
  return Tensor::zeros(cast<RankedTensorType>(op->getResult(idx).getType()));
}

namespace {

/// Applies a broadcasting binary op. `fd` computes floats (in double), `fi`
/// integers and booleans.
template <typename FD, typename FI>
Result binary(Operation *op, const Tensor &a, const Tensor &b, FD fd, FI fi) {
  Tensor out = resultLike(op);
  SmallVector<SmallVector<int64_t>> strides = {
      broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape)};
  bool isFloatIn = a.kind == Kind::F32;
  forEachBroadcast(out.shape, strides, [&](int64_t k, ArrayRef<int64_t> o) {
    if (isFloatIn) {
      double r = fd((double)a.f[o[0]], (double)b.f[o[1]]);
      if (out.kind == Kind::F32)
        out.f[k] = (float)r;
      else
        out.i[k] = r != 0.0;
    } else {
      out.i[k] = fi(a.i[o[0]], b.i[o[1]]);
    }
  });
  return SmallVector<Tensor>{std::move(out)};
}

/// Integer power by repeated squaring (negative exponents give 0 unless the
/// base is +-1, as integer division would).
int64_t ipow(int64_t b, int64_t e) {
  if (e < 0)
    return b == 1 ? 1 : (b == -1 ? (e % 2 ? -1 : 1) : 0);
  // Wraps on overflow (two's complement) instead of signed-overflow UB.
  uint64_t r = 1, base = (uint64_t)b;
  while (e) {
    if (e & 1)
      r *= base;
    base *= base;
    e >>= 1;
  }
  return (int64_t)r;
}

Result unaryF(Operation *op, const Tensor &x, double (*fn)(double)) {
  Tensor out = resultLike(op);
  for (size_t k = 0; k < x.f.size(); ++k)
    out.f[k] = (float)fn((double)x.f[k]);
  return SmallVector<Tensor>{std::move(out)};
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double rsqrt(double x) { return 1.0 / std::sqrt(x); }
double reciprocal(double x) { return 1.0 / x; }
double silu(double x) { return x * sigmoid(x); }
double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
double geluErf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double geluTanh(double x) {
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

Result castOp(CastOp op, const Tensor &x) {
  Tensor out = resultLike(op);
  int64_t n = x.numElements();
  Type dst = out.elementType;
  for (int64_t k = 0; k < n; ++k) {
    double v = getD(x, k);
    if (out.kind == Kind::F32) {
      out.f[k] = x.kind == Kind::F32 ? x.f[k] : (float)x.i[k];
    } else if (out.kind == Kind::Bool) {
      out.i[k] = v != 0.0;
    } else if (x.kind == Kind::F32) {
      // Float to int truncates toward zero; NaN/out of range saturate.
      if (std::isnan(v))
        out.i[k] = 0;
      else if (v >= 9.2e18)
        out.i[k] = INT64_MAX;
      else if (v <= -9.2e18)
        out.i[k] = INT64_MIN;
      else
        out.i[k] = (int64_t)std::trunc(v);
    } else {
      out.i[k] = x.i[k];
    }
    if (out.kind == Kind::I64) {
      // Wrap to the destination width.
      unsigned bits = dst.getIntOrFloatBitWidth();
      if (bits < 64) {
        uint64_t mask = (1ull << bits) - 1;
        uint64_t raw = (uint64_t)out.i[k] & mask;
        if (dst.isUnsignedInteger())
          out.i[k] = (int64_t)raw;
        else
          out.i[k] = (int64_t)(raw << (64 - bits)) >> (64 - bits);
      }
    }
  }
  return SmallVector<Tensor>{std::move(out)};
}

Result whereOp(WhereOp op, const Tensor &c, const Tensor &a, const Tensor &b) {
  Tensor out = resultLike(op);
  SmallVector<SmallVector<int64_t>> strides = {
      broadcastStrides(c.shape, out.shape), broadcastStrides(a.shape, out.shape),
      broadcastStrides(b.shape, out.shape)};
  forEachBroadcast(out.shape, strides, [&](int64_t k, ArrayRef<int64_t> o) {
    bool pick = c.i[o[0]] != 0;
    if (out.kind == Kind::F32)
      out.f[k] = pick ? a.f[o[1]] : b.f[o[2]];
    else
      out.i[k] = pick ? a.i[o[1]] : b.i[o[2]];
  });
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

/// Evaluates the scalar function `fn` (ElementwiseOpInterface) of `op`
/// elementwise, with broadcasting for the binary ones.
static Result evalFn(Operation *op, ElementwiseFn fn, ArrayRef<Tensor> in) {
  using D = double;
  using I = int64_t;
  using F = ElementwiseFn;
  switch (fn) {
  case F::Add:
    return binary(op, in[0], in[1], [](D a, D b) { return a + b; },
                  [](I a, I b) { return (I)((uint64_t)a + (uint64_t)b); });
  case F::Sub:
    return binary(op, in[0], in[1], [](D a, D b) { return a - b; },
                  [](I a, I b) { return (I)((uint64_t)a - (uint64_t)b); });
  case F::Mul:
    return binary(op, in[0], in[1], [](D a, D b) { return a * b; },
                  [](I a, I b) { return (I)((uint64_t)a * (uint64_t)b); });
  case F::Div:
    if (in[0].kind != Kind::F32)
      for (I v : in[1].i)
        if (v == 0) {
          op->emitError("integer division by zero");
          return failure();
        }
    return binary(op, in[0], in[1], [](D a, D b) { return a / b; },
                  // INT64_MIN / -1 wraps rather than trapping.
                  [](I a, I b) { return b == -1 ? (I)(0 - (uint64_t)a) : a / b; });
  case F::Pow:
    return binary(op, in[0], in[1], [](D a, D b) { return std::pow(a, b); },
                  [](I a, I b) { return ipow(a, b); });
  case F::Max:
    return binary(op, in[0], in[1],
                  [](D a, D b) { return std::isnan(a) || a > b ? a : b; },
                  [](I a, I b) { return std::max(a, b); });
  case F::Min:
    return binary(op, in[0], in[1],
                  [](D a, D b) { return std::isnan(a) || a < b ? a : b; },
                  [](I a, I b) { return std::min(a, b); });
  case F::Equal:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a == b; },
                  [](I a, I b) -> I { return a == b; });
  case F::Greater:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a > b; },
                  [](I a, I b) -> I { return a > b; });
  case F::GreaterEqual:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a >= b; },
                  [](I a, I b) -> I { return a >= b; });
  case F::Less:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a < b; },
                  [](I a, I b) -> I { return a < b; });
  case F::LessEqual:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a <= b; },
                  [](I a, I b) -> I { return a <= b; });
  case F::And:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a && b; },
                  [](I a, I b) -> I { return a && b; });
  case F::Or:
    return binary(op, in[0], in[1], [](D a, D b) -> D { return a || b; },
                  [](I a, I b) -> I { return a || b; });
  case F::Xor:
    return binary(op, in[0], in[1],
                  [](D a, D b) -> D { return (a != 0) != (b != 0); },
                  [](I a, I b) -> I { return (a != 0) != (b != 0); });
  case F::Neg: {
    Tensor out = resultLike(op);
    for (size_t k = 0; k < in[0].f.size(); ++k)
      out.f[k] = -in[0].f[k];
    for (size_t k = 0; k < in[0].i.size(); ++k)
      out.i[k] = (I)(0 - (uint64_t)in[0].i[k]);
    return SmallVector<Tensor>{std::move(out)};
  }
  case F::Abs: {
    Tensor out = resultLike(op);
    for (size_t k = 0; k < in[0].f.size(); ++k)
      out.f[k] = std::fabs(in[0].f[k]);
    for (size_t k = 0; k < in[0].i.size(); ++k)
      out.i[k] = in[0].i[k] < 0 ? -in[0].i[k] : in[0].i[k];
    return SmallVector<Tensor>{std::move(out)};
  }
  case F::Not: {
    Tensor out = resultLike(op);
    for (size_t k = 0; k < in[0].i.size(); ++k)
      out.i[k] = !in[0].i[k];
    return SmallVector<Tensor>{std::move(out)};
  }
  case F::Sqrt:
    return unaryF(op, in[0], [](D x) { return std::sqrt(x); });
  case F::Rsqrt:
    return unaryF(op, in[0], rsqrt);
  case F::Reciprocal:
    return unaryF(op, in[0], reciprocal);
  case F::Exp:
    return unaryF(op, in[0], [](D x) { return std::exp(x); });
  case F::Log:
    return unaryF(op, in[0], [](D x) { return std::log(x); });
  case F::Tanh:
    return unaryF(op, in[0], [](D x) { return std::tanh(x); });
  case F::Erf:
    return unaryF(op, in[0], [](D x) { return std::erf(x); });
  case F::Sin:
    return unaryF(op, in[0], [](D x) { return std::sin(x); });
  case F::Cos:
    return unaryF(op, in[0], [](D x) { return std::cos(x); });
  case F::Sigmoid:
    return unaryF(op, in[0], sigmoid);
  case F::Silu:
    return unaryF(op, in[0], silu);
  case F::Softplus:
    return unaryF(op, in[0], softplus);
  case F::GeluErf:
    return unaryF(op, in[0], geluErf);
  case F::GeluTanh:
    return unaryF(op, in[0], geluTanh);
  case F::Tan:
    return unaryF(op, in[0], [](D x) { return std::tan(x); });
  case F::Asin:
    return unaryF(op, in[0], [](D x) { return std::asin(x); });
  case F::Acos:
    return unaryF(op, in[0], [](D x) { return std::acos(x); });
  case F::Atan:
    return unaryF(op, in[0], [](D x) { return std::atan(x); });
  case F::Sinh:
    return unaryF(op, in[0], [](D x) { return std::sinh(x); });
  case F::Cosh:
    return unaryF(op, in[0], [](D x) { return std::cosh(x); });
  case F::Asinh:
    return unaryF(op, in[0], [](D x) { return std::asinh(x); });
  case F::Acosh:
    return unaryF(op, in[0], [](D x) { return std::acosh(x); });
  case F::Atanh:
    return unaryF(op, in[0], [](D x) { return std::atanh(x); });
  case F::Floor:
    return unaryF(op, in[0], [](D x) { return std::floor(x); });
  case F::Ceil:
    return unaryF(op, in[0], [](D x) { return std::ceil(x); });
  case F::Round: // halves to even: the default rounding mode
    return unaryF(op, in[0], [](D x) { return std::nearbyint(x); });
  case F::Sign: {
    Tensor out = resultLike(op);
    for (size_t k = 0; k < in[0].f.size(); ++k) {
      float x = in[0].f[k];
      out.f[k] = std::isnan(x) ? x : (float)((x > 0) - (x < 0));
    }
    for (size_t k = 0; k < in[0].i.size(); ++k)
      out.i[k] = (in[0].i[k] > 0) - (in[0].i[k] < 0);
    return SmallVector<Tensor>{std::move(out)};
  }
  case F::BitAnd:
    return binary(op, in[0], in[1], [](D, D) { return 0.0; },
                  [](I a, I b) { return a & b; });
  case F::BitOr:
    return binary(op, in[0], in[1], [](D, D) { return 0.0; },
                  [](I a, I b) { return a | b; });
  case F::BitXor:
    return binary(op, in[0], in[1], [](D, D) { return 0.0; },
                  [](I a, I b) { return a ^ b; });
  case F::ShiftLeft:
  case F::ShiftRight: {
    // ONNX BitShift-28; evalOp wraps a left shift to the type's width.
    Type elt = getElementTypeOrSelf(op->getResult(0).getType());
    int64_t width = elt.getIntOrFloatBitWidth();
    bool left = fn == F::ShiftLeft;
    return binary(op, in[0], in[1], [](D, D) { return 0.0; },
                  [width, left](I a, I b) -> I {
                    if (b < 0 || b >= width)
                      return !left && a < 0 ? -1 : 0;
                    return left ? (I)((uint64_t)a << b) : a >> b;
                  });
  }
  case F::BitNot: {
    // evalOp wraps the result to the element type's width.
    Tensor out = resultLike(op);
    for (size_t k = 0; k < in[0].i.size(); ++k)
      out.i[k] = ~in[0].i[k];
    return SmallVector<Tensor>{std::move(out)};
  }
  case F::Mod:
  case F::Fmod: {
    if (in[0].kind != Kind::F32)
      for (I v : in[1].i)
        if (v == 0) {
          op->emitError("integer modulo by zero");
          return failure();
        }
    bool floored = fn == F::Mod;
    return binary(
        op, in[0], in[1],
        [floored](D a, D b) {
          D r = std::fmod(a, b);
          return floored && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
        },
        [floored](I a, I b) -> I {
          if (b == -1)
            return 0; // INT64_MIN % -1 would trap
          I r = a % b;
          return floored && r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
        });
  }
  }
  llvm_unreachable("every ElementwiseFn is handled above");
}

std::optional<Result> kern::evalElementwise(Operation *op,
                                            ArrayRef<Tensor> in) {
  if (auto ew = dyn_cast<ElementwiseOpInterface>(op))
    return evalFn(op, ew.getElementwiseFn(), in);
  if (auto c = dyn_cast<CastOp>(op))
    return castOp(c, in[0]);
  if (auto w = dyn_cast<WhereOp>(op))
    return whereOp(w, in[0], in[1], in[2]);
  return std::nullopt;
}

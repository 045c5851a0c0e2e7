//===- Elementwise.cpp - reference elementwise kernels --------------------===//
//
// Broadcasting binary arithmetic, comparisons and logic, unary math, cast and
// where on reference tensors. Float math is done in double and stored as
// float32; integer math stays in int64.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/TypeSwitch.h"

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

std::optional<Result> kern::evalElementwise(Operation *op,
                                              ArrayRef<Tensor> in) {
  using D = double;
  using I = int64_t;
  return llvm::TypeSwitch<Operation *, std::optional<Result>>(op)
      .Case([&](AddOp) {
        return binary(op, in[0], in[1], [](D a, D b) { return a + b; },
                      [](I a, I b) { return (I)((uint64_t)a + (uint64_t)b); });
      })
      .Case([&](SubOp) {
        return binary(op, in[0], in[1], [](D a, D b) { return a - b; },
                      [](I a, I b) { return (I)((uint64_t)a - (uint64_t)b); });
      })
      .Case([&](MulOp) {
        return binary(op, in[0], in[1], [](D a, D b) { return a * b; },
                      [](I a, I b) { return (I)((uint64_t)a * (uint64_t)b); });
      })
      .Case([&](DivOp) -> std::optional<Result> {
        if (in[0].kind != Kind::F32)
          for (I v : in[1].i)
            if (v == 0) {
              op->emitError("integer division by zero");
              return Result(failure());
            }
        return binary(op, in[0], in[1], [](D a, D b) { return a / b; },
                      // INT64_MIN / -1 wraps rather than trapping.
                      [](I a, I b) {
                        return b == -1 ? (I)(0 - (uint64_t)a) : a / b;
                      });
      })
      .Case([&](PowOp) {
        return binary(op, in[0], in[1], [](D a, D b) { return std::pow(a, b); },
                      [](I a, I b) { return ipow(a, b); });
      })
      .Case([&](MaxOp) {
        return binary(op, in[0], in[1],
                      [](D a, D b) { return std::isnan(a) || a > b ? a : b; },
                      [](I a, I b) { return std::max(a, b); });
      })
      .Case([&](MinOp) {
        return binary(op, in[0], in[1],
                      [](D a, D b) { return std::isnan(a) || a < b ? a : b; },
                      [](I a, I b) { return std::min(a, b); });
      })
      .Case([&](EqualOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a == b; },
                      [](I a, I b) -> I { return a == b; });
      })
      .Case([&](GreaterOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a > b; },
                      [](I a, I b) -> I { return a > b; });
      })
      .Case([&](GreaterEqualOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a >= b; },
                      [](I a, I b) -> I { return a >= b; });
      })
      .Case([&](LessOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a < b; },
                      [](I a, I b) -> I { return a < b; });
      })
      .Case([&](LessEqualOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a <= b; },
                      [](I a, I b) -> I { return a <= b; });
      })
      .Case([&](AndOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a && b; },
                      [](I a, I b) -> I { return a && b; });
      })
      .Case([&](OrOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return a || b; },
                      [](I a, I b) -> I { return a || b; });
      })
      .Case([&](XorOp) {
        return binary(op, in[0], in[1], [](D a, D b) -> D { return (a != 0) != (b != 0); },
                      [](I a, I b) -> I { return (a != 0) != (b != 0); });
      })
      .Case([&](NegOp) -> std::optional<Result> {
        Tensor out = resultLike(op);
        for (size_t k = 0; k < in[0].f.size(); ++k)
          out.f[k] = -in[0].f[k];
        for (size_t k = 0; k < in[0].i.size(); ++k)
          out.i[k] = (I)(0 - (uint64_t)in[0].i[k]);
        return Result(SmallVector<Tensor>{std::move(out)});
      })
      .Case([&](AbsOp) -> std::optional<Result> {
        Tensor out = resultLike(op);
        for (size_t k = 0; k < in[0].f.size(); ++k)
          out.f[k] = std::fabs(in[0].f[k]);
        for (size_t k = 0; k < in[0].i.size(); ++k)
          out.i[k] = in[0].i[k] < 0 ? -in[0].i[k] : in[0].i[k];
        return Result(SmallVector<Tensor>{std::move(out)});
      })
      .Case([&](NotOp) -> std::optional<Result> {
        Tensor out = resultLike(op);
        for (size_t k = 0; k < in[0].i.size(); ++k)
          out.i[k] = !in[0].i[k];
        return Result(SmallVector<Tensor>{std::move(out)});
      })
      .Case([&](SqrtOp) {
        return unaryF(op, in[0], [](D x) { return std::sqrt(x); });
      })
      .Case([&](RsqrtOp) { return unaryF(op, in[0], rsqrt); })
      .Case([&](ReciprocalOp) { return unaryF(op, in[0], reciprocal); })
      .Case([&](ExpOp) {
        return unaryF(op, in[0], [](D x) { return std::exp(x); });
      })
      .Case([&](LogOp) {
        return unaryF(op, in[0], [](D x) { return std::log(x); });
      })
      .Case([&](TanhOp) {
        return unaryF(op, in[0], [](D x) { return std::tanh(x); });
      })
      .Case([&](ErfOp) {
        return unaryF(op, in[0], [](D x) { return std::erf(x); });
      })
      .Case([&](SinOp) {
        return unaryF(op, in[0], [](D x) { return std::sin(x); });
      })
      .Case([&](CosOp) {
        return unaryF(op, in[0], [](D x) { return std::cos(x); });
      })
      .Case([&](SigmoidOp) { return unaryF(op, in[0], sigmoid); })
      .Case([&](SiluOp) { return unaryF(op, in[0], silu); })
      .Case([&](SoftplusOp) { return unaryF(op, in[0], softplus); })
      .Case([&](GeluOp g) {
        return unaryF(op, in[0],
                      g.getApproximate() == GeluApproximation::Tanh ? geluTanh
                                                                    : geluErf);
      })
      .Case([&](CastOp c) { return castOp(c, in[0]); })
      .Case([&](WhereOp w) { return whereOp(w, in[0], in[1], in[2]); })
      .Default([](Operation *) { return std::nullopt; });
}

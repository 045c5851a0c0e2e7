//===- Fused.cpp - reference evaluation of the fused level ----------------===//
//
// Runs the fused-level ops on the reference backend: a kiln.fusion (and a
// scheduled-level kiln.kernel, through evalBody) evaluates its body with the
// block arguments bound to its operands and returns what kiln.yield yields;
// a kiln.gemm (either form) is a matmul (double accumulation, as
// kiln.matmul and kiln.linear) followed by its epilogue. A function before and
// after kiln-form-fusions gives bit-identical results: a gemm from a linear
// starts its accumulator at the bias, as kiln.linear does, and a residual is
// added in f32 to the f32-rounded product, as the kiln.add it replaces did
// (and as cuBLASLt's fp32 epilogue computes beta * C).
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

Result kern::evalBody(Block &body, ArrayRef<Tensor> in, Operation *owner) {
  if (body.getNumArguments() != in.size())
    return owner->emitError("reference backend: the body takes ")
           << body.getNumArguments() << " values, got " << in.size();
  llvm::DenseMap<Value, Tensor> values;
  for (auto [arg, t] : llvm::zip_equal(body.getArguments(), in))
    values[arg] = t;
  auto lookup = [&](Value v, SmallVectorImpl<Tensor> &out) -> LogicalResult {
    auto it = values.find(v);
    if (it == values.end())
      return owner->emitError("value used before it was computed in the body");
    out.push_back(it->second);
    return success();
  };
  auto yield = dyn_cast<YieldOp>(body.back());
  if (!yield)
    return owner->emitError("reference backend: the body has no kiln.yield");
  for (Operation &inner : body.without_terminator()) {
    SmallVector<Tensor> operands;
    for (Value v : inner.getOperands())
      if (failed(lookup(v, operands)))
        return failure();
    FailureOr<SmallVector<Tensor>> outs = evalOp(&inner, operands);
    if (failed(outs))
      return failure();
    for (auto [v, t] : llvm::zip_equal(inner.getResults(), *outs))
      values[v] = std::move(t);
  }
  SmallVector<Tensor> results;
  for (Value v : yield.getValues())
    if (failed(lookup(v, results)))
      return failure();
  return results;
}

namespace {

double activate(GemmActivation act, double x) {
  switch (act) {
  case GemmActivation::None:
    return x;
  case GemmActivation::Relu:
    // kiln.max(x, 0)'s value, NaN included (the op this epilogue replaces).
    return std::isnan(x) || x > 0 ? x : 0.0;
  case GemmActivation::GeluTanh:
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  }
  return x;
}

Result gemm(GemmOp op, ArrayRef<Tensor> in) {
  ShapedType product = op.getProductType();
  Tensor out = Tensor::zeros(
      RankedTensorType::get(product.getShape(), product.getElementType()));
  // Operands in order: a, b, bias?, residual?, outs? (the buffer form's
  // destination, whose old contents the product does not read).
  const Tensor &a = in[0], &b = in[1];
  const Tensor *bias = op.getBias() ? &in[2] : nullptr;
  const Tensor *residual =
      op.getResidual() ? &in[op.getBias() ? 3 : 2] : nullptr;
  std::optional<double> scale;
  if (auto s = op.getScale())
    scale = s->convertToDouble();
  GemmActivation act = op.getActivation();
  auto biasAt = [&](int64_t j) { return bias ? (double)bias->f[j] : 0.0; };
  batchedMatmul(
      a, b, op.getTransposeB(), out.shape,
      // Unscaled, the bias seeds the accumulator exactly as kiln.linear's
      // reference does, so the two agree bit for bit.
      [&](int64_t j) { return scale ? 0.0 : biasAt(j); },
      // Each step rounds to f32 as cuBLASLt's f32 epilogue does (the
      // product, the scaled product, the sum, then the activation of it),
      // so a gemm with its epilogue gives what the gemm and the separate
      // ops it replaced give, bit for bit.
      [&](int64_t index, int64_t j, double acc) {
        if (scale)
          acc = (double)(float)(*scale * (double)(float)acc) + biasAt(j);
        if (residual)
          acc = (double)((float)acc + residual->f[index]);
        out.f[index] = (float)activate(act, (double)(float)acc);
      });
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalFused(Operation *op, ArrayRef<Tensor> in) {
  if (auto f = dyn_cast<FusionOp>(op))
    return evalBody(f.getBody().front(), in, f);
  if (auto g = dyn_cast<GemmOp>(op))
    return gemm(g, in);
  return std::nullopt;
}

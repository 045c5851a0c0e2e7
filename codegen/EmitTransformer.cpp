//===- EmitTransformer.cpp - CUDA for attention and rotary ----------------===//
//
// kiln.attention: one block per query row, scores for every key in static
// shared memory, softmax and the weighted sum of values accumulated in
// kiln::Acc<T> (fp32 for f32); grouped-query heads, causal masking and boolean
// or additive masks (broadcast through compile-time strides). kiln.rotary: one
// thread per output element, halves or interleaved pairs.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// Longest key sequence the simple attention kernel holds in shared memory.
static constexpr int64_t kMaxAttentionKeys = 8192;

static LogicalResult emitAttention(EmitContext &ctx, AttentionOp op) {
  ArrayRef<int64_t> qs = shapeOf(op.getQuery()), ks = shapeOf(op.getKey()),
                    vs = shapeOf(op.getValue());
  int64_t b = qs[0], hq = qs[1], s = qs[2], d = qs[3];
  int64_t hkv = ks[1], t = ks[2], dv = vs[3];
  if (t > kMaxAttentionKeys)
    return op.emitOpError("attends over ")
           << t << " keys; the CUDA attention kernel holds at most "
           << kMaxAttentionKeys;
  SmallVector<Value> inputs = {op.getQuery(), op.getKey(), op.getValue()};
  std::string bias = "[](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }";
  if (Value mask = op.getMask()) {
    inputs.push_back(mask);
    SmallVector<int64_t> full = {b, hq, s, t};
    std::string index = linearExpr(broadcastStrides(shapeOf(mask), full), "c");
    std::string load = "in3[" + index + "]";
    std::string value = eltOf(mask).isInteger(1)
                            ? "(" + load + " ? 0.0f : -INFINITY)"
                            : "(float)" + load;
    bias = "[&](int64_t c0, int64_t c1, int64_t c2, int64_t c3) -> float { "
           "(void)c0; (void)c1; (void)c2; (void)c3; return " +
           value + "; }";
  }
  if (failed(ctx.beginKernel(op, inputs, {op.getResult()})))
    return failure();
  ctx.source() << "  kiln::attention<" << b << ", " << hq << ", " << hkv
               << ", " << s << ", " << t << ", " << d << ", " << dv << ", "
               << (op.getCausal() ? "true" : "false") << ">(in0, in1, in2, "
               << "out0, " << floatLiteral(op.getScale().convertToFloat())
               << ",\n      " << bias << ");\n";
  ctx.endKernel();
  return success();
}

static LogicalResult emitRotary(EmitContext &ctx, RotaryOp op) {
  ArrayRef<int64_t> xs = shapeOf(op.getInput()), cs = shapeOf(op.getCos());
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::rotary<" << xs[0] << ", " << xs[1] << ", " << xs[2] << ", "
     << xs[3] << ", " << 2 * cs[2] << ", " << cs[0] << ", "
     << (op.getInterleaved() ? "true" : "false")
     << ">(in0, in1, in2, out0);\n";
  return ctx.simpleKernel(op, {op.getInput(), op.getCos(), op.getSin()},
                          {op.getResult()}, body);
}

std::optional<LogicalResult>
kiln::codegen::emitTransformerOp(EmitContext &ctx, Operation *op) {
  if (auto a = dyn_cast<AttentionOp>(op))
    return emitAttention(ctx, a);
  if (auto r = dyn_cast<RotaryOp>(op))
    return emitRotary(ctx, r);
  return std::nullopt;
}

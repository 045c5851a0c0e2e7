//===- EmitMovement.cpp - CUDA for data-movement kiln ops -----------------===//
//
// gather, transpose, slice, concat, split, trilu and scatter_nd. Every one is
// a grid-stride copy whose source offset is straight-line arithmetic on the
// output coordinates with compile-time strides. split copies every yielded
// piece in one kernel; scatter_nd is the in-place scatter loop only (the
// schedule copies the data into the output buffer with a launch before it).
// (reshape and expand are handled with the elementwise ops.)
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// Emits `out0[i] = in0[map(i)]` over `result`, `map` written as an
/// expression of the output coordinates `c0..`.
static std::string copyMapBody(Value result, StringRef out,
                               StringRef offsetExpr) {
  ArrayRef<int64_t> shape = shapeOf(result);
  int64_t n = product(shape);
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::mapCopy<" << n << ">(in0, " << out
     << ", [](int64_t i) -> int64_t {\n"
     << "    " << decompose("i", shape, "c") << "\n"
     << "    (void)i; return " << offsetExpr << ";\n  });\n";
  return body;
}

static LogicalResult emitCopyMap(EmitContext &ctx, Operation *op, Value input,
                                 Value result, StringRef offsetExpr) {
  return ctx.simpleKernel(op, {input}, {result},
                          copyMapBody(result, "out0", offsetExpr));
}

static LogicalResult emitTranspose(EmitContext &ctx, TransposeOp op) {
  SmallVector<int64_t> inStrides = rowMajorStrides(shapeOf(op.getInput()));
  SmallVector<int64_t> strides;
  for (int64_t p : op.getPerm())
    strides.push_back(inStrides[p]);
  return emitCopyMap(ctx, op, op.getInput(), op.getResult(),
                     linearExpr(strides, "c"));
}

static LogicalResult emitSlice(EmitContext &ctx, SliceOp op) {
  SmallVector<int64_t> inStrides = rowMajorStrides(shapeOf(op.getInput()));
  int64_t base = 0;
  SmallVector<int64_t> strides;
  for (auto [d, stride] : llvm::enumerate(inStrides)) {
    base += op.getStarts()[d] * stride;
    strides.push_back(op.getSteps()[d] * stride);
  }
  std::string expr = std::to_string(base) + " + " + linearExpr(strides, "c");
  return emitCopyMap(ctx, op, op.getInput(), op.getResult(), expr);
}

/// One kernel for every piece the kernel yields: a copy loop per piece, one
/// after the other (each grid-stride over its piece).
static LogicalResult emitSplit(EmitContext &ctx, SplitOp op) {
  ArrayRef<int64_t> inShape = shapeOf(op.getInput());
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  int64_t axis = op.getAxis(), start = 0;
  SmallVector<Value> outputs;
  std::string body;
  for (Value result : op.getResults()) {
    // A slice with starts = start along the axis and unit steps.
    std::string expr = std::to_string(start * inStrides[axis]) + " + " +
                       linearExpr(inStrides, "c");
    start += shapeOf(result)[axis];
    // A piece the kernel does not yield has no buffer.
    if (!llvm::is_contained(ctx.yielded, result))
      continue;
    body += copyMapBody(result, "out" + std::to_string(outputs.size()), expr);
    outputs.push_back(result);
  }
  return ctx.simpleKernel(op, {op.getInput()}, outputs, body);
}

static LogicalResult emitConcat(EmitContext &ctx, ConcatOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getResult());
  int64_t axis = op.getAxis();
  int64_t inner = product(shape.drop_front(axis + 1)), total = shape[axis];
  int64_t n = product(shape);
  FailureOr<std::string> t = ctx.typeOf(op.getResult(), op);
  if (failed(t))
    return failure();
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::forEach<" << n << ">(out0, [&](int64_t i) -> " << *t
     << " {\n"
     << "    const int64_t inner = i % " << inner << ", a = (i / " << inner
     << ") % " << total << ", outer = i / " << inner * total << ";\n"
     << "    (void)outer;\n";
  int64_t start = 0;
  int64_t last = -1;
  for (auto [i, v] : llvm::enumerate(op.getInputs()))
    if (shapeOf(v)[axis] > 0)
      last = i;
  for (auto [i, v] : llvm::enumerate(op.getInputs())) {
    int64_t len = shapeOf(v)[axis];
    if (len == 0)
      continue;
    std::string load = "in" + std::to_string(i) + "[(outer * " +
                       std::to_string(len) + " + (a - " +
                       std::to_string(start) + ")) * " +
                       std::to_string(inner) + " + inner]";
    if (static_cast<int64_t>(i) == last)
      os << "    return " << load << ";\n";
    else
      os << "    if (a < " << start + len << ") return " << load << ";\n";
    start += len;
  }
  if (last < 0)
    os << "    return " << *t << "(0);\n";
  os << "  });\n";
  return ctx.simpleKernel(op, SmallVector<Value>(op.getInputs()),
                          {op.getResult()}, body);
}

static LogicalResult emitGather(EmitContext &ctx, GatherOp op) {
  ArrayRef<int64_t> data = shapeOf(op.getData());
  int64_t axis = op.getAxis();
  int64_t outer = product(data.take_front(axis)), dim = data[axis];
  int64_t count = product(shapeOf(op.getIndices()));
  int64_t inner = product(data.drop_front(axis + 1));
  std::string body = "  kiln::gather<" + std::to_string(outer) + ", " +
                     std::to_string(dim) + ", " + std::to_string(count) +
                     ", " + std::to_string(inner) + ">(in0, in1, out0);\n";
  return ctx.simpleKernel(op, {op.getData(), op.getIndices()},
                          {op.getResult()}, body);
}

static LogicalResult emitTrilu(EmitContext &ctx, TriluOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t n = product(shape);
  std::string body = "  kiln::trilu<" + std::to_string(n) + ", " +
                     std::to_string(shape[shape.size() - 2]) + ", " +
                     std::to_string(shape.back()) + ", " +
                     (op.getUpper() ? "true" : "false") + ", " +
                     std::to_string(op.getDiagonal()) + ">(in0, out0);\n";
  return ctx.simpleKernel(op, {op.getInput()}, {op.getResult()}, body);
}

static LogicalResult emitScatterND(EmitContext &ctx, ScatterNDOp op) {
  if (op.getReduction() != ScatterReduction::None)
    return op.emitOpError("in kernel @")
           << ctx.name << " has reduction '"
           << stringifyScatterReduction(op.getReduction())
           << "', which has no CUDA lowering (only reduction none)";
  ArrayRef<int64_t> data = shapeOf(op.getData());
  ArrayRef<int64_t> idx = shapeOf(op.getIndices());
  int64_t q = idx.back();
  int64_t count = product(idx.drop_back());
  int64_t slice = product(data.drop_front(q));
  // The launch updates in place (its data buffer is its output buffer; the
  // copy of data into it is a launch of its own before this one, checked by
  // the driver): out[indices[k]] = updates[k].
  FailureOr<std::string> it = ctx.typeOf(op.getIndices(), op);
  if (failed(it))
    return failure();
  SmallVector<int64_t> strides = rowMajorStrides(data);
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::scatterND<" << count << ", " << q << ", " << slice
     << ">(in0, in1, out0, [](const " << *it << " *t) -> int64_t {\n"
     << "    int64_t off = 0, j;\n";
  for (int64_t d = 0; d < q; ++d)
    os << "    j = (int64_t)t[" << d << "]; if (j < 0) j += " << data[d]
       << "; if (j < 0 || j >= " << data[d] << ") return -1; off += j * "
       << strides[d] << ";\n";
  os << "    return off;\n  });\n";
  return ctx.simpleKernel(op, {op.getIndices(), op.getUpdates()},
                          {op.getResult()}, body);
}

std::optional<LogicalResult> kiln::codegen::emitMovementOp(EmitContext &ctx,
                                                           Operation *op) {
  if (auto t = dyn_cast<TransposeOp>(op))
    return emitTranspose(ctx, t);
  if (auto s = dyn_cast<SliceOp>(op))
    return emitSlice(ctx, s);
  if (auto s = dyn_cast<SplitOp>(op))
    return emitSplit(ctx, s);
  if (auto c = dyn_cast<ConcatOp>(op))
    return emitConcat(ctx, c);
  if (auto g = dyn_cast<GatherOp>(op))
    return emitGather(ctx, g);
  if (auto t = dyn_cast<TriluOp>(op))
    return emitTrilu(ctx, t);
  if (auto s = dyn_cast<ScatterNDOp>(op))
    return emitScatterND(ctx, s);
  return std::nullopt;
}

//===- CudaEmitter.cpp - planned kiln IR to CUDA C++ and launches ---------===//
//
// The driver of code generation: walks a planned function in program order,
// assigns weight ids and weights.bin offsets, binds inputs and outputs to
// their arena ranges, dispatches every other op to its op group (an alias,
// a view planned at its operand's offset, gets no kernel), and renders the
// manifest. Also holds the shape-to-index-arithmetic helpers the groups
// share (EmitterSupport.h).
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

std::optional<std::string> kiln::codegen::cudaType(Type t) {
  if (t.isF32())
    return std::string("float");
  if (t.isF64())
    return std::string("double");
  if (t.isInteger(1))
    return std::string("bool");
  if (t.isSignlessInteger(64))
    return std::string("int64_t");
  if (t.isSignlessInteger(32))
    return std::string("int32_t");
  if (t.isSignlessInteger(8))
    return std::string("int8_t");
  if (t.isUnsignedInteger(8))
    return std::string("uint8_t");
  return std::nullopt;
}

std::optional<StringRef> kiln::codegen::dtypeToken(Type t) {
  if (t.isF32())
    return StringRef("f32");
  if (t.isF16())
    return StringRef("f16");
  if (t.isBF16())
    return StringRef("bf16");
  if (t.isF64())
    return StringRef("f64");
  if (t.isInteger(1))
    return StringRef("bool");
  if (t.isSignlessInteger(64))
    return StringRef("i64");
  if (t.isSignlessInteger(32))
    return StringRef("i32");
  if (t.isSignlessInteger(8))
    return StringRef("i8");
  if (t.isUnsignedInteger(8))
    return StringRef("u8");
  return std::nullopt;
}

ArrayRef<int64_t> kiln::codegen::shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
Type kiln::codegen::eltOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}
int64_t kiln::codegen::product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

SmallVector<int64_t> kiln::codegen::rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

std::string kiln::codegen::decompose(StringRef var, ArrayRef<int64_t> shape,
                                     StringRef prefix) {
  std::string s;
  llvm::raw_string_ostream os(s);
  int64_t rank = shape.size();
  if (rank == 0)
    return s;
  os << "int64_t " << prefix << "_rem = " << var << ";";
  for (int64_t d = rank - 1; d >= 1; --d)
    os << " [[maybe_unused]] const int64_t " << prefix << d << " = " << prefix << "_rem % "
       << shape[d] << "; " << prefix << "_rem /= " << shape[d] << ";";
  os << " [[maybe_unused]] const int64_t " << prefix << 0 << " = " << prefix << "_rem;";
  return s;
}

std::string kiln::codegen::linearExpr(ArrayRef<int64_t> strides,
                                      StringRef prefix) {
  std::string s;
  llvm::raw_string_ostream os(s);
  bool first = true;
  for (auto [d, stride] : llvm::enumerate(strides)) {
    if (stride == 0)
      continue;
    os << (first ? "" : " + ") << prefix << d;
    if (stride != 1)
      os << " * " << stride;
    first = false;
  }
  if (first)
    os << "0";
  return s;
}

SmallVector<int64_t> kiln::codegen::broadcastStrides(ArrayRef<int64_t> inShape,
                                                     ArrayRef<int64_t> outShape) {
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  SmallVector<int64_t> strides(outShape.size(), 0);
  size_t lead = outShape.size() - inShape.size();
  for (size_t d = 0; d < inShape.size(); ++d)
    strides[lead + d] = (inShape[d] == 1 && outShape[lead + d] != 1)
                            ? 0
                            : (inShape[d] == 1 ? 0 : inStrides[d]);
  return strides;
}

/// True if `inShape` equals `outShape` up to leading 1s (same linear order).
static bool sameLayout(ArrayRef<int64_t> inShape, ArrayRef<int64_t> outShape) {
  while (!inShape.empty() && inShape.front() == 1 &&
         inShape.size() > outShape.size())
    inShape = inShape.drop_front();
  while (!outShape.empty() && outShape.front() == 1 &&
         outShape.size() > inShape.size())
    outShape = outShape.drop_front();
  return inShape == outShape;
}

std::string kiln::codegen::broadcastIndex(ArrayRef<int64_t> inShape,
                                          ArrayRef<int64_t> outShape,
                                          StringRef var, StringRef prefix,
                                          bool &needsCoords) {
  if (sameLayout(inShape, outShape))
    return var.str();
  if (product(inShape) == 1)
    return "0";
  needsCoords = true;
  return linearExpr(broadcastStrides(inShape, outShape), prefix);
}

std::string kiln::codegen::broadcastMap(ArrayRef<int64_t> inShape,
                                        ArrayRef<int64_t> outShape) {
  bool coords = false;
  std::string expr = broadcastIndex(inShape, outShape, "i", "c", coords);
  std::string s = "[](int64_t i) -> int64_t { ";
  if (coords)
    s += decompose("i", outShape, "c") + " ";
  return s + "return " + expr + "; }";
}

std::string kiln::codegen::floatLiteral(double value) {
  if (std::isinf(value))
    return value > 0 ? "INFINITY" : "(-INFINITY)";
  if (std::isnan(value))
    return "NAN";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.9g", value);
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s + "f";
}

int64_t kiln::codegen::gridFor(int64_t n) {
  return std::clamp<int64_t>((n + kBlockSize - 1) / kBlockSize, 1, 65535);
}

int64_t kiln::codegen::blockForReduction(int64_t n) {
  return std::clamp<int64_t>(llvm::PowerOf2Ceil(std::max<int64_t>(n, 1)), 32,
                             256);
}

//===----------------------------------------------------------------------===//
// EmitContext
//===----------------------------------------------------------------------===//

FailureOr<std::string> EmitContext::typeOf(Value value, Operation *op) {
  std::optional<std::string> t = cudaType(eltOf(value));
  if (!t)
    return op->emitOpError("has element type ")
           << eltOf(value) << ", which the CUDA backend does not support yet "
           << "(f32, f64, i64, i32, i8, ui8, i1)";
  return *t;
}

FailureOr<KernelArg> EmitContext::argFor(Value value, Operation *user) {
  auto it = weightIds.find(value);
  if (it != weightIds.end())
    return KernelArg::weight(it->second);
  if (std::optional<int64_t> offset = plan.offsetOf(value))
    return KernelArg::arena(*offset);
  return user->emitOpError("reads a value with no arena offset or weight id; "
                           "run kiln-plan-memory first");
}

LogicalResult EmitContext::beginKernel(Operation *op, StringRef suffix,
                                       ArrayRef<Value> inputs,
                                       ArrayRef<Value> outputs, int64_t grid,
                                       int64_t block) {
  KernelLaunch launch;
  launch.name = "k" + std::to_string(opIndex) + "_" +
                op->getName().stripDialect().str();
  if (!suffix.empty())
    launch.name += "_" + suffix.str();
  launch.grid[0] = static_cast<uint32_t>(grid);
  launch.block[0] = static_cast<uint32_t>(block);
  SmallVector<std::string> params;
  for (auto [i, v] : llvm::enumerate(inputs)) {
    FailureOr<std::string> t = typeOf(v, op);
    FailureOr<KernelArg> arg = argFor(v, op);
    if (failed(t) || failed(arg))
      return failure();
    params.push_back("const " + *t + " *__restrict__ in" + std::to_string(i));
    launch.args.push_back(*arg);
  }
  for (auto [i, v] : llvm::enumerate(outputs)) {
    FailureOr<std::string> t = typeOf(v, op);
    FailureOr<KernelArg> arg = argFor(v, op);
    if (failed(t) || failed(arg))
      return failure();
    params.push_back(*t + " *__restrict__ out" + std::to_string(i));
    launch.args.push_back(*arg);
  }
  os << "\n// " << op->getName() << " at " << op->getLoc() << "\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << block << ") "
     << launch.name << "(";
  llvm::interleave(params, os, ", ");
  os << ") {\n";
  Launch l;
  l.kernel = std::move(launch);
  out.launches.push_back(std::move(l));
  return success();
}

void EmitContext::endKernel() { os << "}\n"; }

LogicalResult EmitContext::simpleKernel(Operation *op, StringRef suffix,
                                        ArrayRef<Value> inputs,
                                        ArrayRef<Value> outputs, int64_t n,
                                        StringRef body) {
  if (failed(beginKernel(op, suffix, inputs, outputs, gridFor(n), kBlockSize)))
    return failure();
  os << body;
  endKernel();
  return success();
}

void EmitContext::addGemm(const GemmLaunch &gemm) {
  Launch l;
  l.kind = Launch::Kind::Gemm;
  l.gemm = gemm;
  out.launches.push_back(std::move(l));
}

//===----------------------------------------------------------------------===//
// emitFunction
//===----------------------------------------------------------------------===//

/// The binding name of argument/result `i`: its kiln.name, else a default,
/// with whitespace replaced by `_`.
static std::string bindingName(DictionaryAttr attrs, StringRef fallback) {
  std::string name = fallback.str();
  if (attrs)
    if (auto s = attrs.getAs<StringAttr>(KilnDialect::getNameAttrName()))
      if (!s.getValue().empty())
        name = s.getValue().str();
  for (char &c : name)
    if (std::isspace(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

FailureOr<EmittedFunction>
kiln::codegen::emitFunction(func::FuncOp func, const EmitOptions &options) {
  FailureOr<MemoryPlan> plan = MemoryPlan::fromAttributes(func);
  if (failed(plan))
    return failure();
  if (!plan->arenaBytes())
    return func.emitOpError("is not planned (no ")
           << KilnDialect::getArenaBytesAttrName()
           << "); run kiln-plan-memory first";
  EmittedFunction out;
  out.arenaBytes = *plan->arenaBytes();
  Block &block = func.getBody().front();

  // Weights and constants, in program order.
  DenseMap<Value, int64_t> weightIds;
  int64_t weightEnd = 0;
  for (Operation &op : block) {
    if (!isWeightLike(&op))
      continue;
    Value v = op.getResult(0);
    if (!dtypeToken(eltOf(v)))
      return op.emitOpError("has an element type the artifact cannot store: ")
             << eltOf(v);
    WeightEntry w;
    if (auto weight = dyn_cast<WeightOp>(op))
      w.name = weight.getName().str();
    else
      w.name = "constant_" + std::to_string(out.weights.size());
    for (char &c : w.name)
      if (std::isspace(static_cast<unsigned char>(c)))
        c = '_';
    w.elementType = eltOf(v);
    w.shape.assign(shapeOf(v).begin(), shapeOf(v).end());
    w.offset = llvm::alignTo(weightEnd, kArenaAlignment);
    w.bytes = *tensorByteSize(v.getType());
    w.op = &op;
    weightEnd = w.offset + w.bytes;
    weightIds[v] = out.weights.size();
    out.weights.push_back(std::move(w));
  }
  out.weightsBytes = weightEnd;

  // Inputs and outputs.
  for (BlockArgument arg : block.getArguments()) {
    const PlannedBuffer *buffer = plan->lookup(arg);
    if (!buffer || !buffer->offset)
      return func.emitOpError("argument #")
             << arg.getArgNumber() << " has no arena offset";
    if (!dtypeToken(eltOf(arg)))
      return func.emitOpError("argument #")
             << arg.getArgNumber() << " has unsupported element type "
             << eltOf(arg);
    out.inputs.push_back(
        {bindingName(func.getArgAttrDict(arg.getArgNumber()),
                     "input_" + std::to_string(arg.getArgNumber())),
         eltOf(arg),
         SmallVector<int64_t>(shapeOf(arg)), *buffer->offset, buffer->size});
  }
  Operation *terminator = block.getTerminator();
  for (auto [i, v] : llvm::enumerate(terminator->getOperands())) {
    const PlannedBuffer *buffer = plan->lookup(v);
    if (!buffer || !buffer->offset)
      return terminator->emitOpError("returns value #")
             << i << ", which has no arena offset";
    if (!dtypeToken(eltOf(v)))
      return terminator->emitOpError("returns value #")
             << i << " of unsupported element type " << eltOf(v);
    out.outputs.push_back({bindingName(func.getResultAttrDict(i),
                                       "output_" + std::to_string(i)),
                           eltOf(v), SmallVector<int64_t>(shapeOf(v)),
                           *buffer->offset, buffer->size});
  }

  // Kernels.
  EmitContext ctx(*plan, weightIds, out);
  ctx.useGemm = options.useGemm;
  ctx.source() << "// Generated by kiln-compile from @" << func.getSymName()
               << ". Every shape is baked in; arguments are\n"
               << "// arena or weight pointers (see manifest.txt).\n"
               << "#include \"kiln_kernels.cuh\"\n";
  bool ok = true;
  int64_t index = 0;
  for (Operation &op : block) {
    if (isWeightLike(&op) || &op == terminator)
      continue;
    ctx.opIndex = index++;
    // An alias (a view at its operand's offset) is already in place.
    if (op.getNumResults() == 1 && plan->isAlias(op.getResult(0))) {
      ctx.source() << "\n// " << op.getName() << " at " << op.getLoc()
                   << ": alias of its operand's bytes, no kernel\n";
      continue;
    }
    std::optional<LogicalResult> result = emitElementwiseOp(ctx, &op);
    if (!result)
      result = emitLinalgOp(ctx, &op);
    if (!result)
      result = emitMovementOp(ctx, &op);
    if (!result)
      result = emitTransformerOp(ctx, &op);
    if (!result) {
      op.emitOpError("has no CUDA lowering");
      ok = false;
      continue;
    }
    if (failed(*result))
      ok = false;
  }
  ctx.source().flush();
  if (!ok)
    return failure();
  return out;
}

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

/// A manifest tensor record for a weight or an input/output binding.
static runtime::TensorSpec tensorSpec(StringRef name, Type elementType,
                                      ArrayRef<int64_t> shape, int64_t offset,
                                      int64_t bytes) {
  runtime::TensorSpec t;
  t.name = name.str();
  // Every element type that reaches here was checked by dtypeToken.
  (void)runtime::parseDType(dtypeToken(elementType)->str(), t.dtype);
  t.shape.assign(shape.begin(), shape.end());
  t.offset = static_cast<uint64_t>(offset);
  t.bytes = static_cast<uint64_t>(bytes);
  return t;
}

std::string kiln::codegen::printManifest(const EmittedFunction &fn,
                                         StringRef arch,
                                         const runtime::DataFile &weights,
                                         const runtime::DataFile &kernels,
                                         const runtime::DataFile &ir) {
  runtime::Manifest m;
  m.version = runtime::kArtifactFormatVersion;
  m.arch = arch.str();
  m.arenaBytes = static_cast<uint64_t>(fn.arenaBytes);
  m.weightsFile = weights;
  m.kernelsFile = kernels;
  m.irFile = ir;
  for (const WeightEntry &w : fn.weights)
    m.weights.push_back(
        tensorSpec(w.name, w.elementType, w.shape, w.offset, w.bytes));
  for (const TensorBinding &b : fn.inputs)
    m.inputs.push_back(
        tensorSpec(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
  for (const TensorBinding &b : fn.outputs)
    m.outputs.push_back(
        tensorSpec(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
  runtime::Function main;
  main.name = "main";
  main.launches = fn.launches;
  m.functions.push_back(std::move(main));
  return runtime::formatManifest(m);
}

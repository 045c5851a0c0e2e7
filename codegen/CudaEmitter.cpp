//===- CudaEmitter.cpp - scheduled kiln IR to CUDA C++ and launches -------===//
//
// The driver of code generation, a translation of the scheduled IR: reads
// the arena size, the weight table (root views of kiln.weights with init)
// and the input/output bindings off the views, emits one CUDA function per
// launched kiln.kernel (its single op through the op groups, a copy, or a
// body of several elementwise ops through EmitFused.cpp), and turns every kiln.launch / kiln.gemm of the kiln.graph, in order, into
// one launch record. It decides nothing the IR does not state. Also holds
// the shape-to-index-arithmetic helpers the groups share (EmitterSupport.h)
// and renders the manifest.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/Transforms/LaunchConfig.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

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
  if (t.isBF16())
    return std::string("__nv_bfloat16");
  if (t.isF16())
    return std::string("__half");
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
  return cast<ShapedType>(v.getType()).getShape();
}
Type kiln::codegen::eltOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
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

std::string kiln::codegen::argOf(Value v) {
  return "in" + std::to_string(cast<BlockArgument>(v).getArgNumber());
}

//===----------------------------------------------------------------------===//
// EmitContext
//===----------------------------------------------------------------------===//

FailureOr<std::string> EmitContext::typeOf(Value value, Operation *op) {
  std::optional<std::string> t = cudaType(eltOf(value));
  if (!t)
    return op->emitOpError("has element type ")
           << eltOf(value) << ", which the CUDA backend does not support yet "
           << "(f32, f64, bf16, f16, i64, i32, i8, ui8, i1)";
  return *t;
}

std::optional<EmitContext::ParamSource> EmitContext::sourceOf(Value value,
                                                              bool output) {
  ArrayRef<Value> values = output ? ArrayRef<Value>(yielded) : bodyArgs;
  auto it = llvm::find(values, value);
  if (it == values.end())
    return std::nullopt;
  return ParamSource{output, static_cast<unsigned>(it - values.begin())};
}

LogicalResult EmitContext::beginKernel(Operation *op, ArrayRef<Value> inputs,
                                       ArrayRef<Value> outputs,
                                       StringRef what) {
  StringRef restrict = restrictPointers ? " *__restrict__ " : " *";
  SmallVector<std::string> decls;
  for (auto [output, values] :
       {std::pair<bool, ArrayRef<Value>>{false, inputs}, {true, outputs}}) {
    for (auto [i, v] : llvm::enumerate(values)) {
      FailureOr<std::string> t = typeOf(v, op);
      if (failed(t))
        return failure();
      std::optional<ParamSource> from = sourceOf(v, output);
      if (!from)
        return op->emitOpError("kernel @")
               << name << ": " << (output ? "result" : "operand") << " #" << i
               << " is not " << (output ? "yielded" : "a kernel argument");
      params.push_back(*from);
      decls.push_back((output ? "" : "const ") + *t + restrict.str() +
                      (output ? "out" : "in") + std::to_string(i));
    }
  }
  for (size_t i = 0; i < prefetchBytes.size(); ++i) {
    ParamSource from;
    from.isPrefetch = true;
    from.index = i;
    params.push_back(from);
    decls.push_back("const void *pf" + std::to_string(i));
  }
  os << "\n// @" << name << ": ";
  if (what.empty())
    os << op->getName();
  else
    os << what;
  os << " at " << op->getLoc() << "\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << maxBlock;
  if (minBlocks > 0)
    os << ", " << minBlocks;
  os << ") ";
  if (clusterDims)
    os << "KILN_CLUSTER_DIMS(" << clusterDims << ") ";
  os << name << "(";
  llvm::interleave(decls, os, ", ");
  os << ") {\n";
  // A kernel that streams weights (kiln-prefetch-weights' default
  // placement) asks before its wait; a quiet one (at-quiet) after it, or,
  // where it waits itself, where its emitter puts the requests.
  if (streamsWeights)
    os << prefetchCalls("  ");
  if (!ownPdlEnter)
    os << "  kiln::pdlEnter();\n";
  if (!streamsWeights && !prefetchAfterOwnWait)
    os << prefetchCalls("  ");
  begun = true;
  return success();
}

std::string EmitContext::prefetchCalls(StringRef indent) const {
  std::string out;
  for (auto [i, bytes] : llvm::enumerate(prefetchBytes))
    out += (indent + "kiln::prefetchL2Grid(pf" + std::to_string(i) + ", " +
            std::to_string(bytes) + ");\n")
               .str();
  return out;
}

void EmitContext::endKernel() { os << "}\n"; }

LogicalResult EmitContext::simpleKernel(Operation *op, ArrayRef<Value> inputs,
                                        ArrayRef<Value> outputs,
                                        StringRef body) {
  if (failed(beginKernel(op, inputs, outputs)))
    return failure();
  os << body;
  endKernel();
  return success();
}

//===----------------------------------------------------------------------===//
// emitFunction
//===----------------------------------------------------------------------===//

namespace {

/// What the translation keeps while it walks one scheduled function.
struct Translation {
  /// Weight id of each root view of kiln.weights with init.
  DenseMap<Operation *, int64_t> weightIds;
  /// Root views of weight concatenations (init a kiln.concat of weights,
  /// kiln-merge-gemms): no record of their own; a pointer to one is its
  /// first part's (the parts are stored back to back).
  DenseMap<Operation *, ConcatOp> concatFirstPart;
  /// Parameters of each kernel emitted so far, by symbol.
  llvm::StringMap<SmallVector<EmitContext::ParamSource>> kernelParams;
};

} // namespace

/// `name` as the manifest spells it (one token; runtime::manifestName).
static std::string manifestToken(StringRef name) {
  return runtime::manifestName(name.str());
}

/// The view defining buffer `v`, or null.
static ViewOp viewOf(Value v) { return v.getDefiningOp<ViewOp>(); }

/// The pointer argument for buffer `v` of `user`: an arena offset, or the id
/// of the weight whose root view it is (or aliases at offset 0).
static FailureOr<KernelArg> pointerFor(Translation &t, Value v,
                                       Operation *user) {
  ViewOp view = viewOf(v);
  // A view rooted at the KV cache region: `k:<offset>` (docs/kv-cache.md).
  if (view &&
      isa_and_present<KvRegionOp>(view.getRoot().getBase().getDefiningOp()))
    return KernelArg::kv(view.getRegionOffset());
  Operation *region = view ? view.getRegion() : nullptr;
  if (!region)
    return user->emitOpError("uses a buffer that is not a kiln.view of the "
                             "arena, the weights or the KV cache region");
  if (isa<ArenaOp>(region))
    return KernelArg::arena(view.getRegionOffset());
  Operation *root = view.getRoot();
  if (auto part = t.concatFirstPart.find(root);
      part != t.concatFirstPart.end()) {
    // The first part's root view: the weights view at the concatenation's
    // offset whose init is that weight (by its key: kiln-schedule shares
    // one view among kiln.weight ops of one key; kiln.graph's verifier
    // checks the parts abut there).
    auto first = part->second.getInputs().front().getDefiningOp<WeightOp>();
    int64_t at = cast<ViewOp>(root).getRegionOffset();
    root = nullptr;
    for (auto &[v, id] : t.weightIds) {
      auto w = cast<ViewOp>(v).getInit().getDefiningOp<WeightOp>();
      if (w && first && cast<ViewOp>(v).getRegionOffset() == at &&
          weightKey(w) == weightKey(first))
        root = v;
    }
    if (!root)
      return user->emitOpError("uses a weight concatenation whose first "
                               "part has no view of its own");
  }
  auto it = t.weightIds.find(root);
  if (it == t.weightIds.end())
    return user->emitOpError("uses a view of the weights with no init (no "
                             "weight is stored there)");
  if (view.getRegionOffset() != cast<ViewOp>(root).getRegionOffset())
    return user->emitOpError("uses a view ")
           << view.getRegionOffset() - cast<ViewOp>(root).getRegionOffset()
           << " bytes into weight #" << it->second
           << "; a kernel argument must start at a weight";
  return KernelArg::weight(it->second);
}

/// The bytes of buffer `v` in its region, or std::nullopt if it is not a
/// view of one.
static std::optional<std::tuple<Operation *, int64_t, int64_t>>
byteRange(Value v) {
  ViewOp view = viewOf(v);
  if (!view || !view.getRegion())
    return std::nullopt;
  int64_t begin = view.getRegionOffset();
  return std::make_tuple(view.getRegion(), begin,
                         begin + shapedByteSize(v.getType()).value_or(0));
}

/// True if an output buffer of `launch` shares bytes with one of its inputs.
static bool updatesInPlace(LaunchOp launch) {
  for (Value out : launch.getOutputs()) {
    auto o = byteRange(out);
    for (Value in : launch.getInputs()) {
      if (in == out)
        return true;
      auto i = byteRange(in);
      if (o && i && std::get<0>(*o) == std::get<0>(*i) &&
          std::get<1>(*o) < std::get<2>(*i) && std::get<1>(*i) < std::get<2>(*o))
        return true;
    }
  }
  return false;
}

/// Checks the launch shape: 1-D, and a power-of-two block of [32, 1024] for
/// a kernel that reduces rows with one block per row.
static LogicalResult checkLaunchShape(LaunchOp launch, Operation *bodyOp,
                                      Block &body) {
  ArrayRef<int64_t> grid = launch.getGrid(), block = launch.getBlock();
  if (grid.size() != 3 || block.size() != 3)
    return launch.emitOpError("grid and block must have 3 dims");
  if (grid[1] != 1 || grid[2] != 1 || block[1] != 1 || block[2] != 1)
    return launch.emitOpError("has grid [")
           << grid[0] << ", " << grid[1] << ", " << grid[2] << "] block ["
           << block[0] << ", " << block[1] << ", " << block[2]
           << "]; the CUDA backend's kernels are 1-D (y and z must be 1)";
  if (bodyOp && isRowKernel(bodyOp) &&
      (!llvm::isPowerOf2_64(block[0]) || block[0] < 32 || block[0] > 1024))
    return launch.emitOpError("launches @")
           << launch.getKernel() << " (" << bodyOp->getName()
           << ", one block per row) with block " << block[0]
           << "; it needs a power of two in [32, 1024]";
  // The split attention kernel's warps each take their own keys: a block
  // of another size would skip keys or index past its shared arrays.
  Operation *last =
      body.empty() ? nullptr : body.getTerminator()->getPrevNode();
  if (last && isa<KvAttentionOp>(last)) {
    KvSplitShape split = kvAttentionSplitShape(last);
    if (split.splits && block[0] != 32 * split.warps)
      return launch.emitOpError("launches @")
             << launch.getKernel() << " (the split kiln.kv_attention kernel, "
             << split.warps << " warps of " << split.steps
             << " key steps) with block " << block[0] << "; it needs "
             << 32 * split.warps;
    // Its blocks run in clusters of `cluster`: a grid of whole clusters.
    if (split.cluster && grid[0] % split.cluster != 0)
      return launch.emitOpError("launches @")
             << launch.getKernel()
             << " (the split kiln.kv_attention kernel, in clusters of "
             << split.cluster << " blocks) with grid " << grid[0]
             << "; it needs a multiple of " << split.cluster;
  }
  // A split-K GEMV kernel's partials live in shared slots for 8 warps, and
  // its S warps of a column (or of a tile: the tensor-core kernel, which
  // always uses the slots) must be in one block.
  if (bodyOp == nullptr && !body.empty())
    if (std::optional<GemvKernel> gemv = analyzeGemvKernel(body)) {
      int64_t split = gemvSplitK(*gemv, launch);
      if ((split > 1 || gemv->mma()) && block[0] != 256)
        return launch.emitOpError("launches @")
               << launch.getKernel() << " (a GEMV kernel, " << split
               << (gemv->mma() ? " warps a tile of 8 columns"
                               : " warps a column")
               << ") with block " << block[0] << "; it needs 256";
      // A staged GEMV (gemvStages) keeps 8 warps' slots in dynamic shared
      // memory: the launch must bring them all.
      if (int64_t stages = gemvStages(*gemv, launch)) {
        int64_t bytes = gemvStageBytes(*gemv, launch, stages);
        if (block[0] != 256 || launch.getSmem() < uint64_t(bytes))
          return launch.emitOpError("launches @")
                 << launch.getKernel() << " (a GEMV kernel staged in "
                 << stages << " slots a warp) with block " << block[0]
                 << " and smem " << launch.getSmem() << "; it needs 256 and "
                 << bytes;
      }
    }
  return success();
}

/// The single op a kernel body computes, null for a copy (the body yields
/// an argument), or failure (located error) for a body the backend cannot
/// translate.
static FailureOr<Operation *> kernelBodyOp(KernelOp kernel) {
  YieldOp yield = kernel.getYield();
  SmallVector<Operation *> ops;
  for (Operation &op : kernel.getBody().front().without_terminator())
    ops.push_back(&op);
  if (ops.empty()) {
    if (yield.getNumOperands() == 1 && isa<BlockArgument>(yield.getOperand(0)))
      return static_cast<Operation *>(nullptr);
    return kernel.emitOpError("has no op and is not a copy (it must yield "
                              "one of its arguments)");
  }
  if (ops.size() > 1)
    return kernel.emitOpError("has several ops; translate it with "
                              "emitFusedKernel");
  for (Value v : yield.getOperands())
    if (v.getDefiningOp() != ops[0])
      return kernel.emitOpError("yields a value its op does not compute; the "
                                "CUDA backend translates one op or a copy");
  return ops[0];
}

/// Emits the source of `kernel`, launched by `launches` (at least one).
static LogicalResult emitKernel(Translation &t, KernelOp kernel,
                                ArrayRef<LaunchOp> launches,
                                llvm::raw_string_ostream &os) {
  // A body of several ops is a fused elementwise kernel, unless it is a
  // rotary or KV append reading a merged product's heads in place (its
  // one op's kernel).
  Operation *headSplit = headSplitKernelOp(kernel.getBody().front());
  bool fused = !headSplit &&
               llvm::range_size(
                   kernel.getBody().front().without_terminator()) > 1;
  FailureOr<Operation *> bodyOp =
      headSplit ? FailureOr<Operation *>(headSplit)
      : fused   ? FailureOr<Operation *>(nullptr)
                : kernelBodyOp(kernel);
  if (failed(bodyOp))
    return failure();
  EmitContext ctx(os);
  ctx.name = kernel.getSymName().str();
  Block &body = kernel.getBody().front();
  ctx.bodyArgs.assign(body.args_begin(), body.args_end());
  ctx.yielded.assign(kernel.getYield().operand_begin(),
                     kernel.getYield().operand_end());
  ctx.argIsStepInput.assign(body.getNumArguments(), !launches.empty());
  for (LaunchOp launch : launches) {
    for (auto [i, in] : llvm::enumerate(launch.getInputs())) {
      auto view = in.getDefiningOp<ViewOp>();
      if (i < ctx.argIsStepInput.size() && (!view || !view.getInput()))
        ctx.argIsStepInput[i] = false;
    }
    if (failed(checkLaunchShape(launch, *bodyOp, body)))
      return failure();
    ctx.maxBlock = std::max<int64_t>(ctx.maxBlock, launch.getBlock()[0]);
    ctx.minThreads = std::min<int64_t>(
        ctx.minThreads, launch.getGrid()[0] * launch.getBlock()[0]);
    if (updatesInPlace(launch))
      ctx.restrictPointers = false;
  }
  // Prefetch buffers are kernel parameters: every launch asks for the same
  // bytes (kiln-prefetch-weights clones a kernel whose launches differ).
  LaunchOp first = launches.front();
  ArrayRef<int64_t> prefetch =
      first.getPrefetchBytes().value_or(ArrayRef<int64_t>());
  for (LaunchOp other : launches.drop_front()) {
    LaunchOp launch = other;
    if (launch.getPrefetchBytes().value_or(ArrayRef<int64_t>()) != prefetch)
      return launch.emitOpError("prefetches other bytes than the first "
                                "launch of @")
             << kernel.getSymName()
             << "; a kernel's prefetch is part of its parameters";
  }
  ctx.prefetchBytes.assign(prefetch.begin(), prefetch.end());
  // Whether the kernel streams weights, as kiln-prefetch-weights tells
  // (a GEMV; EmitterSupport.h).
  ctx.streamsWeights = analyzeGemvKernel(body).has_value();
  if (!prefetch.empty() && !fused && !*bodyOp)
    return first.emitOpError("prefetches for a copy kernel (@")
           << kernel.getSymName() << "), which takes no prefetch";

  if (fused) {
    if (failed(emitFusedKernel(ctx, body)))
      return failure();
    t.kernelParams[ctx.name] = ctx.params;
    return success();
  }

  Operation *op = *bodyOp;
  if (!op) {
    // A copy: out0 = in0, grid-stride.
    auto arg = cast<BlockArgument>(kernel.getYield().getOperand(0));
    FailureOr<std::string> type = ctx.typeOf(arg, kernel);
    if (failed(type))
      return failure();
    std::string restrict = ctx.restrictPointers ? " *__restrict__ " : " *";
    ctx.params = {{false, arg.getArgNumber()}, {true, 0}};
    os << "\n// @" << ctx.name << ": copy at " << kernel.getLoc() << "\n"
       << "extern \"C\" __global__ void __launch_bounds__(" << ctx.maxBlock
       << ") " << ctx.name << "(const " << *type << restrict << "in0, "
       << *type << restrict << "out0) {\n"
       << "  kiln::pdlEnter();\n"
       << "  kiln::mapCopy<" << product(shapeOf(arg))
       << ">(in0, out0, [](int64_t i) { return i; });\n}\n";
    t.kernelParams[ctx.name] = ctx.params;
    return success();
  }

  // scatter_nd updates its output in place: the launch's data buffer must be
  // its output buffer (the schedule copies data there with a launch before).
  if (auto scatter = dyn_cast<ScatterNDOp>(op)) {
    auto data = dyn_cast<BlockArgument>(scatter.getData());
    for (LaunchOp launch : launches)
      if (!data || launch.getInputs()[data.getArgNumber()] !=
                       launch.getOutputs()[0])
        return launch.emitOpError("launches the scatter_nd kernel @")
               << ctx.name << " with a data buffer (ins #"
               << (data ? data.getArgNumber() : 0)
               << ") that is not its output buffer (outs #0); the CUDA "
                  "scatter kernel updates its output in place";
  }

  std::optional<LogicalResult> result = emitElementwiseOp(ctx, op);
  if (!result)
    result = emitLinalgOp(ctx, op);
  if (!result)
    result = emitMovementOp(ctx, op);
  if (!result)
    result = emitTransformerOp(ctx, op);
  if (!result)
    result = emitQuantOp(ctx, op);
  if (!result)
    return op->emitOpError("in kernel @") << ctx.name
                                          << " has no CUDA lowering";
  if (failed(*result))
    return failure();
  if (!ctx.begun)
    return op->emitOpError("in kernel @")
           << ctx.name << ": the emitter wrote no kernel";
  t.kernelParams[ctx.name] = ctx.params;
  return success();
}

/// Whether `kernel` reads its argument `index` only as the table of
/// gathers (kiln.gather's data): a step reads only its rows of it (the
/// manifest's `rows`, which kiln-bench counts by rows).
static bool readsOnlyRows(KernelOp kernel, unsigned index) {
  Block &body = kernel.getBody().front();
  if (index >= body.getNumArguments())
    return false;
  BlockArgument arg = body.getArgument(index);
  return !arg.use_empty() && llvm::all_of(arg.getUses(), [](OpOperand &use) {
    auto gather = dyn_cast<GatherOp>(use.getOwner());
    return gather && &use == &gather.getDataMutable();
  });
}

/// The manifest record of `launch` (of `kernel`, already emitted).
static FailureOr<KernelLaunch> launchRecord(Translation &t, LaunchOp launch,
                                            KernelOp kernel) {
  KernelLaunch record;
  record.name = launch.getKernel().str();
  for (int d = 0; d < 3; ++d) {
    record.grid[d] = static_cast<uint32_t>(launch.getGrid()[d]);
    record.block[d] = static_cast<uint32_t>(launch.getBlock()[d]);
  }
  record.smemBytes = static_cast<uint32_t>(launch.getSmem());
  for (EmitContext::ParamSource p : t.kernelParams[record.name]) {
    if (p.isPrefetch && p.index >= launch.getPrefetch().size())
      return launch.emitOpError("prefetches ")
             << launch.getPrefetch().size() << " buffers but @"
             << launch.getKernel() << " takes more";
    Value buffer = p.isPrefetch ? launch.getPrefetch()[p.index]
                   : p.isOutput ? launch.getOutputs()[p.index]
                                : launch.getInputs()[p.index];
    if (p.isPrefetch)
      ++record.prefetchArgs;
    else if (!p.isOutput && readsOnlyRows(kernel, p.index))
      record.rowArgs.push_back(uint32_t(record.args.size()));
    FailureOr<KernelArg> arg = pointerFor(t, buffer, launch);
    if (failed(arg))
      return failure();
    record.args.push_back(*arg);
  }
  return record;
}

/// The manifest gemm record of a buffer-form kiln.gemm.
static FailureOr<GemmLaunch> gemmRecord(Translation &t, GemmOp gemm) {
  if (!gemm.hasBufferSemantics())
    return gemm.emitOpError("in kiln.graph must be the buffer form (outs)");
  auto aType = cast<ShapedType>(gemm.getA().getType());
  auto bType = cast<ShapedType>(gemm.getB().getType());
  auto cType = cast<ShapedType>(gemm.getOut().getType());
  Type elt = aType.getElementType();
  if (!elt.isF32() && !elt.isBF16() && !elt.isF16())
    return gemm.emitOpError("has element type ")
           << elt << "; the CUDA gemm (cuBLASLt) is f32, bf16 or f16";
  ArrayRef<int64_t> as = aType.getShape(), bs = bType.getShape(),
                    cs = cType.getShape();
  bool transB = gemm.getTransposeB();
  int64_t m = cs[cs.size() - 2], n = cs.back(), k = as.back();
  ArrayRef<int64_t> batch = cs.drop_back(2);
  // An operand's batch stride: the matrix size, or 0 when it has no batch
  // (B shared by every batch item; A only when there is a batch).
  auto stride = [&](ArrayRef<int64_t> dims, int64_t matrix,
                    bool shared) -> std::optional<int64_t> {
    if (!isStridedBatch(dims, batch))
      return std::nullopt;
    return product(dims) == 1 && shared ? 0 : matrix;
  };
  std::optional<int64_t> sa =
      stride(as.drop_back(2), m * k, product(batch) != 1);
  std::optional<int64_t> sb = stride(bs.drop_back(2), k * n, true);
  if (!sa || !sb)
    return gemm.emitOpError("has batch dims cuBLASLt strides cannot express");
  GemmLaunch g;
  g.m = m, g.n = n, g.k = k, g.batch = product(batch);
  g.strideA = *sa, g.strideB = *sb, g.strideC = m * n;
  // A shared B under a full batch of A is one gemm of batch * M rows.
  if (g.batch > 1 && g.strideB == 0 && g.strideA == m * k) {
    g.m *= g.batch, g.batch = 1;
    g.strideA = g.m * k, g.strideC = g.m * n;
  }
  g.transB = transB;
  g.dtype = elt.isBF16()  ? runtime::DType::BF16
            : elt.isF16() ? runtime::DType::F16
                          : runtime::DType::F32;
  // The epilogue's activation (cuBLASLt's RELU / GELU, applied after the
  // bias and the residual) and its scale (cuBLASLt's alpha).
  switch (gemm.getActivation()) {
  case GemmActivation::None:
    g.activation = runtime::GemmActivation::None;
    break;
  case GemmActivation::Relu:
    g.activation = runtime::GemmActivation::Relu;
    break;
  case GemmActivation::GeluTanh:
    g.activation = runtime::GemmActivation::GeluTanh;
    break;
  }
  if (std::optional<APFloat> scale = gemm.getScale())
    g.alpha = scale->convertToFloat();
  FailureOr<KernelArg> a = pointerFor(t, gemm.getA(), gemm);
  FailureOr<KernelArg> b = pointerFor(t, gemm.getB(), gemm);
  FailureOr<KernelArg> c = pointerFor(t, gemm.getOut(), gemm);
  if (failed(a) || failed(b) || failed(c))
    return failure();
  g.a = *a, g.b = *b, g.c = *c, g.bias = KernelArg::none();
  // B a weight concatenation: its parts' records, back to back.
  if (ViewOp bv = viewOf(gemm.getB()))
    if (auto it = t.concatFirstPart.find(bv.getRoot());
        it != t.concatFirstPart.end())
      g.bRecords = static_cast<int64_t>(it->second.getInputs().size());
  if (Value bias = gemm.getBias()) {
    FailureOr<KernelArg> arg = pointerFor(t, bias, gemm);
    if (failed(arg))
      return failure();
    g.bias = *arg;
  }
  // The residual is cuBLASLt's C (beta = 1), laid out as the output: it has
  // the output's type (the verifier's rule), so C's strides are its strides.
  if (Value residual = gemm.getResidual()) {
    if (residual.getType() != gemm.getOut().getType())
      return gemm.emitOpError("has a residual of type ")
             << residual.getType() << " but outs of type "
             << gemm.getOut().getType()
             << "; cuBLASLt's C must be laid out as its D";
    FailureOr<KernelArg> arg = pointerFor(t, residual, gemm);
    if (failed(arg))
      return failure();
    g.residual = *arg;
  }
  return g;
}

/// The binding of an input or output view.
static FailureOr<TensorBinding> binding(ViewOp view, StringRef name) {
  auto type = view.getType();
  if (!dtypeToken(type.getElementType()))
    return view.emitOpError("binds '")
           << name << "' of element type " << type.getElementType()
           << ", which the artifact cannot store";
  return TensorBinding{manifestToken(name), type.getElementType(),
                       SmallVector<int64_t>(type.getShape()),
                       view.getRegionOffset(),
                       shapedByteSize(type).value_or(0)};
}

/// The error for a function that is not at the scheduled level.
static InFlightDiagnostic notScheduled(func::FuncOp func, StringRef what) {
  return func.emitOpError("is not scheduled: ")
         << what
         << "; run the compile pipeline (kiln-compile-pipeline, whose last "
            "pass is kiln-schedule) first";
}

FailureOr<EmittedFunction> kiln::codegen::emitFunction(func::FuncOp func) {
  if (func.isExternal())
    return notScheduled(func, "it has no body");
  if (func.getNumArguments() || func.getNumResults())
    return notScheduled(func, "it has arguments or results (a scheduled "
                              "function binds its inputs and outputs to "
                              "arena views)");
  // The GEMV measurement attributes kiln-compile sets on the module.
  if (auto module = func->getParentOfType<ModuleOp>()) {
    if (Attribute split = module->getAttr(kGemvSplitKAttr)) {
      auto i = dyn_cast<IntegerAttr>(split);
      if (!i || !isValidGemvSplitK(i.getInt())) {
        InFlightDiagnostic d = module.emitError()
                               << kGemvSplitKAttr
                               << " must be 1, 2, 4 or 8, got ";
        if (i)
          d << i.getInt();
        else
          d << split;
        return d;
      }
    }
    for (StringRef name :
         {StringRef(kGemvPreloadAttr), StringRef(kGemvMmaAheadAttr),
          StringRef(kGemvMmaPreloadAttr),
          StringRef(kKvAttentionSplitMajorAttr)})
      if (Attribute a = module->getAttr(name); a && !isa<BoolAttr>(a))
        return module.emitError() << name << " must be a bool, got " << a;
    // The measurement counts: an integer from `lo` to `hi` (no upper
    // bound where hi is INT64_MAX).
    constexpr int64_t kNoBound = std::numeric_limits<int64_t>::max(),
                      kMax = kGemvMinBlocksMax;
    struct Count {
      StringRef name;
      int64_t lo, hi;
    };
    for (const Count &c : {Count{kGemvMmaMinBlocksAttr, 1, kMax},
                           Count{kGemvMinBlocksAttr, 1, kMax},
                           Count{kGemvWaveMinBlocksAttr, 1, kMax},
                           Count{kKvAttentionMinBlocksAttr, 1, kMax},
                           Count{kKvAttentionClusterRowsAttr, 1, 64},
                           Count{kGemvStagesAttr, 0, kMax},
                           Count{kGemvStagesMinGridAttr, 1, kNoBound}})
      if (Attribute a = module->getAttr(c.name)) {
        auto i = dyn_cast<IntegerAttr>(a);
        if (!i || i.getInt() < c.lo || i.getInt() > c.hi) {
          InFlightDiagnostic d = module.emitError()
                                 << c.name << " must be an integer ";
          if (c.hi == kNoBound)
            d << "of at least " << c.lo;
          else
            d << "from " << c.lo << " to " << c.hi;
          return d << ", got " << a;
        }
      }
  }
  Block &block = func.getBody().front();
  ArenaOp arena;
  WeightsOp weightsRegion;
  GraphOp graph;
  EmittedFunction out;
  Translation t;
  SmallVector<ViewOp> inputs, outputs;
  for (Operation &op : block) {
    if (auto a = dyn_cast<ArenaOp>(op)) {
      if (arena)
        return a.emitOpError("is the second kiln.arena of the function; a "
                             "scheduled function has one");
      arena = a;
    } else if (auto w = dyn_cast<WeightsOp>(op)) {
      if (weightsRegion)
        return w.emitOpError("is the second kiln.weights of the function; a "
                             "scheduled function has one");
      weightsRegion = w;
    } else if (auto g = dyn_cast<GraphOp>(op)) {
      if (graph)
        return g.emitOpError("is the second kiln.graph of the function; the "
                             "CUDA backend runs one step");
      graph = g;
    } else if (auto view = dyn_cast<ViewOp>(op)) {
      if (view.getInput())
        inputs.push_back(view);
      if (view.getOutput())
        outputs.push_back(view);
      Value init = view.getInit();
      if (!init)
        continue;
      Operation *source = init.getDefiningOp();
      if (auto concat = dyn_cast<ConcatOp>(source)) {
        t.concatFirstPart[view] = concat;
        continue;
      }
      Type elt = view.getType().getElementType();
      if (!dtypeToken(elt))
        return source->emitOpError(
                   "has an element type the artifact cannot store: ")
               << elt;
      WeightEntry w;
      if (auto weight = dyn_cast<WeightOp>(source))
        w.name = manifestToken(weight.getName());
      else
        w.name = "constant_" + std::to_string(out.weights.size());
      w.elementType = elt;
      w.shape.assign(view.getType().getShape().begin(),
                     view.getType().getShape().end());
      w.offset = view.getRegionOffset();
      w.bytes = shapedByteSize(view.getType()).value_or(0);
      w.op = source;
      // Any IR order: the functions of a module share one weights layout,
      // so a function's views need not be in offset order (overlaps are
      // checked below).
      out.weightsBytes = std::max(out.weightsBytes, w.offset + w.bytes);
      t.weightIds[view] = out.weights.size();
      out.weights.push_back(std::move(w));
    }
  }
  {
    SmallVector<const WeightEntry *> byOffset;
    for (const WeightEntry &w : out.weights)
      byOffset.push_back(&w);
    llvm::stable_sort(byOffset, [](const WeightEntry *a, const WeightEntry *b) {
      return a->offset < b->offset;
    });
    for (size_t i = 1; i < byOffset.size(); ++i)
      if (byOffset[i]->offset <
          byOffset[i - 1]->offset + byOffset[i - 1]->bytes)
        return byOffset[i]->op->emitOpError("is stored at weights offset ")
               << byOffset[i]->offset << ", inside weight '"
               << byOffset[i - 1]->name << "' (bytes ["
               << byOffset[i - 1]->offset << ", "
               << byOffset[i - 1]->offset + byOffset[i - 1]->bytes << "))";
  }
  if (!arena)
    return notScheduled(func, "it has no kiln.arena");
  if (!graph)
    return notScheduled(func, "it has no kiln.graph");
  out.arenaBytes = arena.getType().getNumElements();
  if (!out.weights.empty()) {
    int64_t size = weightsRegion.getType().getNumElements();
    if (out.weightsBytes > size)
      return weightsRegion.emitOpError("has ")
             << size << " bytes but its weights end at byte "
             << out.weightsBytes;
  }
  for (ViewOp view : inputs) {
    FailureOr<TensorBinding> b = binding(view, *view.getInput());
    if (failed(b))
      return failure();
    out.inputs.push_back(std::move(*b));
  }
  for (ViewOp view : outputs) {
    FailureOr<TensorBinding> b = binding(view, *view.getOutput());
    if (failed(b))
      return failure();
    out.outputs.push_back(std::move(*b));
  }

  // The launches of each kernel symbol, in order of first launch.
  SymbolTableCollection symbols;
  llvm::MapVector<Operation *, SmallVector<LaunchOp>> launchesOf;
  for (Operation &op : graph.getBody().front()) {
    if (isa<ViewOp>(op))
      continue;
    if (auto launch = dyn_cast<LaunchOp>(op)) {
      auto kernel =
          symbols.lookupNearestSymbolFrom<KernelOp>(launch, launch.getKernelAttr());
      if (!kernel)
        return launch.emitOpError("launches '")
               << launch.getKernel() << "', which is not a kiln.kernel";
      launchesOf[kernel].push_back(launch);
      continue;
    }
    if (!isa<GemmOp>(op))
      return op.emitOpError("in kiln.graph has no CUDA lowering (a graph "
                            "holds kiln.launch and buffer-form kiln.gemm)");
  }

  // Kernels: one source function per launched symbol.
  llvm::raw_string_ostream os(out.source);
  os << "// Generated by kiln-compile from @" << func.getSymName()
     << "'s scheduled IR: one function per kiln.kernel, named by its\n"
     << "// symbol. Every shape is baked in; arguments are arena or weight "
        "pointers (see manifest.txt).\n"
     << "#include \"kiln_kernels.cuh\"\n";
  bool ok = true;
  for (auto &[kernel, launches] : launchesOf) {
    std::string text;
    llvm::raw_string_ostream ks(text);
    if (failed(emitKernel(t, cast<KernelOp>(kernel), launches, ks)))
      ok = false;
    ks.flush();
    os << text;
    out.kernels.push_back(
        {cast<KernelOp>(kernel).getSymName().str(), std::move(text)});
  }
  os.flush();
  if (!ok)
    return failure();

  // The launch list: one record per kiln.launch / kiln.gemm, in order.
  for (Operation &op : graph.getBody().front()) {
    Launch l;
    if (auto launch = dyn_cast<LaunchOp>(op)) {
      FailureOr<KernelLaunch> record = launchRecord(
          t, launch,
          symbols.lookupNearestSymbolFrom<KernelOp>(launch,
                                                    launch.getKernelAttr()));
      if (failed(record))
        return failure();
      l.kernel = std::move(*record);
    } else if (auto gemm = dyn_cast<GemmOp>(op)) {
      FailureOr<GemmLaunch> record = gemmRecord(t, gemm);
      if (failed(record))
        return failure();
      l.kind = Launch::Kind::Gemm;
      l.gemm = *record;
    } else {
      continue;
    }
    out.launches.push_back(std::move(l));
  }
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

bool kiln::codegen::kernelsWaitForDependencies(StringRef arch) {
  // Every generated kernel starts with kiln::pdlEnter(), which waits on
  // sm_90 and later (kiln_kernels.cuh).
  unsigned sm = 0;
  StringRef digits = arch.drop_front(3).take_while(
      [](char c) { return c >= '0' && c <= '9'; });
  return arch.starts_with("sm_") && !digits.getAsInteger(10, sm) && sm >= 90;
}

std::string kiln::codegen::printManifest(const EmittedFunction &fn,
                                         StringRef arch,
                                         const runtime::DataFile &weights,
                                         const runtime::DataFile &kernels,
                                         const runtime::DataFile &ir) {
  runtime::Manifest m;
  m.version = runtime::kArtifactFormatVersion;
  m.arch = arch.str();
  m.dependentLaunch = kernelsWaitForDependencies(arch);
  m.arenaBytes = static_cast<uint64_t>(fn.arenaBytes);
  m.weightsFile = weights;
  m.kernelsFile = kernels;
  m.irFile = ir;
  for (const WeightEntry &w : fn.weights)
    m.weights.push_back(
        tensorSpec(w.name, w.elementType, w.shape, w.offset, w.bytes));
  runtime::Function main;
  main.name = "main";
  for (const TensorBinding &b : fn.inputs)
    main.inputs.push_back(
        tensorSpec(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
  for (const TensorBinding &b : fn.outputs)
    main.outputs.push_back(
        tensorSpec(b.name, b.elementType, b.shape, b.arenaOffset, b.bytes));
  main.launches = fn.launches;
  m.functions.push_back(std::move(main));
  return runtime::formatManifest(m);
}

//===- Schedule.cpp - kiln-schedule: the explicit scheduled level ---------===//
//
// Lowers a planned fused-level function (kiln.arena attributes from
// kiln-plan-memory) to the scheduled level of docs/scheduled-ir.md: regions,
// views at the planned offsets, one kiln.kernel + kiln.launch per kernel
// (a fusion's body, one op or several elementwise ops, becomes the kernel's),
// buffer-form kiln.gemm, all in a kiln.graph. Every decision codegen used to
// take on its own (kernel names, grid and block, weights.bin layout, input
// and output bindings, the copy before a scatter) is taken here, in the IR.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace mlir;
using namespace kiln;

namespace kiln {
#define GEN_PASS_DEF_KILNSCHEDULE
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

/// The binding name of an argument or result: its kiln.name (the model's
/// name, as it is; the manifest's spelling is runtime::manifestName's, where
/// codegen writes it), else `<fallback>`.
static std::string bindingName(DictionaryAttr attrs, StringRef fallback) {
  if (attrs)
    if (auto s = attrs.getAs<StringAttr>(KilnDialect::getNameAttrName()))
      if (!s.getValue().empty())
        return s.getValue().str();
  return fallback.str();
}

static MemRefType bufferType(Type tensor) {
  auto t = cast<RankedTensorType>(tensor);
  return MemRefType::get(t.getShape(), t.getElementType());
}

/// The name part of the kernel computing `ops`: the op names, without the
/// dialect, joined by `_` (`silu_mul`); after four ops, `_and<N>` more.
static std::string kernelName(ArrayRef<Operation *> ops) {
  std::string name;
  for (auto [i, op] : llvm::enumerate(ops)) {
    if (i == 4) {
      name += "_and" + std::to_string(ops.size() - i);
      break;
    }
    if (i)
      name += "_";
    name += op->getName().stripDialect().str();
  }
  return name;
}

namespace {

/// One weights layout for every function of the module: a weight (the same
/// kiln.weight reference) or constant (the same type and value) has the same
/// offset in every function's kiln.weights region, so an artifact of several
/// step functions has one weight table (docs/kv-cache.md).
class WeightLayout {
public:
  /// The offset of `op`'s bytes, placing it at the end when new. A weight
  /// concatenation is its parts back to back: placed together when none is
  /// placed yet, else they must already abut in order.
  FailureOr<int64_t> place(Operation *op) {
    if (isWeightConcat(op))
      return placeConcat(op);
    std::optional<int64_t> bytes = shapedByteSize(op->getResult(0).getType());
    if (!bytes)
      return op->emitOpError("is too large for the weights region");
    Attribute key = keyOf(op);
    auto [it, inserted] = offsets.try_emplace(key, 0);
    if (inserted) {
      it->second = llvm::alignTo(end, kArenaAlignment);
      end = it->second + *bytes;
    }
    return it->second;
  }
  int64_t size() const { return end; }

  /// Places every weight concatenation of `module` first, so that their
  /// parts abut whatever order the functions use them in; then every
  /// other weight and constant.
  LogicalResult placeModule(ModuleOp module) {
    for (bool concats : {true, false})
      for (auto func : module.getOps<func::FuncOp>())
        if (!func.isExternal())
          for (Operation &op : func.getBody().front())
            if (isWeightLike(&op) && isWeightConcat(&op) == concats &&
                failed(place(&op)))
              return failure();
    return success();
  }

private:
  FailureOr<int64_t> placeConcat(Operation *op) {
    auto concat = cast<ConcatOp>(op);
    SmallVector<Operation *> parts;
    bool anyPlaced = false;
    for (Value v : concat.getInputs()) {
      parts.push_back(v.getDefiningOp());
      anyPlaced |= offsets.contains(keyOf(parts.back()));
    }
    SmallVector<int64_t> at;
    for (Operation *part : parts) {
      FailureOr<int64_t> offset = place(part);
      if (failed(offset))
        return failure();
      at.push_back(*offset);
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      int64_t expected =
          at[i - 1] + *shapedByteSize(parts[i - 1]->getResult(0).getType());
      if (at[i] != expected)
        return op->emitOpError("concatenates weights that the weights layout "
                               "does not store back to back (part #")
               << i << " at byte " << at[i] << ", expected " << expected
               << (anyPlaced ? "; another use placed them first" : "")
               << "); each part's bytes must be a multiple of "
               << kArenaAlignment;
    }
    return at.front();
  }

  static Attribute keyOf(Operation *op) {
    Builder b(op->getContext());
    if (auto w = dyn_cast<WeightOp>(op))
      // How the bytes are read is part of the identity: the same file range
      // read transposed (kiln-gemv), converted or as a column range is
      // another weight.
      return weightKey(w);
    return b.getArrayAttr({cast<ConstantOp>(op).getValue()});
  }
  DenseMap<Attribute, int64_t> offsets;
  int64_t end = 0;
};

/// Builds the scheduled form of one function.
class Scheduler {
public:
  Scheduler(func::FuncOp func, const MemoryPlan &plan, SymbolTable &symbols,
            const WeightLayout &layout, KvCacheOp cache)
      : func(func), plan(plan), symbols(symbols), layout(layout),
        cache(cache), builder(func.getContext()) {}

  LogicalResult run();

private:
  /// A root view of the arena at `offset`, before the graph.
  Value rootView(Location loc, int64_t offset, MemRefType type,
                 StringAttr input = nullptr) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(graph);
    return ViewOp::create(builder, loc, type, arena, offset, Value(), input,
                          StringAttr())
        .getResult();
  }
  /// A view of `base`'s first bytes as `type` (an alias), before the graph.
  Value aliasView(Location loc, Value base, MemRefType type,
                  StringAttr output = nullptr) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(graph);
    return ViewOp::create(builder, loc, type, base, 0, Value(), StringAttr(),
                          output)
        .getResult();
  }
  /// The buffer of an operand; a located error if it has none.
  FailureOr<Value> bufferOf(Operation *user, Value v) {
    auto it = buffers.find(v);
    if (it != buffers.end())
      return it->second;
    return user->emitOpError("reads a value with no planned buffer");
  }
  /// The region offset of a buffer value (a kiln.view).
  static int64_t offsetOf(Value buffer) {
    return buffer.getDefiningOp<ViewOp>().getRegionOffset();
  }

  /// The buffer result `r` of `op` is written to: its planned root, or the
  /// buffer of an operand whose bytes the planner gave it (in place).
  FailureOr<Value> resultBuffer(Operation *op, OpResult r);

  /// A new kernel symbol, empty; its name is `k<launch index>_<name>`.
  KernelOp createKernel(Location loc, StringRef name, TypeRange argTypes,
                        TypeRange resultTypes);
  LogicalResult launch(Operation *op, KernelOp kernel, LaunchDims dims,
                       ArrayRef<Value> ins, ArrayRef<Value> outs);
  LogicalResult scheduleCompute(Operation *op);
  LogicalResult scheduleScatter(Operation *op, ScatterNDOp scatter,
                                ArrayRef<Value> operandBuffers);
  LogicalResult scheduleGemm(GemmOp gemm);
  /// The KV region's views of a kv_append's results, created on first use.
  FailureOr<SmallVector<Value>> kvBuffers(Operation *op, KvAppendOp append);

  func::FuncOp func;
  const MemoryPlan &plan;
  SymbolTable &symbols;
  const WeightLayout &layout;
  KvCacheOp cache;
  OpBuilder builder;
  Value arena;
  /// kiln.kv_region, when the function appends to the cache.
  Value kvRegion;
  GraphOp graph;
  DenseMap<Value, Value> buffers;
  int64_t launchCount = 0;
};

} // namespace

KernelOp Scheduler::createKernel(Location loc, StringRef name,
                                 TypeRange argTypes, TypeRange resultTypes) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(func);
  std::string symbol = "k" + std::to_string(launchCount) + "_" + name.str();
  auto kernel = KernelOp::create(
      builder, loc, symbol, builder.getFunctionType(argTypes, resultTypes),
      /*arg_attrs=*/nullptr, /*res_attrs=*/nullptr);
  symbols.insert(kernel); // Renames on a clash.
  return kernel;
}

FailureOr<SmallVector<Value>> Scheduler::kvBuffers(Operation *op,
                                                   KvAppendOp append) {
  if (!cache || append.getCache() != cache.getSymName())
    return op->emitOpError("appends to a cache that is not the module's "
                           "kiln.kv_cache");
  auto elt = cast<RankedTensorType>(append.getKeyCache().getType())
                 .getElementType();
  int64_t width = elt.getIntOrFloatBitWidth() / 8;
  if (!kvRegion) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointAfter(arena.getDefiningOp());
    int64_t bytes = 2 * int64_t(cache.getLayers()) * cache.getBlockElements() *
                    width;
    kvRegion = KvRegionOp::create(
        builder, func.getLoc(),
        MemRefType::get({bytes}, builder.getIntegerType(8)));
  }
  SmallVector<Value> views;
  for (auto [i, r] : llvm::enumerate(op->getResults().take_front(2))) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(graph);
    int64_t offset = cache.getBlockOffset(append.getLayer(), i == 1) * width;
    views.push_back(ViewOp::create(builder, r.getLoc(),
                                   bufferType(r.getType()), kvRegion, offset,
                                   Value(), StringAttr(), StringAttr()));
  }
  return views;
}

FailureOr<Value> Scheduler::resultBuffer(Operation *op, OpResult r) {
  std::optional<int64_t> offset = plan.offsetOf(r);
  if (!offset)
    return op->emitOpError("result #")
           << r.getResultNumber() << " has no planned offset";
  MemRefType type = bufferType(r.getType());
  std::optional<int64_t> bytes = shapedByteSize(type);
  // In place: the planner put the result on an operand's bytes.
  for (Value operand : op->getOperands()) {
    auto it = buffers.find(operand);
    if (it == buffers.end())
      continue;
    Value buffer = it->second;
    auto view = buffer.getDefiningOp<ViewOp>();
    if (!isa_and_present<ArenaOp>(view.getRegion()) ||
        offsetOf(buffer) != *offset ||
        shapedByteSize(buffer.getType()) != bytes)
      continue;
    return buffer.getType() == type ? buffer
                                    : aliasView(r.getLoc(), buffer, type);
  }
  return rootView(r.getLoc(), *offset, type);
}

LogicalResult Scheduler::launch(Operation *op, KernelOp kernel,
                                LaunchDims dims, ArrayRef<Value> ins,
                                ArrayRef<Value> outs) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&graph.getBody().front());
  LaunchOp::create(builder, op->getLoc(), kernel.getSymName(),
                   ArrayRef<int64_t>{dims.grid, 1, 1},
                   ArrayRef<int64_t>{dims.block, 1, 1}, dims.smem, ins, outs);
  ++launchCount;
  return success();
}

LogicalResult Scheduler::scheduleScatter(Operation *op, ScatterNDOp scatter,
                                         ArrayRef<Value> operandBuffers) {
  // Operand buffers are in scatter_nd's operand order: data, indices,
  // updates. The result is copied from data, then updated in place.
  FailureOr<Value> out = resultBuffer(op, op->getResult(0));
  if (failed(out))
    return failure();
  Value data = operandBuffers[0];
  if (*out != data) {
    Type t = scatter.getData().getType();
    KernelOp copy = createKernel(op->getLoc(), "copy", {t}, {t});
    Block *block = builder.createBlock(&copy.getBody(), {}, {t},
                                       {op->getLoc()});
    YieldOp::create(builder, op->getLoc(), block->getArguments());
    LaunchDims dims = copyLaunchDims(
        cast<ShapedType>(out->getType()).getNumElements());
    if (failed(launch(op, copy, dims, {data}, {*out})))
      return failure();
  }
  SmallVector<Type> types(scatter->getOperandTypes());
  KernelOp kernel = createKernel(op->getLoc(), "scatter_nd", types,
                                 {scatter.getResult().getType()});
  SmallVector<Location> locs(types.size(), op->getLoc());
  Block *block = builder.createBlock(&kernel.getBody(), {}, types, locs);
  IRMapping map;
  map.map(scatter->getOperands(), block->getArguments());
  Operation *clone = builder.clone(*scatter, map);
  YieldOp::create(builder, op->getLoc(), clone->getResults());
  buffers[op->getResult(0)] = *out;
  return launch(op, kernel, chooseLaunchDims(clone),
                {*out, operandBuffers[1], operandBuffers[2]}, {*out});
}

LogicalResult Scheduler::scheduleCompute(Operation *op) {
  // The body: a fusion's, or the op alone. A fusion of several ops is one
  // elementwise kernel over one index space; nothing else is fused.
  auto fusion = dyn_cast<FusionOp>(op);
  Operation *bodyOp = op;
  SmallVector<Operation *> fusedOps;
  if (fusion) {
    Block &body = fusion.getBody().front();
    for (Operation &inner : body.without_terminator())
      fusedOps.push_back(&inner);
    if (fusedOps.empty())
      return op->emitOpError("holds no op; a kernel computes something");
    // kiln-gemv's GEMV kernels (analyzeGemvKernel: GEMV linears of one
    // input and their elementwise epilogues) are the other fused kernels
    // (codegen/EmitLinalg.cpp emitGemvKernel).
    // So are kiln-fuse-kv-attention's decode attention kernels
    // (analyzeKvAttentionKernel: rotary, append and attention).
    // And a rotary or KV append reading a merged product's heads in place
    // (headSplitKernelOp: kiln-merge-gemms' head-split), and the rotaries
    // with the append (analyzeRopeAppendKernel: --fuse-rope-append).
    if (fusedOps.size() > 1 && !analyzeGemvKernel(body) &&
        !analyzeKvAttentionKernel(body) && !headSplitKernelOp(body) &&
        !analyzeRopeAppendKernel(body)) {
      for (Operation *inner : fusedOps)
        if (!isScalarMap(inner) && !isa<GatherOp, SliceOp>(inner))
          return op->emitOpError("holds ")
                 << fusedOps.size() << " ops, and " << inner->getName()
                 << " is not elementwise; kiln-schedule lowers fusions of "
                    "several ops only when every op is elementwise (or a "
                    "gather or slice leaf), when "
                    "they are GEMV linears of one input and their "
                    "elementwise epilogue, a decode kv_attention with "
                    "its kv_append and rotaries, a rotary or kv_append "
                    "reading a merged product's heads, or rotaries with a "
                    "kv_append";
    }
    bodyOp = fusedOps.back();
  }
  // Scatter is a copy and an in-place update.
  if (auto scatter = dyn_cast<ScatterNDOp>(bodyOp)) {
    SmallVector<Value> operandBuffers;
    for (Value v : scatter->getOperands()) {
      Value outer = fusion ? fusion.getInputs()[cast<BlockArgument>(v)
                                                    .getArgNumber()]
                           : v;
      FailureOr<Value> buffer = bufferOf(op, outer);
      if (failed(buffer))
        return failure();
      operandBuffers.push_back(*buffer);
    }
    return scheduleScatter(op, scatter, operandBuffers);
  }

  SmallVector<Value> inputs;
  if (fusion)
    inputs.assign(fusion.getInputs().begin(), fusion.getInputs().end());
  else
    inputs = llvm::SetVector<Value>(op->operand_begin(), op->operand_end())
                 .takeVector();
  SmallVector<Value> ins, outs;
  for (Value v : inputs) {
    FailureOr<Value> buffer = bufferOf(op, v);
    if (failed(buffer))
      return failure();
    ins.push_back(*buffer);
  }
  if (KvAppendOp append = getKvAppend(op)) {
    // The append's two results are the KV region's views (the fusion
    // yields them first); a fused attention's result is an arena buffer.
    FailureOr<SmallVector<Value>> views = kvBuffers(op, append);
    if (failed(views))
      return failure();
    for (auto [i, r] : llvm::enumerate(op->getResults())) {
      if (i < views->size()) {
        buffers[r] = (*views)[i];
        outs.push_back((*views)[i]);
        continue;
      }
      FailureOr<Value> buffer = resultBuffer(op, r);
      if (failed(buffer))
        return failure();
      buffers[r] = *buffer;
      outs.push_back(*buffer);
    }
  } else {
    for (OpResult r : op->getResults()) {
      FailureOr<Value> buffer = resultBuffer(op, r);
      if (failed(buffer))
        return failure();
      buffers[r] = *buffer;
      outs.push_back(*buffer);
    }
  }

  SmallVector<Type> argTypes;
  for (Value v : inputs)
    argTypes.push_back(v.getType());
  KernelOp kernel =
      createKernel(op->getLoc(), kernelName(fusedOps.size() > 1
                                                ? ArrayRef(fusedOps)
                                                : ArrayRef(bodyOp)),
                   argTypes, op->getResultTypes());
  Operation *kernelBodyOp;
  if (fusion) {
    kernel.getBody().takeBody(fusion.getBody());
    kernelBodyOp = &kernel.getBody().front().front();
  } else {
    SmallVector<Location> locs(argTypes.size(), op->getLoc());
    Block *block = builder.createBlock(&kernel.getBody(), {}, argTypes, locs);
    IRMapping map;
    map.map(inputs, block->getArguments());
    kernelBodyOp = builder.clone(*op, map);
    YieldOp::create(builder, op->getLoc(), kernelBodyOp->getResults());
  }
  LaunchDims dims = fusedOps.size() > 1 ? chooseFusedLaunchDims(fusedOps)
                                        : chooseLaunchDims(kernelBodyOp);
  return launch(op, kernel, dims, ins, outs);
}

LogicalResult Scheduler::scheduleGemm(GemmOp gemm) {
  auto buf = [&](Value v) -> FailureOr<Value> {
    if (!v)
      return Value();
    return bufferOf(gemm, v);
  };
  FailureOr<Value> a = buf(gemm.getA()), b = buf(gemm.getB()),
                   bias = buf(gemm.getBias()),
                   residual = buf(gemm.getResidual());
  if (failed(a) || failed(b) || failed(bias) || failed(residual))
    return failure();
  FailureOr<Value> out = resultBuffer(gemm, gemm->getResult(0));
  if (failed(out))
    return failure();
  buffers[gemm.getResult()] = *out;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&graph.getBody().front());
  GemmOp::create(builder, gemm.getLoc(), Type(), *a, *b, *bias, *residual,
                 *out, gemm.getTransposeB(), gemm.getActivation(),
                 gemm.getScaleAttr());
  ++launchCount;
  return success();
}

LogicalResult Scheduler::run() {
  Block &block = func.getBody().front();
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  Location loc = func.getLoc();
  SmallVector<Operation *> oldOps;
  for (Operation &op : block)
    if (!isWeightLike(&op))
      oldOps.push_back(&op);

  // Regions first, then the weights' sources and their views.
  builder.setInsertionPointToStart(&block);
  Type i8 = builder.getIntegerType(8);
  arena = ArenaOp::create(builder, loc,
                          MemRefType::get({*plan.arenaBytes()}, i8));
  SmallVector<Operation *> weightOps;
  SmallVector<int64_t> weightOffsets;
  for (Operation &op : block) {
    if (!isWeightLike(&op))
      continue;
    FailureOr<int64_t> offset =
        const_cast<WeightLayout &>(layout).place(&op);
    if (failed(offset))
      return failure();
    weightOffsets.push_back(*offset);
    weightOps.push_back(&op);
  }
  int64_t weightEnd = layout.size();
  // Views in offset order (weights.bin is written in view order), whatever
  // order this function uses its weights in.
  {
    SmallVector<unsigned> order(weightOps.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order, [&](unsigned a, unsigned b) {
      return weightOffsets[a] < weightOffsets[b];
    });
    SmallVector<Operation *> ops;
    SmallVector<int64_t> offsets;
    for (unsigned i : order) {
      ops.push_back(weightOps[i]);
      offsets.push_back(weightOffsets[i]);
    }
    weightOps = std::move(ops);
    weightOffsets = std::move(offsets);
  }
  auto weightsOp =
      WeightsOp::create(builder, loc, MemRefType::get({weightEnd}, i8));
  Value weights = weightsOp;
  Operation *anchor = weightsOp;
  // Weight concatenations after every weight: they read their parts.
  for (bool concats : {false, true})
    for (Operation *op : weightOps)
      if (isWeightConcat(op) == concats) {
        op->moveAfter(anchor);
        anchor = op;
      }
  builder.setInsertionPointAfter(anchor);
  // Two equal constants of one function (a rewrite after the last CSE may
  // make one) share their bytes in the layout: they share one view too, as
  // two views of the same bytes would be two buffers overlapping.
  llvm::DenseMap<std::pair<int64_t, Type>, Value> viewAt;
  for (auto [op, offset] : llvm::zip(weightOps, weightOffsets)) {
    Value t = op->getResult(0);
    Value &view = viewAt[{offset, t.getType()}];
    if (!view)
      view = ViewOp::create(builder, op->getLoc(), bufferType(t.getType()),
                            weights, offset, t, StringAttr(), StringAttr());
    buffers[t] = view;
  }

  // The graph, then the inputs' views before it.
  builder.setInsertionPoint(ret);
  graph = GraphOp::create(builder, loc);
  graph.getBody().emplaceBlock();
  for (BlockArgument arg : block.getArguments()) {
    std::optional<int64_t> offset = plan.offsetOf(arg);
    if (!offset)
      return func.emitOpError("argument #")
             << arg.getArgNumber() << " has no planned offset";
    std::string name =
        bindingName(func.getArgAttrDict(arg.getArgNumber()),
                    "input_" + std::to_string(arg.getArgNumber()));
    buffers[arg] = rootView(arg.getLoc(), *offset, bufferType(arg.getType()),
                            builder.getStringAttr(name));
  }

  // Every op, in program order.
  for (Operation *op : oldOps) {
    if (op == ret)
      continue;
    if (Value source = viewSource(op); source && plan.isAlias(op->getResult(0))) {
      FailureOr<Value> base = bufferOf(op, source);
      if (failed(base))
        return failure();
      buffers[op->getResult(0)] =
          aliasView(op->getLoc(), *base, bufferType(op->getResult(0).getType()));
      continue;
    }
    if (auto gemm = dyn_cast<GemmOp>(op)) {
      if (failed(scheduleGemm(gemm)))
        return failure();
      continue;
    }
    if (!isa_and_present<KilnDialect>(op->getDialect()))
      return op->emitOpError("is not a kiln op; kiln-schedule lowers kiln "
                             "fused-level functions only");
    if (failed(scheduleCompute(op)))
      return failure();
  }

  // Outputs, in result order.
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    FailureOr<Value> buffer = bufferOf(ret, v);
    if (failed(buffer))
      return failure();
    if (!isa_and_present<ArenaOp>(buffer->getDefiningOp<ViewOp>().getRegion()))
      return ret.emitOpError("returns value #")
             << i << ", a weight or constant: outputs must be computed into "
                     "the arena";
    std::string name =
        bindingName(func.getResultAttrDict(i), "output_" + std::to_string(i));
    (void)aliasView(v.getLoc(), *buffer, cast<MemRefType>(buffer->getType()),
                    builder.getStringAttr(name));
  }

  // Generation roles by binding name (docs/kv-cache.md).
  SmallVector<NamedAttribute> roles;
  auto addRole = [&](DictionaryAttr attrs, StringRef fallback) {
    if (auto role = attrs ? attrs.getAs<StringAttr>("kiln.role") : nullptr)
      if (role.getValue() != "past")
        roles.push_back(builder.getNamedAttr(bindingName(attrs, fallback),
                                             role));
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    addRole(func.getArgAttrDict(i), "input_" + std::to_string(i));
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    addRole(func.getResultAttrDict(i), "output_" + std::to_string(i));
  if (!roles.empty())
    func->setAttr("kiln.roles", builder.getDictionaryAttr(roles));

  // The old body goes; the weights' sources stay.
  builder.setInsertionPoint(ret);
  func::ReturnOp::create(builder, ret.getLoc());
  for (Operation *op : llvm::reverse(oldOps)) {
    op->dropAllUses();
    op->erase();
  }
  BitVector allArgs(block.getNumArguments(), true);
  if (failed(func.eraseArguments(allArgs)))
    return failure();
  BitVector allResults(func.getNumResults(), true);
  if (failed(func.eraseResults(allResults)))
    return failure();
  func->removeAttr(KilnDialect::getArenaBytesAttrName());
  return success();
}

FailureOr<int64_t> kiln::sharedWeightsBytes(ModuleOp module) {
  WeightLayout layout;
  if (failed(layout.placeModule(module)))
    return failure();
  return layout.size();
}

namespace {
struct KilnSchedulePass : kiln::impl::KilnScheduleBase<KilnSchedulePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    auto caches = llvm::to_vector(module.getOps<KvCacheOp>());
    if (caches.size() > 1) {
      caches[1].emitOpError("is a second kiln.kv_cache; a module has one");
      return signalPassFailure();
    }
    KvCacheOp cache = caches.empty() ? KvCacheOp() : caches.front();
    // Every function's weights first, so that each gets the whole layout.
    WeightLayout layout;
    if (failed(layout.placeModule(module)))
      return signalPassFailure();
    for (auto func :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      FailureOr<MemoryPlan> plan = MemoryPlan::fromAttributes(func);
      if (failed(plan))
        return signalPassFailure();
      if (!plan->arenaBytes()) {
        func.emitOpError("is not planned (no ")
            << KilnDialect::getArenaBytesAttrName()
            << "); run kiln-plan-memory first";
        return signalPassFailure();
      }
      Scheduler scheduler(func, *plan, symbols, layout, cache);
      if (failed(scheduler.run()))
        return signalPassFailure();
    }
    dedupeKernels(module);
  }

  /// Identical kernels (the same signature and body: every layer's norm, the
  /// same op in two buckets of one shape) become one kiln.kernel, so codegen
  /// compiles each once; launches of a duplicate name the first.
  static void dedupeKernels(ModuleOp module) {
    llvm::StringMap<KernelOp> firstByKey;
    DenseMap<StringAttr, FlatSymbolRefAttr> replace;
    SmallVector<KernelOp> duplicates;
    for (KernelOp kernel : module.getOps<KernelOp>()) {
      // The kernel as printed, under a fixed name.
      std::string key;
      llvm::raw_string_ostream os(key);
      StringAttr name = kernel.getSymNameAttr();
      kernel.setSymName("k");
      kernel->print(os, OpPrintingFlags().useLocalScope());
      kernel.setSymName(name);
      auto [it, inserted] = firstByKey.try_emplace(key, kernel);
      if (inserted)
        continue;
      replace[kernel.getSymNameAttr()] =
          FlatSymbolRefAttr::get(it->second.getSymNameAttr());
      duplicates.push_back(kernel);
    }
    if (replace.empty())
      return;
    module.walk([&](LaunchOp launch) {
      auto it = replace.find(launch.getKernelAttr().getAttr());
      if (it != replace.end())
        launch.setKernelAttr(it->second);
    });
    for (KernelOp kernel : duplicates)
      kernel.erase();
  }
};
} // namespace

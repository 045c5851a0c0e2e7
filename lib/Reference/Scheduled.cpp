//===- Scheduled.cpp - reference evaluation of the scheduled level --------===//
//
// Runs a function in the explicit scheduled form (docs/scheduled-ir.md): a
// `kiln.arena` and a `kiln.weights` region, buffers as `kiln.view`s at static
// byte offsets, and a `kiln.graph` of `kiln.launch`es and buffer-form
// `kiln.gemm`s. Both regions are real byte arrays here, and every buffer is
// read from and written to its bytes at its planned offset, with nothing kept
// on the side: a launch reads its `ins` from bytes, evaluates its kernel's
// body with the graph-level kernels, and writes its results to its `outs`'
// bytes. A bad plan or a wrong alias offset therefore gives a wrong answer,
// exactly as it would on the GPU.
//
// A `kiln.kv_region` is the bytes of the module's kiln.kv_cache held by the
// run's ref::State: not poisoned, and persistent from one call to the next.
// A launch of a kernel whose body is one kiln.kv_append writes only the new
// slots into its `outs` (views of that region), as the CUDA kernel does.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>
#include <deque>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;

/// The poison byte both regions start with: a read of bytes nothing wrote
/// shows up as garbage, not as zeros that happen to be right.
static constexpr uint8_t kPoison = 0xA5;

static RankedTensorType tensorTypeOf(MemRefType type) {
  return RankedTensorType::get(type.getShape(), type.getElementType());
}

bool kiln::ref::isExplicitlyScheduled(func::FuncOp func) {
  return !func.getBody().empty() &&
         !func.getBody().front().getOps<GraphOp>().empty();
}

namespace {

/// The regions of one run and typed access to the views into them.
class Memory {
public:
  /// Allocates the regions `func` declares: the arena and the weights
  /// poisoned, the KV region bound to `state`'s bytes of the module's cache.
  LogicalResult allocate(func::FuncOp func, State &state) {
    for (Operation &op : func.getBody().front()) {
      if (!isa<ArenaOp, WeightsOp, KvRegionOp>(op))
        continue;
      auto type = cast<MemRefType>(op.getResult(0).getType());
      if (!isa<KvRegionOp>(op)) {
        owned.emplace_back(type.getNumElements(), kPoison);
        regions[&op] = owned.back();
        continue;
      }
      FailureOr<MutableArrayRef<uint8_t>> bytes = kvBytes(op, state);
      if (failed(bytes))
        return failure();
      if ((int64_t)bytes->size() != type.getNumElements())
        return op.emitError("reference backend: the kiln.kv_region has ")
               << type.getNumElements() << " bytes, the module's KV cache "
               << bytes->size();
      regions[&op] = *bytes;
    }
    return success();
  }

  /// The bytes of `buffer` (a kiln.view chain rooted at a region), checked
  /// to lie inside the region; errors are located at `user`.
  FailureOr<MutableArrayRef<uint8_t>> bytesOf(Value buffer, Operation *user) {
    auto view = buffer.getDefiningOp<ViewOp>();
    Operation *region =
        view ? view.getRoot().getBase().getDefiningOp() : nullptr;
    auto it = regions.find(region);
    if (!view || it == regions.end())
      return user->emitError("reference backend: buffer is not a kiln.view "
                             "of the function's kiln.arena, kiln.weights or "
                             "kiln.kv_region");
    std::optional<int64_t> size = shapedByteSize(view.getType());
    int64_t offset = view.getRegionOffset();
    MutableArrayRef<uint8_t> bytes = it->second;
    if (!size || offset < 0 || offset > (int64_t)bytes.size() ||
        *size > (int64_t)bytes.size() - offset)
      return view.emitError("reference backend: view bytes [")
             << offset << ", " << offset + size.value_or(0)
             << ") are outside its region of " << bytes.size() << " bytes";
    return MutableArrayRef<uint8_t>(bytes.data() + offset, *size);
  }

  /// Reads `buffer` as a tensor of its shape and element type.
  FailureOr<Tensor> read(Value buffer, Operation *user) {
    FailureOr<MutableArrayRef<uint8_t>> bytes = bytesOf(buffer, user);
    if (failed(bytes))
      return failure();
    return Tensor::fromBytes(tensorTypeOf(cast<MemRefType>(buffer.getType())),
                             bytes->data());
  }

  /// Writes `t` into `buffer`'s bytes (in the buffer's element type).
  LogicalResult write(Value buffer, Tensor t, Operation *user) {
    auto type = cast<MemRefType>(buffer.getType());
    if (type.getShape() != ArrayRef<int64_t>(t.shape))
      return user->emitError("reference backend: a ")
             << type << " buffer is written with a value of another shape";
    FailureOr<MutableArrayRef<uint8_t>> bytes = bytesOf(buffer, user);
    if (failed(bytes))
      return failure();
    t.elementType = type.getElementType();
    t.toBytes(bytes->data());
    return success();
  }

private:
  /// `state`'s bytes of the module's one kiln.kv_cache (`region` is the
  /// function's kiln.kv_region).
  static FailureOr<MutableArrayRef<uint8_t>> kvBytes(Operation &region,
                                                     State &state) {
    auto module = region.getParentOfType<ModuleOp>();
    SmallVector<KvCacheOp> caches;
    if (module)
      caches = llvm::to_vector(module.getOps<KvCacheOp>());
    if (caches.size() != 1)
      return region.emitError("reference backend: a kiln.kv_region needs "
                              "exactly one kiln.kv_cache in its module, "
                              "found ")
             << caches.size();
    return kern::kvCacheState(caches.front(), state, &region);
  }

  /// Bytes of each region: the arena's and the weights' in `owned`, the KV
  /// region's in the State.
  llvm::DenseMap<Operation *, MutableArrayRef<uint8_t>> regions;
  std::deque<std::vector<uint8_t>> owned;
};

/// Fills a weights view's bytes from its kiln.weight (the file's bytes,
/// verbatim) or kiln.constant.
LogicalResult initialize(Memory &memory, ViewOp view, StringRef weightDir) {
  Operation *source = view.getInit().getDefiningOp();
  // A weight concatenation's bytes are its parts', each initialised by its
  // own view (kiln-schedule stores them back to back).
  if (isa<ConcatOp>(source))
    return success();
  FailureOr<MutableArrayRef<uint8_t>> bytes = memory.bytesOf(view, view);
  if (failed(bytes))
    return failure();
  if (auto weight = dyn_cast<WeightOp>(source)) {
    auto buf = readWeightBytes(weight, weightDir);
    if (failed(buf))
      return failure();
    if ((*buf)->getBufferSize() != bytes->size())
      return view.emitError("reference backend: weight '")
             << weight.getName() << "' has " << (*buf)->getBufferSize()
             << " bytes, its buffer " << bytes->size();
    std::memcpy(bytes->data(), (*buf)->getBufferStart(), bytes->size());
    return success();
  }
  FailureOr<SmallVector<Tensor>> value = evalOp(source, {});
  if (failed(value))
    return failure();
  return memory.write(view, std::move(value->front()), view);
}

/// A launch of a kernel with a kiln.kv_append (`append`): the append
/// alone, or kiln-fuse-kv-attention's rotaries, append and kv_attention.
/// The kernel yields the append's two results first, and its first two
/// `outs` are the layer's key and value blocks (views of the KV region):
/// only the new slots are written into their bytes, in place (the rest of
/// the cache is neither read nor copied); the ops after the append read the
/// blocks as the append left them, and the kernel's other results go to
/// its other outs.
LogicalResult kvAppendLaunch(Memory &memory, LaunchOp op, KernelOp kernel,
                             KvAppendOp append) {
  Block &body = kernel.getBody().front();
  YieldOp yield = kernel.getYield();
  if (yield.getNumOperands() != op.getOutputs().size())
    return op.emitError("reference backend: @")
           << op.getKernel() << " yields " << yield.getNumOperands()
           << " values for " << op.getOutputs().size() << " outs";
  if (yield.getNumOperands() < 2 ||
      yield.getOperand(0) != append.getKeyCache() ||
      yield.getOperand(1) != append.getValueCache())
    return kernel.emitError("reference backend: @")
           << kernel.getSymName()
           << " must yield the results of its kiln.kv_append first";
  if (body.getNumArguments() != op.getInputs().size())
    return op.emitError("reference backend: @")
           << op.getKernel() << " takes " << body.getNumArguments()
           << " arguments, the launch passes " << op.getInputs().size();
  KvCacheOp cache = append.getCacheOp();
  if (!cache)
    return append.emitError("reference backend: '")
           << append.getCache() << "' does not name a kiln.kv_cache";
  DenseMap<Value, Tensor> values;
  for (auto [arg, in] : llvm::zip_equal(body.getArguments(), op.getInputs())) {
    FailureOr<Tensor> t = memory.read(in, op);
    if (failed(t))
      return failure();
    values[arg] = std::move(*t);
  }
  for (Operation &inner : body.without_terminator()) {
    SmallVector<Tensor> operands;
    for (Value v : inner.getOperands()) {
      auto it = values.find(v);
      if (it == values.end())
        return inner.emitError("reference backend: an operand of ")
               << inner.getName() << " in @" << kernel.getSymName()
               << " is not computed before it";
      operands.push_back(it->second);
    }
    if (&inner != append.getOperation()) {
      FailureOr<SmallVector<Tensor>> outs = evalOp(&inner, operands);
      if (failed(outs))
        return failure();
      for (auto [r, t] : llvm::zip_equal(inner.getResults(), *outs))
        values[r] = std::move(t);
      continue;
    }
    for (unsigned i = 0; i < 2; ++i) {
      Value out = op.getOutputs()[i];
      OpResult result = append->getResult(i); // key 0, value 1
      auto type = cast<MemRefType>(out.getType());
      if (type.getShape() != cast<ShapedType>(result.getType()).getShape() ||
          type.getElementType() != cache.getElementType())
        return op.emitError("reference backend: a kv_append launch writes a ")
               << type << " buffer for the cache rows " << result.getType();
      FailureOr<MutableArrayRef<uint8_t>> bytes = memory.bytesOf(out, op);
      if (failed(bytes))
        return failure();
      if (failed(kern::writeKvSlots(operands[i], operands[2],
                                    cache.getMaxSeq(), type.getElementType(),
                                    *bytes, op)))
        return failure();
      FailureOr<Tensor> blocks = memory.read(out, op);
      if (failed(blocks))
        return failure();
      values[result] = std::move(*blocks);
    }
  }
  for (auto [i, v] : llvm::enumerate(yield.getOperands())) {
    if (i < 2)
      continue;
    auto it = values.find(v);
    if (it == values.end())
      return kernel.emitError("reference backend: @")
             << kernel.getSymName() << " yields a value it does not compute";
    if (failed(memory.write(op.getOutputs()[i], it->second, op)))
      return failure();
  }
  return success();
}

/// One kiln.launch: reads every `ins` buffer, evaluates the kernel's body,
/// then writes each result to its `outs` buffer (so an in-place update reads
/// the old bytes before they are overwritten, as the kernel does).
LogicalResult launch(Memory &memory, LaunchOp op,
                     SymbolTableCollection &symbols) {
  auto kernel = symbols.lookupNearestSymbolFrom<KernelOp>(op, op.getKernelAttr());
  if (!kernel)
    return op.emitError("reference backend: '")
           << op.getKernel() << "' is not a kiln.kernel of this module";
  // The one stateful body: the append updates the KV region in place.
  Block &body = kernel.getBody().front();
  auto appends = body.getOps<KvAppendOp>();
  if (!appends.empty()) {
    if (!llvm::hasSingleElement(appends))
      return (*appends.begin())
          .emitError("reference backend: a kernel may hold one kiln.kv_append");
    return kvAppendLaunch(memory, op, kernel, *appends.begin());
  }
  SmallVector<Tensor> ins;
  for (Value v : op.getInputs()) {
    FailureOr<Tensor> t = memory.read(v, op);
    if (failed(t))
      return failure();
    ins.push_back(std::move(*t));
  }
  kern::Result results = kern::evalBody(kernel.getBody().front(), ins, kernel);
  if (failed(results))
    return failure();
  if (results->size() != op.getOutputs().size())
    return op.emitError("reference backend: @")
           << op.getKernel() << " yields " << results->size()
           << " values for " << op.getOutputs().size() << " outs";
  for (auto [v, t] : llvm::zip_equal(op.getOutputs(), *results))
    if (failed(memory.write(v, std::move(t), op)))
      return failure();
  return success();
}

/// A buffer-form kiln.gemm: the fused level's gemm on its operands' bytes,
/// the product written to `outs`.
LogicalResult gemm(Memory &memory, GemmOp op) {
  if (!op.hasBufferSemantics())
    return op.emitError("reference backend: a kiln.gemm inside kiln.graph "
                        "must be the buffer form (with outs)");
  SmallVector<Tensor> operands;
  for (Value v : op->getOperands()) {
    FailureOr<Tensor> t = memory.read(v, op);
    if (failed(t))
      return failure();
    operands.push_back(std::move(*t));
  }
  FailureOr<SmallVector<Tensor>> product = evalOp(op, operands);
  if (failed(product))
    return failure();
  return memory.write(op.getOut(), std::move(product->front()), op);
}

} // namespace

FailureOr<std::vector<Tensor>>
kiln::ref::runScheduledFunction(func::FuncOp func, ArrayRef<Tensor> inputs,
                                StringRef weightDir, State *state) {
  Signature sig = getSignature(func);
  if (sig.inputs.size() != inputs.size())
    return func.emitError("expected ")
           << sig.inputs.size() << " inputs, got " << inputs.size();
  // A run without a State: a fresh, zeroed cache that lives for this run.
  State local;
  if (!state)
    state = &local;
  Memory memory;
  if (failed(memory.allocate(func, *state)))
    return failure();
  SymbolTableCollection symbols;
  Block &body = func.getBody().front();
  for (Operation &op : body) {
    LogicalResult ok =
        TypeSwitch<Operation *, LogicalResult>(&op)
            .Case<ArenaOp, WeightsOp, KvRegionOp, WeightOp, ConstantOp,
                  ConcatOp>(
                [](Operation *) { return success(); })
            .Case([&](ViewOp view) {
              return view.getInit() ? initialize(memory, view, weightDir)
                                    : success();
            })
            .Case([&](GraphOp) { return success(); })
            .Case([](func::ReturnOp ret) -> LogicalResult {
              if (ret.getNumOperands())
                return ret.emitError("reference backend: a scheduled "
                                     "function returns nothing (its outputs "
                                     "are `output` views)");
              return success();
            })
            .Default([](Operation *other) -> LogicalResult {
              return other->emitError("reference backend: '")
                     << other->getName()
                     << "' is not part of a scheduled function (regions, "
                        "weights, views and one kiln.graph)";
            });
    if (failed(ok))
      return failure();
  }
  // The step's inputs, into their bytes.
  for (auto [binding, t] : llvm::zip_equal(sig.inputs, inputs)) {
    if (binding.type.getShape() != ArrayRef<int64_t>(t.shape))
      return binding.value.getDefiningOp()->emitError("input '")
             << binding.name << "' has the wrong shape";
    if (failed(memory.write(binding.value, t, binding.value.getDefiningOp())))
      return failure();
  }
  // The step, in order.
  for (GraphOp graph : body.getOps<GraphOp>()) {
    for (Operation &op : graph.getBody().front()) {
      LogicalResult ok =
          TypeSwitch<Operation *, LogicalResult>(&op)
              .Case([&](LaunchOp l) { return launch(memory, l, symbols); })
              .Case([&](GemmOp g) { return gemm(memory, g); })
              .Case([](ViewOp) { return success(); }) // an alias: no work
              .Default([](Operation *other) -> LogicalResult {
                return other->emitError("reference backend: '")
                       << other->getName()
                       << "' cannot run inside kiln.graph";
              });
      if (failed(ok))
        return failure();
    }
  }
  std::vector<Tensor> results;
  for (const Binding &binding : sig.outputs) {
    FailureOr<Tensor> t =
        memory.read(binding.value, binding.value.getDefiningOp());
    if (failed(t))
      return failure();
    results.push_back(std::move(*t));
  }
  return results;
}

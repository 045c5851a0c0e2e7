//===- Evaluator.cpp - reference backend driver ---------------------------===//
//
// Dispatches one op to its kernel group, loads weight bytes, states a
// function's inputs and outputs, and runs whole functions: at the graph and
// fused levels through a value table, with planned offsets (functions
// carrying `kiln.arena_bytes`) through one byte arena at those offsets, and
// in the explicit scheduled form through Scheduled.cpp; in both planned
// forms a planning bug corrupts the result. A run threads its ref::State
// (the KV cache bytes) to kiln.kv_append, the one op with state.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "kiln/Dialect/Kiln/IR/WeightFile.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

/// Wraps the integer results narrower than 64 bits to their element type
/// (two's complement; unsigned types zero-extended), as the bytes a GPU
/// kernel stores would read back: an i8 sum of 100 + 100 is -56, a ui8 bit
/// not of 5 is 250.
static FailureOr<SmallVector<Tensor>> wrapIntegers(Operation *op,
                                                   Result r) {
  if (failed(r))
    return failure();
  for (Tensor &t : *r) {
    auto it = dyn_cast<IntegerType>(t.elementType);
    if (!it || it.getWidth() == 1 || it.getWidth() >= 64)
      continue;
    unsigned w = it.getWidth();
    for (int64_t &v : t.i) {
      uint64_t raw = (uint64_t)v & ((uint64_t(1) << w) - 1);
      v = it.isUnsigned() ? (int64_t)raw
                          : (int64_t)(raw << (64 - w)) >> (64 - w);
    }
  }
  return r;
}

FailureOr<SmallVector<Tensor>> kiln::ref::evalOp(Operation *op,
                                                 ArrayRef<Tensor> operands) {
  if (op->getNumOperands() != operands.size()) {
    op->emitError("reference backend got ")
        << operands.size() << " operands, op has " << op->getNumOperands();
    return failure();
  }
  for (auto [v, t] : llvm::zip_equal(op->getOperands(), operands)) {
    // Tensors, or the buffers of a scheduled-level kiln.gemm.
    auto type = dyn_cast<ShapedType>(v.getType());
    if (!type || !type.hasRank() ||
        type.getShape() != ArrayRef<int64_t>(t.shape)) {
      op->emitError("reference backend operand shape does not match the IR");
      return failure();
    }
  }
  // Results are allocated whole, so an absurd static shape (a fuzzed or
  // mistyped model) is refused here rather than aborting in the allocator.
  for (Type t : op->getResultTypes()) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (!type || !type.hasStaticShape())
      continue;
    std::optional<int64_t> elts = checkedNumElements(type.getShape());
    if (!elts || *elts > kMaxTensorElements) {
      op->emitError("reference backend: result of type ")
          << type << " has more than " << kMaxTensorElements
          << " elements, the largest tensor it holds";
      return failure();
    }
  }
  std::optional<Result> r = evalElementwise(op, operands);
  bool elementwise = r.has_value();
  if (!r)
    r = evalStructured(op, operands);
  if (!r)
    r = evalMovement(op, operands);
  if (!r)
    r = evalIndexing(op, operands);
  if (!r)
    r = evalFused(op, operands);
  if (!r)
    r = evalKv(op, operands);
  if (!r)
    r = evalQuant(op, operands);
  if (!r) {
    op->emitError("the reference backend has no kernel for '")
        << op->getName() << "'";
    return failure();
  }
  if (elementwise)
    r = wrapIntegers(op, std::move(*r));
  if (failed(*r))
    return failure();
  // Kernels compute in f32 (or wider); a 16-bit float result is rounded
  // once, where the GPU kernel stores it.
  for (Tensor &t : **r)
    if (t.kind == Kind::F32 && (t.elementType.isBF16() || t.elementType.isF16()))
      for (float &v : t.f)
        v = roundToElementType(v, t.elementType);
  return *r;
}

FailureOr<Tensor> kiln::ref::loadWeight(Operation *op, StringRef baseDir) {
  auto w = dyn_cast<WeightOp>(op);
  if (!w) {
    op->emitError("not a kiln.weight");
    return failure();
  }
  auto buf = readWeightBytes(w, baseDir);
  if (failed(buf))
    return failure();
  return Tensor::fromBytes(w.getResult().getType(), (*buf)->getBufferStart());
}

namespace {

/// Where values live during a run: a value table, or, at the scheduled level,
/// the arena for every planned value.
class Frame {
public:
  explicit Frame(func::FuncOp func) {
    StringRef sizeName = KilnDialect::getArenaBytesAttrName();
    if (auto size = func->getAttrOfType<IntegerAttr>(sizeName))
      arena.assign(size.getInt(), 0xA5); // poison: unplanned reads show up
    scheduled = func->hasAttr(sizeName);
  }

  /// Offset of a planned value, or -1.
  int64_t offsetOf(Value v) const {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto fn = cast<func::FuncOp>(arg.getOwner()->getParentOp());
      if (auto a = fn.getArgAttrOfType<IntegerAttr>(
              arg.getArgNumber(), KilnDialect::getArenaAttrName()))
        return a.getInt();
      return -1;
    }
    Operation *def = v.getDefiningOp();
    auto offs =
        def->getAttrOfType<DenseI64ArrayAttr>(KilnDialect::getArenaAttrName());
    if (!offs)
      return -1;
    unsigned idx = cast<OpResult>(v).getResultNumber();
    return idx < offs.size() ? offs[idx] : -1;
  }

  LogicalResult store(Value v, Tensor t, Location loc) {
    int64_t off = scheduled ? offsetOf(v) : -1;
    if (off < 0) {
      table[v] = std::move(t);
      return success();
    }
    int64_t bytes = t.numElements() * byteWidth(t.elementType);
    if (off + bytes > (int64_t)arena.size())
      return emitError(loc) << "planned slot [" << off << ", " << off + bytes
                            << ") is outside the " << arena.size()
                            << "-byte arena";
    t.toBytes(arena.data() + off);
    return success();
  }

  FailureOr<Tensor> load(Value v, Location loc) const {
    int64_t off = scheduled ? offsetOf(v) : -1;
    if (off < 0) {
      auto it = table.find(v);
      if (it == table.end())
        return emitError(loc) << "value used before it was computed";
      return it->second;
    }
    auto type = cast<RankedTensorType>(v.getType());
    int64_t bytes = type.getNumElements() * byteWidth(type.getElementType());
    if (off + bytes > (int64_t)arena.size())
      return emitError(loc) << "planned slot is outside the arena";
    return Tensor::fromBytes(type, arena.data() + off);
  }

private:
  bool scheduled = false;
  std::vector<uint8_t> arena;
  llvm::DenseMap<Value, Tensor> table;
};

} // namespace

Signature kiln::ref::getSignature(func::FuncOp func) {
  Signature sig;
  auto nameAttr = [](DictionaryAttr attrs) {
    auto name = attrs ? attrs.getAs<StringAttr>(KilnDialect::getNameAttrName())
                      : StringAttr();
    return name ? name.str() : std::string();
  };
  if (isExplicitlyScheduled(func)) {
    for (ViewOp view : func.getBody().front().getOps<ViewOp>()) {
      auto type = cast<MemRefType>(view.getType());
      auto tensor =
          RankedTensorType::get(type.getShape(), type.getElementType());
      if (auto name = view.getInput())
        sig.inputs.push_back({name->str(), tensor, view});
      else if (auto name = view.getOutput())
        sig.outputs.push_back({name->str(), tensor, view});
    }
    return sig;
  }
  for (BlockArgument arg : func.getArguments())
    sig.inputs.push_back({nameAttr(func.getArgAttrDict(arg.getArgNumber())),
                          dyn_cast<RankedTensorType>(arg.getType()), arg});
  if (func.getBody().empty())
    return sig;
  Operation *ret = func.getBody().back().getTerminator();
  for (auto [i, v] : llvm::enumerate(ret->getOperands()))
    sig.outputs.push_back({nameAttr(func.getResultAttrDict(i)),
                           dyn_cast<RankedTensorType>(v.getType()), v});
  return sig;
}

FailureOr<std::vector<Tensor>>
kiln::ref::runFunction(func::FuncOp func, ArrayRef<Tensor> inputs,
                       StringRef weightBaseDir, State *state) {
  if (isExplicitlyScheduled(func))
    return runScheduledFunction(func, inputs, weightBaseDir, state);
  // A run without a State: a fresh, zeroed cache that lives for this run.
  State local;
  if (!state)
    state = &local;
  if (func.getNumArguments() != inputs.size())
    return func.emitError("expected ")
           << func.getNumArguments() << " inputs, got " << inputs.size();
  Frame frame(func);
  for (auto [arg, t] : llvm::zip_equal(func.getArguments(), inputs)) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (type.getShape() != ArrayRef<int64_t>(t.shape))
      return func.emitError("input #")
             << arg.getArgNumber() << " has the wrong shape";
    Tensor in = t;
    in.elementType = type.getElementType();
    if (failed(frame.store(arg, std::move(in), func.getLoc())))
      return failure();
  }
  std::vector<Tensor> results;
  for (Operation &op : func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands()) {
        auto t = frame.load(v, ret.getLoc());
        if (failed(t))
          return failure();
        results.push_back(std::move(*t));
      }
      return results;
    }
    SmallVector<Tensor> operands;
    for (Value v : op.getOperands()) {
      auto t = frame.load(v, op.getLoc());
      if (failed(t))
        return failure();
      operands.push_back(std::move(*t));
    }
    FailureOr<SmallVector<Tensor>> outs = failure();
    if (isa<WeightOp>(op)) {
      auto w = loadWeight(&op, weightBaseDir);
      if (failed(w))
        return failure();
      outs = SmallVector<Tensor>{std::move(*w)};
    } else if (isa<KvAppendOp>(op)) {
      // The one op with state: it writes the run's KV cache bytes.
      outs = evalKvAppend(&op, operands, *state);
    } else {
      outs = evalOp(&op, operands);
    }
    if (failed(outs))
      return failure();
    for (auto [v, t] : llvm::zip_equal(op.getResults(), *outs))
      if (failed(frame.store(v, std::move(t), op.getLoc())))
        return failure();
  }
  return func.emitError("function has no return");
}

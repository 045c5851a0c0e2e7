//===- MemoryPlan.cpp - arena liveness and placement of a function --------===//
//
// Implements kiln::MemoryPlan: program-order liveness over the entry block of
// a function, aliasing of views (a reshape shares its input's bytes), writes
// in place (an elementwise result takes the bytes of an operand dead after
// it, kiln::mayWriteInPlace),
// placement of every value that owns bytes (through the IR-free core in
// MemoryPlanPlacement.cpp), and reading and writing the plan as attributes.
// Shared by the planning, verification and test-print passes and by the CUDA
// emitter.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"

#include "kiln/Dialect/Kiln/IR/InPlace.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;

std::optional<int64_t> kiln::elementByteWidth(Type elementType) {
  if (!elementType.isIntOrFloat())
    return std::nullopt;
  return (elementType.getIntOrFloatBitWidth() + 7) / 8;
}

std::optional<int64_t> kiln::tensorByteSize(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  std::optional<int64_t> width = elementByteWidth(tensor.getElementType());
  std::optional<int64_t> elements = checkedNumElements(tensor.getShape());
  if (!width || !elements || *elements > kMaxElements / *width)
    return std::nullopt;
  return *elements * *width;
}

bool kiln::isWeightLike(Operation *op) {
  return isa<WeightOp, ConstantOp>(op) || isWeightConcat(op);
}

KvAppendOp kiln::getKvAppend(Operation *op) {
  if (auto append = dyn_cast<KvAppendOp>(op))
    return append;
  if (auto fusion = dyn_cast<FusionOp>(op))
    for (Operation &inner : fusion.getBody().front())
      if (auto append = dyn_cast<KvAppendOp>(inner))
        return append;
  return nullptr;
}

Value kiln::viewSource(Operation *op) {
  if (auto reshape = dyn_cast<ReshapeOp>(op))
    return reshape.getInput(); // Verified: same element type and count.
  if (auto expand = dyn_cast<ExpandOp>(op)) {
    // A broadcast that keeps the element count only adds or keeps unit dims.
    if (expand.getInput().getType().getNumElements() ==
        expand.getResult().getType().getNumElements())
      return expand.getInput();
    return nullptr;
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    // Moving unit dims only: the other dims keep their relative order, so a
    // row-major walk visits the elements in the same order.
    ArrayRef<int64_t> in = transpose.getInput().getType().getShape();
    int64_t previous = -1;
    for (int64_t p : transpose.getPerm()) {
      if (in[p] == 1)
        continue;
      if (p < previous)
        return nullptr;
      previous = p;
    }
    return transpose.getInput();
  }
  if (auto castOp = dyn_cast<CastOp>(op))
    if (castOp.getInput().getType() == castOp.getResult().getType())
      return castOp.getInput();
  return nullptr;
}

const PlannedBuffer *MemoryPlan::lookup(Value value) const {
  auto it = indexOf.find(value);
  if (it == indexOf.end())
    return nullptr;
  return &bufferList[it->second];
}

std::optional<int64_t> MemoryPlan::offsetOf(Value value) const {
  if (const PlannedBuffer *buffer = lookup(value))
    return buffer->offset;
  return std::nullopt;
}

FailureOr<MemoryPlan> MemoryPlan::computeLiveness(func::FuncOp func) {
  MemoryPlan plan;
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return func.emitOpError("needs a body of exactly one block to be planned");
  Block &block = func.getBody().front();

  // Program points: the index of each op in the entry block.
  DenseMap<Operation *, int64_t> pointOf;
  for (auto [i, op] : llvm::enumerate(block))
    pointOf[&op] = i;
  int64_t end = static_cast<int64_t>(block.getOperations().size()) - 1;

  auto lastUse = [&](Value value, int64_t def) {
    int64_t last = def;
    for (Operation *user : value.getUsers()) {
      Operation *top = block.findAncestorOpInBlock(*user);
      if (top)
        last = std::max(last, pointOf.lookup(top));
    }
    return last;
  };

  auto add = [&](Value value, int64_t first, int64_t last,
                 Location loc) -> LogicalResult {
    std::optional<int64_t> size = tensorByteSize(value.getType());
    if (!size)
      return emitError(loc) << "cannot plan a value of type " << value.getType()
                            << ": needs a static tensor of int or float "
                               "elements, at most 2^48 bytes";
    plan.indexOf[value] = plan.bufferList.size();
    plan.bufferList.push_back({value, *size, std::nullopt, first, last});
    return success();
  };

  for (BlockArgument arg : block.getArguments())
    if (failed(add(arg, 0, end, func.getLoc())))
      return failure();

  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
        Operation *def = operand.getDefiningOp();
        if (!def || isWeightLike(def))
          return op.emitOpError("returns ")
                 << (def ? "a weight or constant" : "a function argument")
                 << " directly (result #" << i
                 << "); outputs must be computed into the arena";
      }
      continue;
    }
    // Weights live in weights.bin and the KV cache in its own region: an
    // append's two results (a fused attention's result after them is
    // planned).
    if (isWeightLike(&op))
      continue;
    unsigned skip = getKvAppend(&op) ? 2 : 0;
    int64_t def = pointOf[&op];
    for (Value result : op.getResults().drop_front(skip))
      if (failed(add(result, def, lastUse(result, def), op.getLoc())))
        return failure();
  }
  return plan;
}

std::optional<unsigned> MemoryPlan::viewRoot(Value value) const {
  Operation *def = value.getDefiningOp();
  if (!def)
    return std::nullopt;
  Value source = viewSource(def);
  if (!source)
    return std::nullopt;
  auto it = indexOf.find(source);
  if (it == indexOf.end())
    return std::nullopt; // A view of a weight or constant: not in the arena.
  return rootOf(it->second);
}

std::optional<MemoryPlan::InPlaceChoice>
MemoryPlan::inPlaceOperand(unsigned index, ArrayRef<int64_t> classLast,
                           llvm::function_ref<bool(unsigned)> accept) const {
  const PlannedBuffer &buffer = bufferList[index];
  auto result = dyn_cast<OpResult>(buffer.value);
  if (!result)
    return std::nullopt;
  Operation *op = result.getOwner();
  unsigned resultNumber = result.getResultNumber();
  int64_t point = buffer.firstLive;
  auto storageOf = [&](Value v) -> std::optional<unsigned> {
    auto it = indexOf.find(v);
    if (it == indexOf.end())
      return std::nullopt;
    return rootOf(it->second);
  };
  for (auto [k, operand] : llvm::enumerate(op->getOperands())) {
    if (!mayWriteInPlace(op, resultNumber, k))
      continue;
    std::optional<unsigned> root = storageOf(operand);
    // Not an arena value (a weight or constant), an input's bytes, a
    // storage still needed after this op (the operand itself, a view of it
    // or a returned member) or of another size: no.
    if (!root || isa<BlockArgument>(bufferList[*root].value) ||
        classLast[*root] > point || bufferList[*root].size != buffer.size)
      continue;
    // Another result of the op already writes over that storage.
    if (llvm::any_of(op->getResults(), [&](Value other) {
          const PlannedBuffer &b = bufferList[indexOf.lookup(other)];
          return other != buffer.value && b.inPlaceOf == root;
        }))
      continue;
    // Another operand reads the same storage in a role that does not allow
    // it (e.g. the updates of a scatter_nd that are a view of its data).
    bool conflict = false;
    for (auto [j, other] : llvm::enumerate(op->getOperands()))
      if (j != k && storageOf(other) == root &&
          !(other == operand && mayWriteInPlace(op, resultNumber, j)))
        conflict = true;
    if (conflict || !accept(*root))
      continue;
    return InPlaceChoice{static_cast<unsigned>(k), *root};
  }
  return std::nullopt;
}

bool MemoryPlan::isAlias(Value value) const {
  const PlannedBuffer *buffer = lookup(value);
  return buffer && buffer->aliasOf;
}

bool MemoryPlan::isInPlace(Value value) const {
  const PlannedBuffer *buffer = lookup(value);
  return buffer && buffer->inPlaceOf;
}

SmallVector<unsigned> MemoryPlan::storageClasses() const {
  SmallVector<unsigned> classes;
  classes.reserve(bufferList.size());
  for (unsigned i = 0; i < bufferList.size(); ++i)
    classes.push_back(rootOf(i));
  return classes;
}

SmallVector<LiveInterval> MemoryPlan::storageIntervals() const {
  // Widen each root's interval by its aliases' and in-place results', then
  // keep the roots.
  SmallVector<LiveInterval> merged = intervals();
  for (const PlannedBuffer &buffer : bufferList) {
    std::optional<unsigned> owner = buffer.storageOwner();
    if (!owner)
      continue;
    LiveInterval &root = merged[*owner];
    root.first = std::min(root.first, buffer.firstLive);
    root.last = std::max(root.last, buffer.lastLive);
  }
  SmallVector<LiveInterval> result;
  for (auto [buffer, interval] : llvm::zip_equal(bufferList, merged))
    if (!buffer.storageOwner())
      result.push_back(interval);
  return result;
}

SmallVector<LiveInterval> MemoryPlan::intervals() const {
  SmallVector<LiveInterval> result;
  result.reserve(bufferList.size());
  for (const PlannedBuffer &buffer : bufferList)
    result.push_back({buffer.size, buffer.firstLive, buffer.lastLive});
  return result;
}

FailureOr<MemoryPlan> MemoryPlan::compute(func::FuncOp func,
                                          int64_t alignment) {
  MemoryPlanOptions options;
  options.alignment = alignment;
  return compute(func, options);
}

FailureOr<MemoryPlan> MemoryPlan::compute(func::FuncOp func,
                                          const MemoryPlanOptions &options) {
  FailureOr<MemoryPlan> plan = computeLiveness(func);
  if (failed(plan))
    return failure();

  // Aliases, in program order so that a view's operand is settled first
  // (chains end at their root). Inputs and outputs must not share bytes (the
  // runtime copies inputs in and outputs out around a step and checks the
  // manifest for that): a returned view that would join an argument's or
  // another output's bytes stays a copy.
  DenseSet<Value> returned;
  Operation *terminator = func.getBody().front().getTerminator();
  for (Value v : terminator->getOperands())
    returned.insert(v);
  // Writes in place come in the same walk: a result not aliased takes the
  // storage of a dead operand when its kernel allows it (inPlaceOperand);
  // `classLast` is the last live point of each storage so far.
  DenseSet<unsigned> rootHasArgument, rootHasOutput;
  SmallVector<int64_t> classLast(plan->bufferList.size(), 0);
  for (unsigned i = 0; i < plan->bufferList.size(); ++i) {
    PlannedBuffer &buffer = plan->bufferList[i];
    bool isOutput = returned.contains(buffer.value);
    std::optional<unsigned> root = plan->viewRoot(buffer.value);
    if (root && isOutput &&
        (rootHasArgument.contains(*root) || rootHasOutput.contains(*root)))
      root.reset();
    if (root) {
      buffer.aliasOf = *root;
    } else if (options.inPlace) {
      if (std::optional<InPlaceChoice> choice = plan->inPlaceOperand(
              i, classLast, [](unsigned) { return true; }))
        plan->setInPlace(i, *choice);
    }
    unsigned owner = plan->rootOf(i);
    classLast[owner] = owner == i ? buffer.lastLive
                                  : std::max(classLast[owner], buffer.lastLive);
    if (isa<BlockArgument>(buffer.value))
      rootHasArgument.insert(owner);
    if (isOutput)
      rootHasOutput.insert(owner);
  }

  Placement placement =
      placeIntervalsBest(plan->storageIntervals(), options.alignment);
  unsigned next = 0;
  for (PlannedBuffer &buffer : plan->bufferList)
    if (!buffer.storageOwner())
      buffer.offset = placement.offsets[next++];
  for (PlannedBuffer &buffer : plan->bufferList)
    if (std::optional<unsigned> owner = buffer.storageOwner())
      buffer.offset = plan->bufferList[*owner].offset;
  plan->arenaSize = placement.arenaBytes;
  plan->placedBy = placement.strategy;
  return plan;
}

FailureOr<MemoryPlan> MemoryPlan::fromAttributes(func::FuncOp func) {
  FailureOr<MemoryPlan> plan = computeLiveness(func);
  if (failed(plan))
    return failure();
  if (Attribute attr = func->getAttr(kArenaBytesAttrName)) {
    auto bytes = dyn_cast<IntegerAttr>(attr);
    if (!bytes)
      return func.emitOpError() << kArenaBytesAttrName
                                << " must be an integer attribute";
    plan->arenaSize = bytes.getInt();
  }
  for (PlannedBuffer &buffer : plan->bufferList) {
    if (auto arg = dyn_cast<BlockArgument>(buffer.value)) {
      Attribute attr = func.getArgAttr(arg.getArgNumber(), kArenaAttrName);
      if (!attr)
        continue;
      auto offset = dyn_cast<IntegerAttr>(attr);
      if (!offset)
        return func.emitOpError("argument #")
               << arg.getArgNumber() << " has a " << kArenaAttrName
               << " that is not an integer";
      buffer.offset = offset.getInt();
      continue;
    }
    auto result = cast<OpResult>(buffer.value);
    Operation *op = result.getOwner();
    Attribute attr = op->getAttr(kArenaAttrName);
    if (!attr)
      continue;
    auto offsets = dyn_cast<DenseI64ArrayAttr>(attr);
    if (!offsets || offsets.size() != static_cast<int64_t>(op->getNumResults()))
      return op->emitOpError() << kArenaAttrName << " must be an array<i64> "
                               << "with one offset per result ("
                               << op->getNumResults() << ")";
    buffer.offset = offsets[result.getResultNumber()];
  }
  // A view at its operand's offset is an alias, and a result at an operand's
  // offset that compute() could have written in place is in place: stated by
  // the op kinds, operands and offsets alone, settled in program order as
  // compute() settles them.
  SmallVector<int64_t> classLast(plan->bufferList.size(), 0);
  for (unsigned i = 0; i < plan->bufferList.size(); ++i) {
    PlannedBuffer &buffer = plan->bufferList[i];
    if (buffer.offset) {
      std::optional<unsigned> root = plan->viewRoot(buffer.value);
      const PlannedBuffer *owner = root ? &plan->bufferList[*root] : nullptr;
      if (owner && owner->offset == buffer.offset &&
          owner->size == buffer.size) {
        buffer.aliasOf = *root;
      } else if (std::optional<InPlaceChoice> choice = plan->inPlaceOperand(
                     i, classLast, [&](unsigned root) {
                       return plan->bufferList[root].offset == buffer.offset;
                     })) {
        plan->setInPlace(i, *choice);
      }
    }
    unsigned owner = plan->rootOf(i);
    classLast[owner] = owner == i ? buffer.lastLive
                                  : std::max(classLast[owner], buffer.lastLive);
  }
  return plan;
}

void MemoryPlan::apply(func::FuncOp func) const {
  Builder b(func.getContext());
  DenseMap<Operation *, SmallVector<int64_t>> perOp;
  for (const PlannedBuffer &buffer : bufferList) {
    if (auto arg = dyn_cast<BlockArgument>(buffer.value)) {
      func.setArgAttr(arg.getArgNumber(), kArenaAttrName,
                      b.getI64IntegerAttr(*buffer.offset));
      continue;
    }
    auto result = cast<OpResult>(buffer.value);
    SmallVector<int64_t> &offsets = perOp[result.getOwner()];
    offsets.resize(result.getOwner()->getNumResults(), 0);
    offsets[result.getResultNumber()] = *buffer.offset;
  }
  // Weights and constants live in weights.bin: drop any stale offset.
  for (Operation &op : func.getBody().front())
    if (isWeightLike(&op))
      op.removeAttr(kArenaAttrName);
  for (auto &[op, offsets] : perOp)
    op->setAttr(kArenaAttrName, b.getDenseI64ArrayAttr(offsets));
  func->setAttr(kArenaBytesAttrName, b.getI64IntegerAttr(arenaSize.value_or(0)));
}

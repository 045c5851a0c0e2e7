//===- KilnScheduledOps.cpp - the scheduled level's ops -------------------===//
//
// Verifiers, assembly and memory effects of the scheduled level
// (docs/scheduled-ir.md): the regions (kiln.arena, kiln.weights), buffers
// (kiln.view), kernels (kiln.kernel), launches (kiln.launch) and the
// captured step (kiln.graph), whose region verifier is the capture-safety
// and memory-plan check. Every diagnostic is located at the op it is about.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/InPlace.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/IR/WeightFile.h"

#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;

/// The alignment of every root buffer (docs/memory-plan.md).
static constexpr int64_t kRootAlignment = 256;

std::optional<int64_t> kiln::shapedByteSize(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape() ||
      !shaped.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t width = (shaped.getElementType().getIntOrFloatBitWidth() + 7) / 8;
  std::optional<int64_t> elements = checkedNumElements(shaped.getShape());
  if (!elements || *elements > kMaxElements / width)
    return std::nullopt;
  return *elements * width;
}

//===----------------------------------------------------------------------===//
// kiln.arena, kiln.weights
//===----------------------------------------------------------------------===//

static LogicalResult verifyRegionDecl(Operation *op) {
  if (isa<GraphOp>(op->getParentOp()))
    return success(); // kiln.graph refuses it as an allocation.
  auto func = op->getParentOfType<FunctionOpInterface>();
  if (!func || op->getParentOp() != func.getOperation())
    return op->emitOpError("must be at the top level of a function");
  for (Operation &other : op->getBlock()->getOperations())
    if (&other != op && other.getName() == op->getName())
      return op->emitOpError("is declared twice in one function");
  return success();
}

LogicalResult ArenaOp::verify() { return verifyRegionDecl(*this); }
LogicalResult WeightsOp::verify() { return verifyRegionDecl(*this); }
LogicalResult KvRegionOp::verify() { return verifyRegionDecl(*this); }

//===----------------------------------------------------------------------===//
// kiln.view
//===----------------------------------------------------------------------===//

bool ViewOp::isRoot() {
  return isa_and_present<ArenaOp, WeightsOp, KvRegionOp>(
      getBase().getDefiningOp());
}

ViewOp ViewOp::getRoot() {
  ViewOp view = *this;
  while (auto parent = view.getBase().getDefiningOp<ViewOp>())
    view = parent;
  return view;
}

int64_t ViewOp::getRegionOffset() {
  int64_t offset = getOffset();
  for (ViewOp v = *this; auto parent = v.getBase().getDefiningOp<ViewOp>();
       v = parent)
    offset += parent.getOffset();
  return offset;
}

Operation *ViewOp::getRegion() {
  Operation *base = getRoot().getBase().getDefiningOp();
  return isa_and_present<ArenaOp, WeightsOp, KvRegionOp>(base) ? base
                                                               : nullptr;
}

LogicalResult ViewOp::verify() {
  Operation *base = getBase().getDefiningOp();
  if (!isa_and_present<ArenaOp, WeightsOp, KvRegionOp, ViewOp>(base))
    return emitOpError("base must be a kiln.arena, a kiln.weights, a "
                       "kiln.kv_region or a kiln.view (a buffer whose "
                       "address is fixed), got ")
           << (base ? base->getName().getStringRef() : StringRef("a block "
                                                                 "argument"));
  std::optional<int64_t> bytes = shapedByteSize(getType());
  std::optional<int64_t> baseBytes = shapedByteSize(getBase().getType());
  if (!bytes || !baseBytes)
    return emitOpError("buffer is too large");
  int64_t offset = getOffset();
  if (offset > *baseBytes || *bytes > *baseBytes - offset)
    return emitOpError("bytes [")
           << offset << ", " << offset + *bytes << ") are outside its base of "
           << *baseBytes << " bytes";
  bool root = isRoot();
  bool weights = isa<WeightsOp>(base);
  // KV cache blocks are laid out back to back (docs/kv-cache.md): a root
  // there is aligned to its element, not to a planned buffer's 256 bytes.
  int64_t alignment = root && isa<KvRegionOp>(base)
                          ? std::max<int64_t>(
                                1, getType().getElementTypeBitWidth() / 8)
                          : kRootAlignment;
  if (root && offset % alignment != 0)
    return emitOpError("offset ")
           << offset << " is not a multiple of " << alignment;
  if (getInput() && !(root && isa<ArenaOp>(base)))
    return emitOpError("binds a step input but is not a root view of the "
                       "arena");
  if (getOutput() && !isa_and_present<ArenaOp>(getRegion()))
    return emitOpError("binds a step output but is not a view of the arena");
  if (getInput() && getOutput())
    return emitOpError("is both a step input and a step output");
  if (Value init = getInit()) {
    if (!(root && weights))
      return emitOpError(
          "has init but is not a root view of the weights region");
    Operation *source = init.getDefiningOp();
    if (!isa_and_present<WeightOp, ConstantOp>(source) &&
        !isWeightConcat(source))
      return emitOpError("init must be a kiln.weight, a kiln.constant or a "
                         "kiln.concat of rank-2 kiln.weights on axis 0 (a "
                         "weight concatenation, marked ")
             << kWeightConcatAttrName << ", its parts stored back to back)";
    auto t = cast<RankedTensorType>(init.getType());
    if (t.getShape() != getType().getShape() ||
        t.getElementType() != getType().getElementType())
      return emitOpError("init type ")
             << t << " does not match the buffer " << getType();
  } else if (root && weights) {
    return emitOpError("is a root view of the weights region without init "
                       "(its contents)");
  }
  return success();
}

void ViewOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // A root is one buffer of the plan (a static allocation out of its
  // region); an alias only renames bytes.
  if (isRoot())
    effects.emplace_back(MemoryEffects::Allocate::get(),
                         getOperation()->getOpResult(0),
                         BufferResource::get());
}

//===----------------------------------------------------------------------===//
// kiln.kernel
//===----------------------------------------------------------------------===//

ParseResult KernelOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildType = [](Builder &b, ArrayRef<Type> args, ArrayRef<Type> results,
                      function_interface_impl::VariadicFlag,
                      std::string &) { return b.getFunctionType(args, results); };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false,
      getFunctionTypeAttrName(result.name), buildType,
      getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void KernelOp::print(OpAsmPrinter &p) {
  function_interface_impl::printFunctionOp(
      p, *this, /*isVariadic=*/false, getFunctionTypeAttrName(),
      getArgAttrsAttrName(), getResAttrsAttrName());
}

YieldOp KernelOp::getYield() { return yieldOf(getBody()); }

LogicalResult KernelOp::verifyRegions() {
  if (getBody().empty())
    return emitOpError("has no body");
  Block &body = getBody().front();
  FunctionType type = getFunctionType();
  if (body.getArgumentTypes() != type.getInputs())
    return emitOpError("block argument types do not match the kernel's "
                       "argument types");
  for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults()))
    if (!isa<RankedTensorType>(t) || !cast<ShapedType>(t).hasStaticShape())
      return emitOpError("arguments and results must be statically shaped "
                         "tensors, got ")
             << t;
  for (Operation &op : body) {
    if (isa<YieldOp>(op))
      continue;
    if (!isa_and_present<KilnDialect>(op.getDialect()))
      return emitOpError("body op '")
             << op.getName() << "' is not a graph-level kiln op";
    if (isa<FusionOp, GemmOp, KernelOp, LaunchOp, GraphOp, ViewOp, ArenaOp,
            WeightsOp, WeightOp>(op))
      return emitOpError("body holds '")
             << op.getName() << "', which is not a graph-level compute op";
  }
  YieldOp yield = getYield();
  if (!yield)
    return emitOpError("body must end in kiln.yield");
  if (TypeRange(yield.getValues().getTypes()) != TypeRange(type.getResults()))
    return emitOpError("yields ")
           << yield.getValues().getTypes() << " but its results are "
           << type.getResults();
  if (type.getNumResults() == 0)
    return emitOpError("has no results: a kernel must write a buffer");
  return success();
}

//===----------------------------------------------------------------------===//
// kiln.launch
//===----------------------------------------------------------------------===//

LogicalResult LaunchOp::verify() {
  for (auto [what, dims] : {std::pair<StringRef, ArrayRef<int64_t>>{
                                "grid", getGrid()},
                            {"block", getBlock()}}) {
    if (dims.size() != 3)
      return emitOpError() << what << " must have 3 dims, got " << dims.size();
    for (int64_t d : dims)
      if (d < 1 || d > std::numeric_limits<int32_t>::max())
        return emitOpError() << what << " dims must be in [1, 2^31), got "
                             << d;
  }
  ArrayRef<int64_t> block = getBlock();
  if (block[0] * block[1] * block[2] > 1024)
    return emitOpError("block has ")
           << block[0] * block[1] * block[2]
           << " threads; a CUDA block has at most 1024";
  if (getGrid()[1] > 65535 || getGrid()[2] > 65535)
    return emitOpError("grid y and z must be at most 65535");
  if (getOutputs().empty())
    return emitOpError("writes no buffer");
  // Prefetch: one byte count per buffer, each in (0, the buffer's bytes].
  std::optional<ArrayRef<int64_t>> bytes = getPrefetchBytes();
  size_t counts = bytes ? bytes->size() : 0;
  if (counts != getPrefetch().size())
    return emitOpError("prefetches ")
           << getPrefetch().size() << " buffers with " << counts
           << " byte counts; it needs one per buffer";
  for (auto [i, v] : llvm::enumerate(getPrefetch())) {
    auto type = cast<MemRefType>(v.getType());
    int64_t size = type.hasStaticShape()
                       ? type.getNumElements() *
                             ((type.getElementTypeBitWidth() + 7) / 8)
                       : -1;
    int64_t b = (*bytes)[i];
    if (b <= 0 || (size >= 0 && b > size))
      return emitOpError("prefetch #")
             << i << " asks for " << b << " bytes of a " << size
             << "-byte buffer; it needs 1 to " << size;
  }
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbols) {
  auto kernel =
      symbols.lookupNearestSymbolFrom<KernelOp>(*this, getKernelAttr());
  if (!kernel)
    return emitOpError("'") << getKernel() << "' is not a kiln.kernel";
  FunctionType type = kernel.getFunctionType();
  auto check = [&](StringRef what, ValueRange buffers,
                   ArrayRef<Type> expected) -> LogicalResult {
    if (buffers.size() != expected.size())
      return emitOpError("has ")
             << buffers.size() << " " << what << " but @" << getKernel()
             << " takes " << expected.size();
    for (auto [i, v, t] : llvm::enumerate(buffers, expected)) {
      auto buffer = cast<MemRefType>(v.getType());
      auto tensor = cast<ShapedType>(t);
      if (buffer.getShape() != tensor.getShape() ||
          buffer.getElementType() != tensor.getElementType())
        return emitOpError()
               << what << " #" << i << " is " << buffer << " but @"
               << getKernel() << " expects " << tensor;
    }
    return success();
  };
  if (failed(check("ins", getInputs(), type.getInputs())) ||
      failed(check("outs", getOutputs(), type.getResults())))
    return failure();
  return success();
}

void LaunchOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getInputsMutable())
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         BufferResource::get());
  for (OpOperand &operand : getOutputsMutable())
    effects.emplace_back(MemoryEffects::Write::get(), &operand,
                         BufferResource::get());
}

//===----------------------------------------------------------------------===//
// kiln.graph: capture safety and the memory plan
//===----------------------------------------------------------------------===//

namespace {

/// What the plan check knows of one root buffer.
struct RootInfo {
  ViewOp root;
  Operation *region = nullptr;
  int64_t offset = 0, bytes = 0;
  /// Program points: 0 is before the first launch, N + 1 after the last.
  int64_t def = -1, lastUse = -1;
  /// The launch that wrote it (null for inputs and weights).
  Operation *writer = nullptr;
};

} // namespace

/// The root view behind a buffer operand of `user`, or a located error.
static FailureOr<ViewOp> rootOf(Operation *user, unsigned index, Value v) {
  auto view = v.getDefiningOp<ViewOp>();
  if (!view)
    return user->emitOpError("buffer operand #")
           << index
           << " is not a kiln.view, so its address is not fixed for the "
              "artifact's life";
  if (!view.getRegion())
    return user->emitOpError("buffer operand #")
           << index << " is not rooted at the arena or the weights";
  return view.getRoot();
}

LogicalResult GraphOp::verifyRegions() {
  auto func = (*this)->getParentOfType<FunctionOpInterface>();
  if (!func || (*this)->getParentOp() != func.getOperation())
    return emitOpError("must be at the top level of a function");

  // Capture safety: only launches, buffer-form gemms and views.
  SmallVector<Operation *> launches;
  for (Operation &op : getBody().front()) {
    if (isa<ViewOp>(op)) {
      if (cast<ViewOp>(op).isRoot())
        return op.emitOpError("declares a root buffer inside kiln.graph; "
                              "root views are declared before the graph");
      continue;
    }
    if (auto gemm = dyn_cast<GemmOp>(op)) {
      if (!gemm.hasBufferSemantics())
        return op.emitOpError("inside kiln.graph must be the buffer form "
                              "(outs), not a tensor op");
      launches.push_back(&op);
      continue;
    }
    if (isa<LaunchOp>(op)) {
      launches.push_back(&op);
      continue;
    }
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (effects && (effects.hasEffect<MemoryEffects::Allocate>() ||
                    effects.hasEffect<MemoryEffects::Free>()))
      return op.emitOpError("allocates or frees memory inside kiln.graph; "
                            "a captured CUDA graph replays fixed addresses");
    return op.emitOpError("cannot be captured into a CUDA graph: a "
                          "kiln.graph holds only kiln.launch, kiln.gemm "
                          "(buffer form) and kiln.view (no host work, "
                          "synchronisation, host read or data-dependent "
                          "shape)");
  }

  // Roots: inputs and weights are defined before the first launch, outputs
  // live after the last one.
  int64_t end = static_cast<int64_t>(launches.size()) + 1;
  llvm::MapVector<Operation *, RootInfo> roots;
  auto infoFor = [&](ViewOp root) -> RootInfo & {
    auto [it, inserted] = roots.try_emplace(root.getOperation());
    RootInfo &info = it->second;
    if (inserted) {
      info.root = root;
      info.region = root.getRegion();
      info.offset = root.getOffset();
      info.bytes = *shapedByteSize(root.getType());
      if (root.getInput() || isa<WeightsOp, KvRegionOp>(info.region))
        info.def = 0;
      // The KV cache persists across steps: live for the whole step.
      if (isa<KvRegionOp>(info.region))
        info.lastUse = end;
    }
    return info;
  };
  // Every view of the function: roots are known, and an output (a root or
  // an alias of one) keeps its root live to the end.
  WalkResult walk = func->walk([&](ViewOp view) {
    if (!view.getRegion())
      return WalkResult::advance(); // The view's verifier reports it.
    RootInfo &info = infoFor(view.getRoot());
    if (view.getOutput())
      info.lastUse = end;
    return WalkResult::advance();
  });
  (void)walk;

  // A weight concatenation's root view (init = a kiln.concat of weights)
  // spans its parts' root views, back to back from its own offset in
  // operand order, each of the part's type and with the part's weight as
  // init: the bytes it reads are then what the IR says it concatenates.
  // Those views overlap it by construction (kiln-schedule); no others may.
  llvm::DenseSet<std::pair<Operation *, Operation *>> concatParts;
  for (auto &entry : roots) {
    RootInfo &info = entry.second;
    Value init = info.root.getInit();
    auto concat = init ? init.getDefiningOp<ConcatOp>() : ConcatOp();
    if (!concat || !isa<WeightsOp>(info.region))
      continue;
    int64_t offset = info.offset;
    for (auto [i, part] : llvm::enumerate(concat.getInputs())) {
      auto weight = part.getDefiningOp<WeightOp>();
      auto type = cast<RankedTensorType>(part.getType());
      RootInfo *found = nullptr;
      for (auto &other : roots) {
        RootInfo &o = other.second;
        Value oi = o.root.getInit();
        auto ow = oi ? oi.getDefiningOp<WeightOp>() : WeightOp();
        if (o.region == info.region && o.offset == offset && ow && weight &&
            weightKey(ow) == weightKey(weight)) {
          found = &o;
          break;
        }
      }
      if (!found)
        return info.root.emitOpError("views a weight concatenation whose "
                                     "part #")
               << i << " (" << type << ") has no root view of that weight "
               << "at byte " << offset
               << " of the weights region: the parts must be stored back to "
                  "back from the concatenation's offset, in operand order";
      concatParts.insert(
          {info.root.getOperation(), found->root.getOperation()});
      offset += found->bytes;
    }
  }

  for (auto [index, op] : llvm::enumerate(launches)) {
    int64_t point = static_cast<int64_t>(index) + 1;
    SmallVector<Value> ins, outs;
    if (auto launch = dyn_cast<LaunchOp>(op)) {
      ins.assign(launch.getInputs().begin(), launch.getInputs().end());
      outs.assign(launch.getOutputs().begin(), launch.getOutputs().end());
    } else {
      auto gemm = cast<GemmOp>(op);
      for (Value v : {gemm.getA(), gemm.getB(), gemm.getBias(),
                      gemm.getResidual()})
        if (v)
          ins.push_back(v);
      outs.push_back(gemm.getOut());
    }
    SmallVector<ViewOp> inRoots;
    for (auto [i, v] : llvm::enumerate(ins)) {
      FailureOr<ViewOp> root = rootOf(op, i, v);
      if (failed(root))
        return failure();
      RootInfo &info = infoFor(*root);
      if (info.def < 0)
        return op->emitOpError("reads buffer operand #")
               << i << " (bytes [" << info.offset << ", "
               << info.offset + info.bytes
               << ") of the arena) before any launch writes it";
      info.lastUse = std::max(info.lastUse, point);
      inRoots.push_back(*root);
    }
    for (auto [j, v] : llvm::enumerate(outs)) {
      unsigned operand = ins.size() + j;
      FailureOr<ViewOp> root = rootOf(op, operand, v);
      if (failed(root))
        return failure();
      RootInfo &info = infoFor(*root);
      if (isa<WeightsOp>(info.region))
        return op->emitOpError("writes buffer operand #")
               << operand << " in the read-only weights region";
      if (root->getInput())
        return op->emitOpError("writes buffer operand #")
               << operand << ", the step input '" << *root->getInput()
               << "'";
      auto *inAt = llvm::find(inRoots, *root);
      if (isa<KvRegionOp>(info.region)) {
        // The cache is updated in place by kiln.kv_append kernels only.
        auto launch = dyn_cast<LaunchOp>(op);
        auto kernel = launch ? SymbolTable::lookupNearestSymbolFrom<KernelOp>(
                                   launch, launch.getKernelAttr())
                             : KernelOp();
        bool appends = false;
        if (kernel)
          kernel.walk([&](KvAppendOp) { appends = true; });
        if (!appends)
          return op->emitOpError("writes buffer operand #")
                 << operand
                 << " in the KV cache region, which only kiln.kv_append "
                    "kernels update";
      } else if (inAt != inRoots.end()) {
        // An in-place update: the kernel must allow it, on the same bytes.
        unsigned arg = inAt - inRoots.begin();
        Value in = ins[arg];
        bool sameBytes =
            in.getDefiningOp<ViewOp>().getRegionOffset() ==
                v.getDefiningOp<ViewOp>().getRegionOffset() &&
            in.getType() == v.getType();
        bool allowed = false;
        if (auto launch = dyn_cast<LaunchOp>(op)) {
          auto kernel = SymbolTable::lookupNearestSymbolFrom<KernelOp>(
              launch, launch.getKernelAttr());
          allowed = kernel && kernelMayWriteInPlace(kernel.getBody(), j, arg);
        } else {
          // cuBLASLt may write D over C (the residual) in place.
          auto gemm = cast<GemmOp>(op);
          allowed = gemm.getResidual() && in == gemm.getResidual();
        }
        if (!allowed || !sameBytes)
          return op->emitOpError("writes buffer operand #")
                 << operand << " over its input #" << arg
                 << ", which this kernel may not update in place";
      } else if (info.writer || info.def >= 0) {
        return op->emitOpError("writes buffer operand #")
               << operand << " (bytes [" << info.offset << ", "
               << info.offset + info.bytes
               << ")), which an earlier launch already wrote";
      }
      info.writer = op;
      if (info.def < 0)
        info.def = point;
      info.lastUse = std::max(info.lastUse, point);
    }
  }

  // No two roots of one region whose bytes overlap are live at once.
  SmallVector<RootInfo *> sorted;
  for (auto &entry : roots) {
    RootInfo &info = entry.second;
    if (info.def < 0)
      continue; // Declared but never written or read: holds nothing.
    info.lastUse = std::max(info.lastUse, info.def);
    sorted.push_back(&info);
  }
  llvm::stable_sort(sorted, [](RootInfo *a, RootInfo *b) {
    return std::make_pair(a->region->isBeforeInBlock(b->region) ? 0 : 1,
                          a->offset) <
           std::make_pair(b->region->isBeforeInBlock(a->region) ? 0 : 1,
                          b->offset);
  });
  for (auto [i, a] : llvm::enumerate(sorted))
    for (RootInfo *b : llvm::drop_begin(sorted, i + 1)) {
      if (b->offset >= a->offset + a->bytes)
        break;
      if (a->region != b->region)
        break;
      if (b->bytes == 0 || a->bytes == 0)
        continue;
      // A weight concatenation's view spans its parts' views (checked
      // above): the same read-only bytes.
      Operation *ra = a->root.getOperation(), *rb = b->root.getOperation();
      if (concatParts.contains({ra, rb}) || concatParts.contains({rb, ra}))
        continue;
      if (a->def <= b->lastUse && b->def <= a->lastUse) {
        InFlightDiagnostic diag = b->root.emitOpError("bytes [")
                                  << b->offset << ", " << b->offset + b->bytes
                                  << ") overlap bytes [" << a->offset << ", "
                                  << a->offset + a->bytes
                                  << ") of another buffer live at the same "
                                     "time (live ["
                                  << b->def << ", " << b->lastUse
                                  << "] and [" << a->def << ", " << a->lastUse
                                  << "])";
        diag.attachNote(a->root.getLoc()) << "the other buffer";
        return diag;
      }
    }
  return success();
}

//===- EmitFused.cpp - CUDA for fused elementwise kernels -----------------===//
//
// A kiln.kernel whose body is several elementwise ops (kiln-form-fusions'
// groups) becomes one grid-stride loop over the shape every op and every
// yielded value has; a kernel that kiln-merge-siblings' independent rule
// made of launches of several shapes becomes one such loop per shape of
// its yielded values, one after another, each computing the ops its values
// need (an op two loops need is computed in both; such a kernel writes
// nothing in place, kernelMayWriteInPlace). Per element i, each thread
// loads element i of every argument it reads (broadcast arguments through
// their index maps, as single-op kernels do), computes each body op in
// order into a local scalar with the expression the single-op kernel uses
// (scalarMapExpr), converted to the op's element type exactly as a
// single-op kernel stores it, and stores the yielded values last. A gather
// of two of the kernel's arguments (data and indices) is a leaf: element i
// of it is read from the data at the index read for i's coordinates; a
// slice of an argument likewise reads the argument at starts + coordinates
// x steps. So an input the planner lets an output overwrite
// (kernelMayWriteInPlace) is read before any store of the thread.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/LaunchConfig.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

llvm::SmallPtrSet<Operation *, 16>
kiln::codegen::opsYieldsNeed(Block &body, ArrayRef<unsigned> yields,
                             llvm::function_ref<bool(Operation *)> stop) {
  llvm::SmallPtrSet<Operation *, 16> needed;
  SmallVector<Value> work;
  for (unsigned y : yields)
    work.push_back(body.getTerminator()->getOperand(y));
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || !needed.insert(def).second)
      continue;
    if (!stop || !stop(def))
      work.append(def->operand_begin(), def->operand_end());
  }
  return needed;
}

LogicalResult kiln::codegen::emitScalarOps(
    EmitContext &ctx, Block &body, llvm::function_ref<bool(Operation *)> include,
    ArrayRef<int64_t> shape, StringRef indent, Operation *anchor,
    DenseMap<Value, std::string> &names, bool &coords, raw_ostream &os,
    llvm::function_ref<bool(Value)> stores) {
  Operation *terminator = body.getTerminator();
  for (BlockArgument arg : body.getArguments()) {
    bool read = llvm::any_of(arg.getUsers(), [&](Operation *user) {
      if (user == terminator)
        return !stores || stores(arg);
      return include(user) && !isa<GatherOp, SliceOp>(user);
    });
    if (!read)
      continue;
    FailureOr<std::string> type = ctx.typeOf(arg, anchor);
    if (failed(type))
      return failure();
    std::string name = "a" + std::to_string(arg.getArgNumber());
    os << indent << "const " << *type << " " << name << " = in"
       << arg.getArgNumber() << "["
       << broadcastIndex(shapeOf(arg), shape, "i", "c", coords) << "];\n";
    names[arg] = name;
  }
  for (auto [j, op] : llvm::enumerate(body.without_terminator())) {
    if (!include(&op))
      continue;
    if (auto gather = dyn_cast<GatherOp>(op)) {
      // Element i of the gather (the loop's shape): data[..., idx, ...]
      // with idx read at i's index coordinates; negative indices count
      // from the end, out-of-range ones read zero (kiln::gather's rule).
      auto data = dyn_cast<BlockArgument>(gather.getData());
      auto indices = dyn_cast<BlockArgument>(gather.getIndices());
      ArrayRef<int64_t> result = shapeOf(gather.getResult());
      if (!data || !indices || result != shape)
        return gather.emitOpError("in a fused kernel reads its data and "
                                  "indices from the kernel's arguments and "
                                  "has the loop's shape");
      FailureOr<std::string> type = ctx.typeOf(gather.getResult(), &op);
      if (failed(type))
        return failure();
      ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(indices);
      int64_t axis = gather.getAxis() < 0 ? gather.getAxis() + ds.size()
                                          : gather.getAxis();
      int64_t q = is.size();
      SmallVector<int64_t> dStrides = rowMajorStrides(ds);
      SmallVector<int64_t> iStrides = rowMajorStrides(is);
      std::string idx = "0", offset = "0";
      for (int64_t t = 0; t < q; ++t)
        idx += " + c" + std::to_string(axis + t) + " * " +
               std::to_string(iStrides[t]);
      for (int64_t d = 0; d < axis; ++d)
        offset += " + c" + std::to_string(d) + " * " +
                  std::to_string(dStrides[d]);
      for (int64_t d = axis + 1; d < (int64_t)ds.size(); ++d)
        offset += " + c" + std::to_string(d - 1 + q) + " * " +
                  std::to_string(dStrides[d]);
      coords = true;
      std::string g = "g" + std::to_string(j), name = "v" + std::to_string(j);
      os << indent << "int64_t " << g << " = (int64_t)in"
         << indices.getArgNumber() << "[" << idx << "];\n"
         << indent << "if (" << g << " < 0) " << g << " += " << ds[axis]
         << ";\n"
         << indent << "const " << *type << " " << name << " = (" << g
         << " >= 0 && " << g << " < " << ds[axis] << ") ? in"
         << data.getArgNumber() << "[" << offset << " + " << g << " * "
         << dStrides[axis] << "] : (" << *type << ")(0.0f);\n";
      names[gather.getResult()] = name;
      continue;
    }
    if (auto slice = dyn_cast<SliceOp>(op)) {
      // Element i of the slice (the loop's shape): the argument's element
      // at starts + coordinates x steps (kiln-merge-gemms' columns of a
      // merged gemm's result).
      auto data = dyn_cast<BlockArgument>(slice.getInput());
      ArrayRef<int64_t> result = shapeOf(slice.getResult());
      if (!data || result != shape)
        return slice.emitOpError("in a fused kernel reads a kernel argument "
                                 "and has the loop's shape");
      FailureOr<std::string> type = ctx.typeOf(slice.getResult(), &op);
      if (failed(type))
        return failure();
      SmallVector<int64_t> strides = rowMajorStrides(shapeOf(data));
      ArrayRef<int64_t> starts = slice.getStarts(), steps = slice.getSteps();
      std::string index = "0";
      for (size_t d = 0; d < strides.size(); ++d)
        index += " + (" + std::to_string(starts[d]) + " + c" +
                 std::to_string(d) + " * " + std::to_string(steps[d]) +
                 ") * " + std::to_string(strides[d]);
      coords = true;
      std::string name = "v" + std::to_string(j);
      os << indent << "const " << *type << " " << name << " = in"
         << data.getArgNumber() << "[" << index << "];\n";
      names[slice.getResult()] = name;
      continue;
    }
    SmallVector<std::string> in;
    for (Value v : op.getOperands())
      in.push_back(names.lookup(v));
    FailureOr<std::string> expr = scalarMapExpr(&op, in);
    if (failed(expr))
      return failure();
    FailureOr<std::string> type = ctx.typeOf(op.getResult(0), &op);
    if (failed(type))
      return failure();
    std::string name = "v" + std::to_string(j);
    os << indent << "const " << *type << " " << name << " = (" << *type
       << ")(" << *expr << ");\n";
    names[op.getResult(0)] = name;
  }
  return success();
}

LogicalResult kiln::codegen::emitFusedKernel(EmitContext &ctx, Block &body) {
  if (std::optional<LogicalResult> gemv = emitGemvKernel(ctx, body))
    return *gemv;
  if (std::optional<LogicalResult> attention = emitKvAttentionKernel(ctx, body))
    return *attention;
  if (std::optional<LogicalResult> ropeAppend = emitRopeAppendKernel(ctx, body))
    return *ropeAppend;
  Operation *terminator = body.getTerminator();
  Operation *root = terminator->getPrevNode();
  if (!root || terminator->getNumOperands() == 0)
    return terminator->emitOpError("ends a fused kernel that computes nothing");

  // One loop per shape of the yielded values, in order of first appearance
  // (kiln-merge-siblings' independent rule merges kernels of several
  // shapes; otherwise there is one): each computes the ops its yields need.
  struct Loop {
    SmallVector<int64_t> shape;
    SmallVector<unsigned> yields;
    llvm::SmallPtrSet<Operation *, 16> ops;
  };
  SmallVector<Loop, 2> loops;
  for (auto [k, v] : llvm::enumerate(terminator->getOperands())) {
    ArrayRef<int64_t> s = shapeOf(v);
    auto it = llvm::find_if(
        loops, [&](const Loop &l) { return ArrayRef<int64_t>(l.shape) == s; });
    if (it == loops.end()) {
      loops.emplace_back();
      loops.back().shape.assign(s.begin(), s.end());
      it = std::prev(loops.end());
    }
    it->yields.push_back(k);
  }
  for (Loop &l : loops)
    l.ops = opsYieldsNeed(body, l.yields);

  // Every op has (or broadcasts to) the shape of each loop that computes it.
  for (Operation &op : body.without_terminator()) {
    if (isa<GatherOp, SliceOp>(op))
      continue; // A leaf, checked where it is emitted (emitScalarOps).
    if (!isScalarMap(&op))
      return op.emitOpError("in fused kernel @")
             << ctx.name
             << " is not elementwise; a fused kernel holds elementwise ops "
                "only (ElementwiseOpInterface, kiln.cast, kiln.where, and "
                "gathers and slices of its arguments)";
    // An op of a smaller shape that broadcasts to the loop's (a kiln.cast
    // widening a broadcast argument, from kiln-lower-precision) is computed
    // per loop element from its operands' broadcast elements: for a scalar
    // map that is its broadcast value.
    for (const Loop &l : loops)
      if (l.ops.contains(&op) &&
          !broadcastsTo(shapeOf(op.getResult(0)), l.shape))
        return op.emitOpError("in fused kernel @")
               << ctx.name << " has shape [" << shapeOf(op.getResult(0))
               << "], which does not broadcast to the kernel's ["
               << ArrayRef<int64_t>(l.shape) << "]";
  }

  // Each loop's body: argument loads, one local per op, the stores.
  SmallVector<std::string> bodies;
  SmallVector<bool> loopCoords;
  for (const Loop &l : loops) {
    DenseMap<Value, std::string> names;
    std::string loop;
    llvm::raw_string_ostream os(loop);
    bool coords = false;
    llvm::SmallPtrSet<Value, 4> stored;
    for (unsigned k : l.yields)
      stored.insert(terminator->getOperand(k));
    if (failed(emitScalarOps(
            ctx, body, [&](Operation *op) { return l.ops.contains(op); },
            l.shape, "    ", root, names, coords, os,
            [&](Value v) { return stored.contains(v); })))
      return failure();
    for (unsigned k : l.yields)
      os << "    out" << k << "[i] = "
         << names.lookup(terminator->getOperand(k)) << ";\n";
    bodies.push_back(loop);
    loopCoords.push_back(coords);
  }

  std::string what;
  llvm::raw_string_ostream whatOs(what);
  whatOs << "fusion of";
  for (Operation &op : body.without_terminator())
    whatOs << " " << op.getName();
  SmallVector<Value> args(body.getArguments());
  SmallVector<Value> outs(terminator->getOperands());
  if (failed(ctx.beginKernel(root, args, outs, what)))
    return failure();
  llvm::raw_string_ostream &src = ctx.source();
  for (auto [l, loop] : llvm::enumerate(loops)) {
    src << "  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + "
           "threadIdx.x; i < "
        << product(loop.shape)
        << ";\n       i += (int64_t)gridDim.x * blockDim.x) {\n";
    if (loopCoords[l])
      src << "    " << decompose("i", loop.shape, "c") << "\n";
    src << bodies[l] << "  }\n";
  }
  ctx.endKernel();
  return success();
}

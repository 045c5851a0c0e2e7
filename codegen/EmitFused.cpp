//===- EmitFused.cpp - CUDA for fused elementwise kernels -----------------===//
//
// A kiln.kernel whose body is several elementwise ops (kiln-form-fusions'
// groups) becomes one grid-stride loop over the shape every op and every
// yielded value has. Per element i, each thread loads element i of every
// argument it reads (broadcast arguments through their index maps, as
// single-op kernels do), computes each body op in order into a local scalar
// with the expression the single-op kernel uses (scalarMapExpr), converted
// to the op's element type exactly as a single-op kernel stores it, and
// stores the yielded values last. So an input the planner lets an output
// overwrite (kernelMayWriteInPlace) is read before any store of the thread.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/LaunchConfig.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

LogicalResult kiln::codegen::emitScalarOps(
    EmitContext &ctx, Block &body, llvm::function_ref<bool(Operation *)> include,
    ArrayRef<int64_t> shape, StringRef indent, Operation *anchor,
    DenseMap<Value, std::string> &names, bool &coords, raw_ostream &os) {
  Operation *terminator = body.getTerminator();
  for (BlockArgument arg : body.getArguments()) {
    bool read = llvm::any_of(arg.getUsers(), [&](Operation *user) {
      return user == terminator || include(user);
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
  Operation *terminator = body.getTerminator();
  Operation *root = terminator->getPrevNode();
  if (!root || terminator->getNumOperands() == 0)
    return terminator->emitOpError("ends a fused kernel that computes nothing");
  ArrayRef<int64_t> shape = shapeOf(terminator->getOperand(0));
  int64_t n = product(shape);

  // Every op and every yielded value has the loop's shape.
  for (Operation &op : body.without_terminator()) {
    if (!isScalarMap(&op))
      return op.emitOpError("in fused kernel @")
             << ctx.name
             << " is not elementwise; a fused kernel holds elementwise ops "
                "only (ElementwiseOpInterface, kiln.cast, kiln.where)";
    // An op of a smaller shape that broadcasts to the loop's (a kiln.cast
    // widening a broadcast argument, from kiln-lower-precision) is computed
    // per loop element from its operands' broadcast elements: for a scalar
    // map that is its broadcast value.
    if (!broadcastsTo(shapeOf(op.getResult(0)), shape))
      return op.emitOpError("in fused kernel @")
             << ctx.name << " has shape [" << shapeOf(op.getResult(0))
             << "], which does not broadcast to the kernel's [" << shape
             << "]";
  }
  for (Value v : terminator->getOperands())
    if (shapeOf(v) != shape)
      return terminator->emitOpError("in fused kernel @")
             << ctx.name << " yields a value of shape [" << shapeOf(v)
             << "], not [" << shape << "]";

  // The loop body: argument loads, one local per op, the stores.
  DenseMap<Value, std::string> names;
  std::string loop;
  llvm::raw_string_ostream os(loop);
  bool coords = false;
  if (failed(emitScalarOps(
          ctx, body, [](Operation *) { return true; }, shape, "    ", root,
          names, coords, os)))
    return failure();
  for (auto [k, v] : llvm::enumerate(terminator->getOperands()))
    os << "    out" << k << "[i] = " << names.lookup(v) << ";\n";

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
  src << "  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; "
         "i < "
      << n << ";\n       i += (int64_t)gridDim.x * blockDim.x) {\n";
  if (coords)
    src << "    " << decompose("i", shape, "c") << "\n";
  src << loop << "  }\n";
  ctx.endKernel();
  return success();
}

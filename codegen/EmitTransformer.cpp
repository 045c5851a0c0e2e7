//===- EmitTransformer.cpp - CUDA for attention, rotary and the KV cache --===//
//
// kiln.attention: one block per query row, scores for every key in static
// shared memory, softmax and the weighted sum of values accumulated in
// kiln::Acc<T> (fp32 for f32); grouped-query heads, causal masking and boolean
// or additive masks (broadcast through compile-time strides). kiln.rotary: one
// thread per output element, halves or interleaved pairs. kiln.kv_append: one
// thread per new element, written at its slot of the cache blocks in place.
// kiln.kv_attention: one block per query row over the keys up to the row's
// position only, an online softmax per warp (docs/codegen.md, "KV cache").
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"
#include "kiln/Transforms/LaunchConfig.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include <algorithm>

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// Longest key sequence the simple attention kernel holds in shared memory.
static constexpr int64_t kMaxAttentionKeys = 8192;

/// The mask lambda of an attention kernel: `bias(b, h, s, t)`, the mask
/// operand `in<index>` (of `maskShape`, broadcast to `full`) as an additive
/// float (0 or -INFINITY for a boolean mask), or 0 without a mask.
static std::string maskBias(Value mask, unsigned index,
                            ArrayRef<int64_t> full) {
  if (!mask)
    return "[](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }";
  std::string at = linearExpr(broadcastStrides(shapeOf(mask), full), "c");
  std::string load = "in" + std::to_string(index) + "[" + at + "]";
  std::string value = eltOf(mask).isInteger(1)
                          ? "(" + load + " ? 0.0f : -INFINITY)"
                          : "(float)" + load;
  return "[&](int64_t c0, int64_t c1, int64_t c2, int64_t c3) -> float { "
         "(void)c0; (void)c1; (void)c2; (void)c3; return " +
         value + "; }";
}

static LogicalResult emitAttention(EmitContext &ctx, AttentionOp op) {
  ArrayRef<int64_t> qs = shapeOf(op.getQuery()), ks = shapeOf(op.getKey()),
                    vs = shapeOf(op.getValue());
  int64_t b = qs[0], hq = qs[1], s = qs[2], d = qs[3];
  int64_t hkv = ks[1], t = ks[2], dv = vs[3];
  if (t > kMaxAttentionKeys)
    return op.emitOpError("attends over ")
           << t << " keys; the CUDA attention kernel holds at most "
           << kMaxAttentionKeys;
  SmallVector<Value> inputs = {op.getQuery(), op.getKey(), op.getValue()};
  if (Value mask = op.getMask())
    inputs.push_back(mask);
  std::string bias = maskBias(op.getMask(), 3, {b, hq, s, t});
  if (failed(ctx.beginKernel(op, inputs, {op.getResult()})))
    return failure();
  ctx.source() << "  kiln::attention<" << b << ", " << hq << ", " << hkv
               << ", " << s << ", " << t << ", " << d << ", " << dv << ", "
               << (op.getCausal() ? "true" : "false") << ">(in0, in1, in2, "
               << "out0, " << floatLiteral(op.getScale().convertToFloat())
               << ",\n      " << bias << ");\n";
  ctx.endKernel();
  return success();
}

/// A rotary's table arguments of kiln::rotary, rotaryAt and the attention
/// hooks: "R, CB, Interleaved" (R twice the tables' width, or their width
/// with full_tables; CB the tables' batch dim).
static std::string rotaryTableArgs(RotaryOp r) {
  ArrayRef<int64_t> tab = shapeOf(r.getCos());
  return std::to_string(r.getFullTables() ? tab[2] : 2 * tab[2]) + ", " +
         std::to_string(tab[0]) + ", " +
         (r.getInterleaved() ? "true" : "false");
}

/// `v` as a kernel argument read in place (headSource): the argument, and
/// the pointer expression `name` offsets to its first column.
static FailureOr<HeadSource> headOperand(Operation *op, Value v) {
  std::optional<HeadSource> from = headSource(v);
  if (!from)
    return op->emitOpError("reads an operand that is neither a kernel "
                           "argument nor a head split of one");
  return *from;
}

/// `name`, offset by `from`'s first column where it is a head split.
static std::string atColumn(StringRef name, const HeadSource &from) {
  return from.offset ? "(" + name.str() + " + " + std::to_string(from.offset) +
                           ")"
                     : name.str();
}

static LogicalResult emitRotary(EmitContext &ctx, RotaryOp op) {
  ArrayRef<int64_t> xs = shapeOf(op.getInput());
  FailureOr<HeadSource> x = headOperand(op, op.getInput());
  if (failed(x))
    return failure();
  std::string body;
  llvm::raw_string_ostream os(body);
  // R: twice the tables' width, or their width with full_tables (whose
  // template argument follows the deduced types); a head split's row
  // (XRow) follows Full.
  bool full = op.getFullTables();
  os << "  kiln::rotary<" << xs[0] << ", " << xs[1] << ", " << xs[2] << ", "
     << xs[3] << ", " << rotaryTableArgs(op);
  if (full || x->row) {
    FailureOr<std::string> t = ctx.typeOf(op.getInput(), op);
    FailureOr<std::string> c = ctx.typeOf(op.getCos(), op);
    if (failed(t) || failed(c))
      return failure();
    os << ", " << *t << ", " << *c << ", " << (full ? "true" : "false");
    if (x->row)
      os << ", " << x->row;
  }
  os << ">(" << atColumn("in0", *x) << ", in1, in2, out0);\n";
  return ctx.simpleKernel(op, {x->arg, op.getCos(), op.getSin()},
                          {op.getResult()}, body);
}

/// kiln.kv_append: params (key, value, positions, key_cache, value_cache);
/// the launch's outs are the layer's blocks of the KV region, updated in
/// place. A head-split key or value is read in place (KRow / VRow).
static LogicalResult emitKvAppend(EmitContext &ctx, KvAppendOp op) {
  ArrayRef<int64_t> ks = shapeOf(op.getKey()), cs = shapeOf(op.getKeyCache());
  FailureOr<HeadSource> k = headOperand(op, op.getKey());
  FailureOr<HeadSource> v = headOperand(op, op.getValue());
  if (failed(k) || failed(v))
    return failure();
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::kvAppend<" << ks[0] << ", " << ks[1] << ", " << ks[2] << ", "
     << cs[2] << ", " << ks[3];
  if (k->row || v->row)
    os << ", " << k->row << ", " << v->row;
  // One argument for both where key and value split one product.
  bool shared = k->arg == v->arg;
  os << ">(" << atColumn("in0", *k) << ", "
     << atColumn(shared ? "in0" : "in1", *v) << ", "
     << (shared ? "in1" : "in2") << ", out0, out1);\n";
  SmallVector<Value> inputs = {k->arg};
  if (!shared)
    inputs.push_back(v->arg);
  inputs.push_back(op.getPositions());
  return ctx.simpleKernel(op, inputs, {op.getKeyCache(), op.getValueCache()},
                          body);
}

std::optional<LogicalResult>
kiln::codegen::emitRopeAppendKernel(EmitContext &ctx, Block &body) {
  std::optional<RopeAppendKernel> kernel = analyzeRopeAppendKernel(body);
  if (!kernel)
    return std::nullopt;
  auto append = cast<KvAppendOp>(kernel->append);
  ArrayRef<int64_t> ks = shapeOf(append.getKey()),
                    cs = shapeOf(append.getKeyCache());
  int64_t nk = product(ks);
  // kiln::rotaryAt of `r` at element i, reading its input in place.
  auto rope = [&](Operation *op) -> FailureOr<std::string> {
    auto r = cast<RotaryOp>(op);
    FailureOr<HeadSource> x = headOperand(r, r.getInput());
    if (failed(x))
      return failure();
    ArrayRef<int64_t> xs = shapeOf(r.getInput());
    return "kiln::rotaryAt<" + std::to_string(xs[1]) + ", " +
           std::to_string(xs[2]) + ", " + std::to_string(xs[3]) + ", " +
           rotaryTableArgs(r) + ", " +
           (r.getFullTables() ? "true" : "false") + ", " +
           std::to_string(x->row) + ">(" +
           atColumn(argOf(x->arg), *x) + ", " + argOf(r.getCos()) + ", " +
           argOf(r.getSin()) + ", i)";
  };
  std::string key;
  if (kernel->keyRotary) {
    FailureOr<std::string> k = rope(kernel->keyRotary);
    if (failed(k))
      return failure();
    key = *k;
  } else {
    FailureOr<HeadSource> k = headOperand(append, append.getKey());
    if (failed(k))
      return failure();
    key = "kiln::headAt<" + std::to_string(ks[1]) + ", " +
          std::to_string(ks[2]) + ", " + std::to_string(ks[3]) + ", " +
          std::to_string(k->row) + ">(" + atColumn(argOf(k->arg), *k) +
          ", i)";
  }
  FailureOr<HeadSource> v = headOperand(append, append.getValue());
  if (failed(v))
    return failure();
  std::string query;
  int64_t nq = 0;
  if (kernel->queryRotary) {
    FailureOr<std::string> q = rope(kernel->queryRotary);
    if (failed(q))
      return failure();
    query = *q;
    nq = product(shapeOf(kernel->queryRotary->getResult(0)));
  }
  std::string what;
  llvm::raw_string_ostream whatOs(what);
  for (Operation &inner : body.without_terminator())
    if (isa<RotaryOp, KvAppendOp>(inner))
      whatOs << (what.empty() ? "" : " ") << inner.getName();
  SmallVector<Value> args(body.getArguments());
  SmallVector<Value> outs(body.getTerminator()->getOperands());
  if (failed(ctx.beginKernel(append, args, outs, what)))
    return failure();
  // One thread per element of the larger of q and k: the roped query
  // (out2), and the roped key with the value at its cache slot (out0,
  // out1).
  ctx.source() << "  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + "
                  "threadIdx.x; i < "
               << std::max(nq, nk) << "; i += (int64_t)gridDim.x * blockDim.x) {\n";
  if (nq)
    ctx.source() << "    if (i < " << nq << ")\n      out2[i] = " << query
                 << ";\n";
  ctx.source() << "    if (i < " << nk << ")\n      kiln::kvAppendAt<" << ks[1]
               << ", " << ks[2] << ", " << cs[2] << ", " << ks[3] << ", "
               << v->row << ">(" << key << ", " << atColumn(argOf(v->arg), *v)
               << ", " << argOf(append.getPositions())
               << ", out0, out1, i);\n  }\n";
  ctx.endKernel();
  return success();
}

/// kiln.kv_attention: params (query, key_cache, value_cache, positions,
/// [mask], result).
static LogicalResult emitKvAttention(EmitContext &ctx, KvAttentionOp op) {
  ArrayRef<int64_t> qs = shapeOf(op.getQuery()), ks = shapeOf(op.getKeyCache()),
                    vs = shapeOf(op.getValueCache());
  int64_t b = qs[0], hq = qs[1], s = qs[2], d = qs[3];
  int64_t hkv = ks[1], t = ks[2], dv = vs[3];
  SmallVector<Value> inputs = {op.getQuery(), op.getKeyCache(),
                               op.getValueCache(), op.getPositions()};
  if (Value mask = op.getMask())
    inputs.push_back(mask);
  std::string bias = maskBias(op.getMask(), 4, {b, hq, s, t});
  if (kvAttentionSplits(op) > 0)
    if (std::optional<LogicalResult> split =
            emitKvAttentionKernel(ctx, *op->getBlock()))
      return *split;
  if (failed(ctx.beginKernel(op, inputs, {op.getResult()})))
    return failure();
  ctx.source() << "  kiln::kvAttention<" << b << ", " << hq << ", " << hkv
               << ", " << s << ", " << t << ", " << d << ", " << dv
               << ">(in0, in1, in2, in3, out0, "
               << floatLiteral(op.getScale().convertToFloat()) << ",\n      "
               << bias << ");\n";
  ctx.endKernel();
  return success();
}

std::optional<LogicalResult>
kiln::codegen::emitKvAttentionKernel(EmitContext &ctx, Block &body) {
  std::optional<KvAttentionKernel> kernel = analyzeKvAttentionKernel(body);
  if (!kernel)
    return std::nullopt;
  auto op = cast<KvAttentionOp>(kernel->attention);
  auto append = cast_or_null<KvAppendOp>(kernel->append);
  ArrayRef<int64_t> qs = shapeOf(op.getQuery()), ks = shapeOf(op.getKeyCache());
  int64_t b = qs[0], hq = qs[1], s = qs[2], d = qs[3];
  int64_t hkv = ks[1], t = ks[2];
  KvSplitShape split = kvAttentionSplitShape(op);
  int64_t splits = split.splits;
  // The cache slots before pos are read before waiting for the launch
  // before this one where pos is a step input (no launch writes it).
  unsigned posArg = cast<BlockArgument>(op.getPositions()).getArgNumber();
  bool early =
      posArg < ctx.argIsStepInput.size() && ctx.argIsStepInput[posArg];
  std::string block =
      std::to_string(split.warps) + ", " + std::to_string(split.steps) + ", " +
      std::to_string(split.heads) + ", " + (early ? "true" : "false") + ", " +
      (split.cluster ? "true" : "false") +
      (split.splitMajor ? ", true" : "");
  FailureOr<std::string> e = ctx.typeOf(op.getKeyCache(), op);
  if (failed(e))
    return failure();
  // A rotary's template arguments after D: R, CB, interleaved, E, C.
  // (The kernel takes no full_tables rotary: rotaryFitsPieces.)
  auto rope = [&](RotaryOp r) -> FailureOr<std::string> {
    FailureOr<std::string> c = ctx.typeOf(r.getCos(), r);
    if (failed(c))
      return failure();
    return rotaryTableArgs(r) + ", " + *e + ", " + *c;
  };
  std::string query;
  if (auto r = cast_or_null<RotaryOp>(kernel->queryRotary)) {
    FailureOr<std::string> params = rope(r);
    if (failed(params))
      return failure();
    query = "kiln::KvRotaryQuery<" + std::to_string(hq) + ", " +
            std::to_string(s) + ", " + std::to_string(d) + ", " + *params +
            ">{" + argOf(r.getInput()) + ", " + argOf(r.getCos()) + ", " +
            argOf(r.getSin()) + "}";
  } else {
    query = "kiln::KvQuery<" + std::to_string(hq) + ", " + std::to_string(s) +
            ", " + std::to_string(d) + ", " + *e + ">{" + argOf(op.getQuery()) +
            "}";
  }
  std::string caches, hook, result = "out0";
  if (append) {
    caches = "out0, out1";
    result = "out2";
    std::string row = "kiln::KvAppendRow<" + std::to_string(hkv) + ", " +
                      std::to_string(d) + ", ";
    if (auto r = cast_or_null<RotaryOp>(kernel->keyRotary)) {
      FailureOr<std::string> params = rope(r);
      if (failed(params))
        return failure();
      hook = row + "true, " + *params + ">{" + argOf(r.getInput()) + ", " +
             argOf(append.getValue()) + ", " + argOf(r.getCos()) + ", " +
             argOf(r.getSin()) + "}";
    } else {
      hook = row + "false, 0, 1, false, " + *e + ", float>{" +
             argOf(append.getKey()) + ", " + argOf(append.getValue()) +
             ", nullptr, nullptr}";
    }
  } else {
    caches = "const_cast<" + *e + " *>(" + argOf(op.getKeyCache()) +
             "), const_cast<" + *e + " *>(" + argOf(op.getValueCache()) + ")";
    hook = "kiln::KvNoAppend{}";
  }
  std::string bias = "[](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }";
  if (Value mask = op.getMask())
    bias = maskBias(mask, cast<BlockArgument>(mask).getArgNumber(),
                    {b, hq, s, t});
  // The partial results and per-group counters are the kernel's own
  // device arrays.
  ctx.source() << "__device__ float " << ctx.name << "_part["
               << b * hq * s * splits * (2 + d) << "];\n"
               << "__device__ unsigned " << ctx.name << "_done["
               << b * hkv * s * split.sets << "];\n";
  std::string what;
  llvm::raw_string_ostream whatOs(what);
  for (Operation &inner : body.without_terminator())
    whatOs << (what.empty() ? "" : " ") << inner.getName();
  SmallVector<Value> args(body.getArguments());
  SmallVector<Value> outs(body.getTerminator()->getOperands());
  ctx.ownPdlEnter = early;
  // An early kernel's prefetch requests go out after its own wait (the
  // `waited` hook), once the launch before it no longer streams.
  ctx.prefetchAfterOwnWait = early && !ctx.prefetchBytes.empty();
  ctx.clusterDims = split.cluster;
  ctx.minBlocks = kvAttentionMinBlocks(op);
  if (failed(ctx.beginKernel(op, args, outs, what)))
    return failure();
  if (!append && !kernel->queryRotary && !ctx.prefetchAfterOwnWait) {
    // The attention alone: no hooks.
    ctx.source() << "  kiln::kvAttentionSplit<" << b << ", " << hq << ", "
                 << hkv << ", " << s << ", " << t << ", " << d << ", " << block
                 << ">(" << argOf(op.getQuery()) << ", "
                 << argOf(op.getKeyCache()) << ", " << argOf(op.getValueCache())
                 << ", " << argOf(op.getPositions()) << ", out0, "
                 << floatLiteral(op.getScale().convertToFloat()) << ",\n      "
                 << bias << ", " << ctx.name << "_part, " << ctx.name
                 << "_done);\n";
    ctx.endKernel();
    return success();
  }
  ctx.source() << "  kiln::kvAttentionSplitWith<" << b << ", " << hq << ", "
               << hkv << ", " << s << ", " << t << ", " << d << ", " << block
               << ">(\n      " << query << ",\n      " << caches << ", "
               << argOf(op.getPositions()) << ", " << result << ", "
               << floatLiteral(op.getScale().convertToFloat()) << ",\n      "
               << bias << ",\n      " << ctx.name << "_part, " << ctx.name
               << "_done,\n      " << hook;
  if (ctx.prefetchAfterOwnWait) {
    std::string calls = ctx.prefetchCalls("");
    std::replace(calls.begin(), calls.end(), '\n', ' ');
    ctx.source() << ",\n      [=] { " << calls << "}";
  }
  ctx.source() << ");\n";
  ctx.endKernel();
  return success();
}

std::optional<LogicalResult>
kiln::codegen::emitTransformerOp(EmitContext &ctx, Operation *op) {
  if (auto a = dyn_cast<AttentionOp>(op))
    return emitAttention(ctx, a);
  if (auto r = dyn_cast<RotaryOp>(op))
    return emitRotary(ctx, r);
  if (auto a = dyn_cast<KvAppendOp>(op))
    return emitKvAppend(ctx, a);
  if (auto a = dyn_cast<KvAttentionOp>(op))
    return emitKvAttention(ctx, a);
  return std::nullopt;
}

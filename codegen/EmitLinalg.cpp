//===- EmitLinalg.cpp - CUDA for matmul, reductions and norms -------------===//
//
// matmul / linear inside a kiln.kernel get the generic matmul kernel (one
// thread per output); which products go to cuBLASLt is decided upstream
// (kiln-form-fusions makes them kiln.gemm, which the driver turns into a
// manifest gemm line without any source). Reductions, softmax, layer_norm and rms_norm run one
// block per output row with block-wide reductions. Every sum accumulates in
// kiln::Acc<T> (kiln_kernels.cuh): fp32 for f32, int64 for integers.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"
#include "kiln/Transforms/LaunchConfig.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

/// The norm template's arguments after Rms and the shape: `, true` where
/// the normalised value is rounded before the scale (round_normalized).
static std::string roundArg(Operation *norm) {
  auto rms = dyn_cast<RmsNormOp>(norm);
  return rms && rms.getRoundNormalized() ? ", true" : "";
}

//===----------------------------------------------------------------------===//
// Matmul and linear
//===----------------------------------------------------------------------===//

/// A lambda `(b, r, c) -> offset` for an operand whose batch dims `dims`
/// broadcast to `batch`, with `rows x cols` matrices (transposed storage if
/// `transposed`).
static std::string operandMap(ArrayRef<int64_t> dims, ArrayRef<int64_t> batch,
                              int64_t rows, int64_t cols, bool transposed) {
  std::string s = "[](int64_t b, int64_t r, int64_t c) -> int64_t { ";
  std::string batchExpr = "0";
  if (product(dims) > 1) {
    s += decompose("b", batch, "d") + " ";
    SmallVector<int64_t> strides = broadcastStrides(dims, batch);
    for (int64_t &st : strides)
      st *= rows * cols;
    batchExpr = linearExpr(strides, "d");
  }
  std::string inner = transposed ? "c * " + std::to_string(rows) + " + r"
                                 : "r * " + std::to_string(cols) + " + c";
  return s + "(void)b; return " + batchExpr + " + " + inner + "; }";
}

/// Emits the generic matmul kernel: out[batch..., M, N].
static LogicalResult emitGenericMatmul(EmitContext &ctx, Operation *op,
                                       Value a, Value b, Value bias,
                                       bool transB, ArrayRef<int64_t> aBatch,
                                       ArrayRef<int64_t> bBatch,
                                       ArrayRef<int64_t> batch, int64_t m,
                                       int64_t n, int64_t k) {
  Value result = op->getResult(0);
  FailureOr<std::string> t = ctx.typeOf(result, op);
  if (failed(t))
    return failure();
  SmallVector<Value> inputs = {a, b};
  if (bias)
    inputs.push_back(bias);
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::matmul<" << product(batch) << ", " << m << ", " << n << ", "
     << k << ">(in0, in1, " << (bias ? "in2" : "(const " + *t + " *)nullptr")
     << ", out0,\n      " << operandMap(aBatch, batch, m, k, false)
     << ",\n      " << operandMap(bBatch, batch, k, n, transB) << ");\n";
  return ctx.simpleKernel(op, inputs, {result}, body);
}

static LogicalResult emitMatmul(EmitContext &ctx, MatmulOp op) {
  ArrayRef<int64_t> as = shapeOf(op.getLhs()), bs = shapeOf(op.getRhs()),
                    rs = shapeOf(op.getResult());
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  return emitGenericMatmul(ctx, op, op.getLhs(), op.getRhs(), Value(), false,
                           as.drop_back(2), bs.drop_back(2), rs.drop_back(2),
                           m, n, k);
}

static std::string paramMap(ArrayRef<int64_t> paramShape,
                            ArrayRef<int64_t> normShape);

/// The dots of GEMV group `group` of kiln.matmul_nbits products at column
/// n (kiln::nbitsDots over the kernel's rows of x, `xr`), and the start of
/// lane 0's epilogue (`if (lane == 0) {`).
static LogicalResult emitNBitsDots(EmitContext &ctx, const GemvGroup &group,
                                   int64_t m, int64_t k,
                                   llvm::raw_ostream &os) {
  auto first = cast<MatmulNBitsOp>(group.linears.front());
  int64_t bits = first.getBits(), block = first.getBlockSize();
  int64_t rowBytes = k * bits / 8, blocks = k / block;
  int l = group.linears.size();
  FailureOr<std::string> st = ctx.typeOf(first.getScales(), first);
  if (failed(st))
    return failure();
  os << "      const uint8_t *rows[" << l << "] = {";
  for (auto [j, op] : llvm::enumerate(group.linears))
    os << (j ? ", " : "") << argOf(cast<MatmulNBitsOp>(op).getWeight())
       << " + n * " << rowBytes;
  os << "};\n      const " << *st << " *scl[" << l << "] = {";
  for (auto [j, op] : llvm::enumerate(group.linears))
    os << (j ? ", " : "") << argOf(cast<MatmulNBitsOp>(op).getScales())
       << " + n * " << blocks;
  // Linear q's zero point of block j at column n (q is a constant once
  // nbitsDots' loop over the linears is unrolled).
  os << "};\n      auto zero = [&](int q, int64_t j) -> float {\n"
     << "        (void)q; (void)j;\n        return ";
  for (auto [j, op] : llvm::enumerate(group.linears)) {
    Value zp = cast<MatmulNBitsOp>(op).getZeroPoints();
    std::string z = nbitsZeroPoint(op, zp ? argOf(zp) : "", "n", "j", "float");
    if (j + 1 < group.linears.size())
      os << "q == " << j << " ? " << z << " : ";
    else
      os << z;
  }
  bool floatZero =
      first.getZeroPoints() && !eltOf(first.getZeroPoints()).isInteger();
  os << ";\n      };\n      float acc[" << l << "][" << m << "];\n"
     << "      kiln::nbitsDots<" << m << ", " << k << ", " << block << ", "
     << bits << ", " << l << (floatZero ? ", false" : "")
     << ">(xr, rows, scl, zero, acc);\n      if (lane == 0) {\n";
  return success();
}

std::optional<LogicalResult> kiln::codegen::emitGemvKernel(EmitContext &ctx,
                                                          Block &body) {
  std::optional<GemvKernel> gemv = analyzeGemvKernel(body);
  if (!gemv)
    return std::nullopt;
  Operation *terminator = body.getTerminator();
  Operation *anchor = gemv->groups.front().linears.front();
  int64_t m = gemv->rows, k = gemv->k;
  // S warps per column (or tile of 8 columns: mma), each over k / S of
  // every row (gemvSplitK).
  int64_t split = gemvSplitK(*gemv, anchor);
  // 2 to 8 rows: tiles of 8 columns on the tensor cores (gemvMmaPartials).
  bool mma = gemv->mma();
  size_t maxLinears = 0;
  for (const GemvGroup &g : gemv->groups)
    maxLinears = std::max(maxLinears, g.linears.size());
  // Floats of kiln::gemvSplitDots' partials per warp (gemvMmaPartials':
  // kGemvMmaStride).
  int64_t stride =
      mma ? int64_t(maxLinears) * 64 + 8 : (int64_t(maxLinears) + 1) * m;
  // The column of the calling warp's first iteration: its warp index in
  // the grid, over S.
  std::string firstColumn =
      "(blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5";
  if (split > 1)
    firstColumn = "(" + firstColumn + ") / " + std::to_string(split);
  // What c counts: a group's columns, or its tiles of 8 (mma).
  auto unitsOf = [&](const GemvGroup &g) {
    return mma ? (g.columns + 7) / 8 : g.columns;
  };
  // The weight row a warp's lane reads: its column n; with mma its lane
  // group's row of the tile (the last row for lanes past the weight).
  auto rowOf = [&](const GemvGroup &g, llvm::StringRef c,
                   int64_t start) -> std::string {
    if (!mma)
      return "(" + c.str() + " - " + std::to_string(start) + ")";
    std::string r = "(" + c.str() + " - " + std::to_string(start) +
                    ") * 8 + (lane >> 2)";
    return "(" + r + " < " + std::to_string(g.columns) + " ? " + r + " : " +
           std::to_string(g.columns - 1) + ")";
  };

  // The warp's first column's weights loaded into registers before the PDL
  // wait (kiln::gemvFirstTile, kGemvPreloadAttr; with mma the tile's first
  // round, kiln::gemvMmaFirstRound, kGemvMmaPreloadAttr): kernels whose
  // groups share one tile size (kiln::kGemvTile), into `pre`.
  // Staged through shared memory (gemvStages, kiln.gemv_stages): each
  // warp's ring of `stages` slots of its slice of the column's rows; the
  // dots read the slot (kiln::gemvStageRows). No preload then: the first
  // `stages` columns are copied in before the PDL wait.
  int64_t stages = gemvStages(*gemv, anchor);
  int64_t sliceK = k / split;
  // Elements of a warp's slot: its slice of the column's most rows.
  int64_t slot = int64_t(maxLinears) * sliceK;
  bool preload = !stages && !gemv->nbits &&
                 (mma ? gemvMmaPreload(anchor) : gemvPreload(anchor));
  for (const GemvGroup &g : gemv->groups)
    if (gemvTile(g.linears.size()) != gemvTile(maxLinears))
      preload = false;
  int64_t preloads = int64_t(maxLinears) * gemvTile(maxLinears);
  // Whether every launch has a warp (S warps) for every column: then the
  // loop is its first iteration, and with preload it is emitted alone.
  bool once = ctx.minThreads / 32 / split >= gemv->units();

  // Per group: a branch of the column loop. Its warp computes the dots of
  // the group's linears at column n, then lane 0 computes the epilogue of
  // element (row, n) of every row and stores the group's yielded values.
  // With `withPre` (the warp's first column, when preloading) the dots
  // start from `pre`; staged, they read the rows from the warp's slot
  // `stage`.
  auto emitLoopBody = [&](bool withPre, std::string &loop) -> LogicalResult {
    llvm::raw_string_ostream os(loop);
    int64_t start = 0;
    std::string pre = withPre ? ", pre" : stages ? ", nullptr, true" : "";
    for (auto [g, group] : llvm::enumerate(gemv->groups)) {
      int64_t n = group.columns;
      ArrayRef<int64_t> shape = shapeOf(group.linears.front()->getResult(0));
      // The ops this group needs: what its yields depend on, down to its
      // products.
      llvm::SmallPtrSet<Operation *, 16> needed = opsYieldsNeed(
          body, group.yields, [](Operation *op) { return isGemvProduct(op); });
      os << "    " << (g ? "} else if" : "if") << " (c < "
         << start + unitsOf(group) << ") {\n";
      if (mma)
        os << "      const int64_t n0 = (c - " << start << ") * 8;\n";
      else
        os << "      const int64_t n = c - " << start << ";\n";
      int l = group.linears.size();
      FailureOr<std::string> t = ctx.typeOf(gemv->input, anchor);
      if (failed(t))
        return failure();
      if (gemv->nbits) {
        if (failed(emitNBitsDots(ctx, group, m, k, os)))
          return failure();
      } else {
        os << "      const " << *t << " *rows[" << l << "] = {";
        for (auto [j, op] : llvm::enumerate(group.linears)) {
          if (stages) {
            os << (j ? ", " : "") << "stage + " << j * sliceK;
            continue;
          }
          os << (j ? ", " : "") << "in"
             << cast<BlockArgument>(gemvProductWeight(op)).getArgNumber()
             << " + " << (mma ? rowOf(group, "c", start) : std::string("n"))
             << " * " << k
             << (split > 1 ? " + slice * " + std::to_string(k / split) : "");
        }
        os << "};\n";
        if (mma)
          // The tile's S x 32 threads share its 8 x m outputs: thread (slice,
          // lane) takes outputs slice * 32 + lane + 32 S i (row o / 8, column
          // n0 + o % 8).
          os << "      kiln::gemvMmaPartials<" << split << ", " << stride
             << ", " << m << ", " << k << ", " << l
             << (gemvMmaAhead(anchor, k, l, split) ? ", 128, true" : "")
             << ">(xr, rows, part" << (withPre ? ", pre" : "") << ");\n"
             << "      for (int o = slice * 32 + lane; o < " << 8 * m
             << "; o += " << 32 * split << ") {\n"
             << "        const int64_t r = o >> 3, n = n0 + (o & 7);\n"
             << "        if (n < " << n << ") {\n"
             << "          float acc[" << l << "][1];\n"
             << "          kiln::gemvMmaResult<" << split << ", " << stride
             << ", " << m << ", " << l << ">(xr, part, o, acc);\n";
        else if (split > 1)
          os << "      float acc[" << l << "][" << m << "];\n"
             << "      kiln::gemvSplitDots<" << split << ", " << stride << ", "
             << m << ", " << k << ", " << l << ">(xr, rows, acc, part" << pre
             << ");\n"
             << "      if (lane == 0 && slice == 0) {\n";
        else
          os << "      float acc[" << l << "][" << m << "];\n"
             << "      kiln::gemvDots<" << m << ", " << k << ", " << l << ">("
             << (gemv->prologue
                     ? std::string("xs")
                     : "in" +
                           std::to_string(
                               cast<BlockArgument>(gemv->input).getArgNumber()))
             << ", rows, acc" << pre << ");\n      if (lane == 0) {\n";
      }
      if (mma)
        os << "        {\n";
      else
        os << "        for (int64_t r = 0; r < " << m << "; ++r) {\n";
      os << "          const int64_t i = r * " << n << " + n;\n";
      DenseMap<Value, std::string> names;
      bool coords = false;
      std::string inner;
      llvm::raw_string_ostream is(inner);
      for (auto [j, op] : llvm::enumerate(group.linears)) {
        Value result = op->getResult(0);
        FailureOr<std::string> rt = ctx.typeOf(result, op);
        if (failed(rt))
          return failure();
        std::string name = "l" + std::to_string(j);
        is << "          const " << *rt << " " << name << " = (" << *rt
           << ")(acc[" << j << "][" << (mma ? "0" : "r") << "]";
        Value bias = isa<LinearOp>(op) ? cast<LinearOp>(op).getBias()
                                       : cast<MatmulNBitsOp>(op).getBias();
        if (bias)
          is << " + (float)in" << cast<BlockArgument>(bias).getArgNumber()
             << "[n]";
        is << ");\n";
        names[result] = name;
      }
      // The epilogue: the ops the group's yields need, but its products.
      if (failed(emitScalarOps(
              ctx, body,
              [&](Operation *op) {
                return needed.contains(op) && !isGemvProduct(op);
              },
              shape, "          ", anchor, names, coords, is)))
        return failure();
      for (unsigned y : group.yields)
        is << "          out" << y
           << "[i] = " << names.lookup(terminator->getOperand(y)) << ";\n";
      if (coords)
        os << "          " << decompose("i", shape, "c") << "\n";
      os << inner << "        }\n      }\n";
      if (mma)
        os << "      }\n      kiln::gemvMmaDone<" << split << ">();\n";
      start += unitsOf(group);
    }
    os << "    }\n";
    return success();
  };
  std::string loop, firstBody;
  if ((!(preload && once) && failed(emitLoopBody(false, loop))) ||
      (preload && failed(emitLoopBody(true, firstBody))))
    return failure();

  std::string what;
  llvm::raw_string_ostream whatOs(what);
  whatOs << "GEMV kernel:";
  for (Operation &op : body.without_terminator())
    whatOs << " " << op.getName();
  SmallVector<Value> args(body.getArguments());
  SmallVector<Value> outs(terminator->getOperands());
  ctx.ownPdlEnter = true;
  if (mma)
    ctx.minBlocks = gemvMmaMinBlocks(anchor);
  else if (!gemv->nbits)
    ctx.minBlocks = gemvBodyMinBlocks(body);
  if (failed(ctx.beginKernel(anchor, args, outs, what)))
    return failure();
  llvm::raw_string_ostream &src = ctx.source();
  std::string step =
      "warps" + (split > 1 ? " / " + std::to_string(split) : std::string());
  FailureOr<std::string> inType = ctx.typeOf(gemv->input, anchor);
  if (failed(inType))
    return failure();
  if (stages) {
    // The warp's ring, and stageColumn(c, s): its slice of column c's rows
    // into slot s. The first `stages` columns are copied in before the PDL
    // wait (weights are never written), one cp.async group each, empty
    // ones too, so group i is always column i's.
    const std::string &t = *inType;
    src << "  extern __shared__ __align__(16) unsigned char kiln_smem[];\n"
        << "  " << t << " *const ring = reinterpret_cast<" << t
        << " *>(kiln_smem) + (threadIdx.x >> 5) * " << stages * slot
        << ";\n  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> "
           "5;\n"
        << "  auto stageColumn = [&](int64_t c, int s) {\n"
        << "    " << t << " *const dst = ring + s * " << slot << ";\n";
    int64_t start = 0;
    std::string slice =
        split > 1 ? " + ((threadIdx.x >> 5) % " + std::to_string(split) +
                        ") * " + std::to_string(sliceK)
                  : "";
    for (auto [g, group] : llvm::enumerate(gemv->groups)) {
      src << "    " << (g ? "} else if" : "if") << " (c < "
          << start + unitsOf(group) << ") {\n      const " << t << " *rows["
          << group.linears.size() << "] = {";
      for (auto [j, op] : llvm::enumerate(group.linears))
        src << (j ? ", " : "") << "in"
            << cast<BlockArgument>(gemvProductWeight(op)).getArgNumber()
            << " + (c - " << start << ") * " << k << slice;
      src << "};\n      kiln::gemvStageRows<" << sliceK << ", "
          << group.linears.size() << ">(rows, dst);\n";
      start += unitsOf(group);
    }
    src << "    }\n  };\n  {\n    const int64_t c0 = " << firstColumn
        << ";\n    for (int s = 0; s < " << stages << "; ++s) {\n"
        << "      if (c0 + s * (" << step << ") < " << gemv->units()
        << ")\n        stageColumn(c0 + s * (" << step
        << "), s);\n      kiln::cpAsyncCommit();\n    }\n  }\n"
        << "  kiln::pdlEnter();\n";
  } else {
    // Before waiting for the launch before it: ask L2 for the weight rows
    // of the warp's first column (weights are never written).
    const FailureOr<std::string> &t = inType;
    // With preload, `pre` outlives the block: the first column's dots read
    // it after the wait.
    if (preload)
      src << "  int4 pre[" << preloads << "];\n";
    src << "  {\n    const int64_t c0 = " << firstColumn << ";\n";
    std::string slice =
        split > 1 ? " + ((threadIdx.x >> 5) % " + std::to_string(split) +
                        ") * " + std::to_string(k / split)
                  : "";
    if (mma)
      src << "    const int lane = threadIdx.x & 31;\n";
    int64_t start = 0;
    for (auto [g, group] : llvm::enumerate(gemv->groups)) {
      src << "    " << (g ? "else if" : "if") << " (c0 < "
          << start + unitsOf(group) << ") {\n";
      if (preload) {
        src << "      const " << *t << " *first[" << group.linears.size()
            << "] = {";
        for (auto [j, op] : llvm::enumerate(group.linears))
          src << (j ? ", " : "") << "in"
              << cast<BlockArgument>(gemvProductWeight(op)).getArgNumber()
              << " + " << rowOf(group, "c0", start) << " * " << k << slice;
        if (mma)
          src << "};\n      kiln::gemvMmaFirstRound<" << split << ", " << k
              << ", " << group.linears.size() << ">(first, pre);\n";
        else
          src << "};\n      kiln::gemvFirstTile<" << k / split << ", "
              << group.linears.size() << ">(first, pre);\n";
      } else if (gemv->nbits) {
        // The packed rows of the warp's first column.
        for (Operation *op : group.linears) {
          int64_t rowBytes = k * cast<MatmulNBitsOp>(op).getBits() / 8;
          src << "      kiln::prefetchL2(in"
              << cast<BlockArgument>(gemvProductWeight(op)).getArgNumber()
              << " + " << rowOf(group, "c0", start) << " * " << rowBytes
              << ", " << rowBytes << ");\n";
        }
      } else {
        for (Operation *op : group.linears)
          src << "      kiln::prefetchL2" << (mma ? "Rows" : "") << "(in"
              << cast<BlockArgument>(gemvProductWeight(op)).getArgNumber()
              << " + " << rowOf(group, "c0", start) << " * " << k << slice
              << ", " << k / split << " * sizeof(" << *t << "));\n";
      }
      src << "    }\n";
      start += unitsOf(group);
    }
    src << "  }\n  kiln::pdlEnter();\n";
  }
  if (gemv->foldedRms) {
    // Each warp folds the RMSNorm into its dots (kiln::GemvRmsX).
    auto rms = cast<RmsNormOp>(gemv->prologue);
    FailureOr<std::string> t = ctx.typeOf(gemv->input, rms);
    if (failed(t))
      return failure();
    src << "  kiln::GemvRmsX<" << m << ", " << k << ", " << *t << "> xs{"
        << argOf(rms.getInput()) << ", " << argOf(rms.getScale()) << ", "
        << floatLiteral(rms.getEpsilon().convertToFloat()) << "};\n";
  } else if (Operation *norm = gemv->prologue) {
    // Every block normalises the rows into shared memory first.
    bool rms = isa<RmsNormOp>(norm);
    Value bias = rms ? Value() : cast<LayerNormOp>(norm).getBias();
    float eps = rms ? cast<RmsNormOp>(norm).getEpsilon().convertToFloat()
                    : cast<LayerNormOp>(norm).getEpsilon().convertToFloat();
    FailureOr<std::string> t = ctx.typeOf(gemv->input, norm);
    if (failed(t))
      return failure();
    ArrayRef<int64_t> normShape = shapeOf(gemv->input).take_back();
    src << "  __shared__ __align__(16) " << *t << " xs[" << m * k << "];\n"
        << "  for (int64_t r = 0; r < " << m << "; ++r)\n"
        << "    kiln::normRow<" << (rms ? "true" : "false") << ", " << k
        << roundArg(norm) << ">(" << argOf(norm->getOperand(0)) << " + r * "
        << k << ", "
        << argOf(norm->getOperand(1)) << ", "
        << (bias ? argOf(bias) : "(const " + *t + " *)nullptr")
        << ", xs + r * " << k << ", " << floatLiteral(eps) << ",\n        "
        << paramMap(shapeOf(norm->getOperand(1)), normShape) << ",\n        "
        << (bias ? paramMap(shapeOf(bias), normShape)
                 : "[](int64_t j) -> int64_t { return j; }")
        << ");\n  __syncthreads();\n";
  }
  if (split > 1 || mma || gemv->nbits) {
    // xr reads the rows of x (kiln::nbitsDots, and S warps a column,
    // kiln::gemvSplitDots, or a tile, gemvMmaPartials); part holds the
    // partials of the block's 8 warps.
    const FailureOr<std::string> &t = inType;
    if (gemv->foldedRms)
      src << "  auto &xr = xs;\n";
    else
      src << "  kiln::GemvX<" << m << ", " << k << ", " << *t << "> xr{"
          << (gemv->prologue ? std::string("xs") : argOf(gemv->input))
          << "};\n";
    if (split > 1 || mma)
      src << "  __shared__ float part[8 * " << stride << "];\n"
          << "  const int slice = (threadIdx.x >> 5) % " << split << ";\n";
  }
  src << "  const int lane = threadIdx.x & 31;\n";
  if (!stages)
    src << "  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> "
           "5;\n";
  if (stages) {
    // Wait for the slot's group (the column's), compute it, and once every
    // lane has read the slot, copy the column `stages` ahead into it.
    src << "  int slot = 0;\n  for (int64_t c = " << firstColumn << "; c < "
        << gemv->units() << "; c += " << step << ") {\n"
        << "    kiln::cpAsyncWait<" << stages - 1 << ">();\n"
        << "    const " << *inType << " *const stage = ring + slot * "
        << slot << ";\n"
        << loop << "    __syncwarp();\n"
        << "    if (c + " << stages << " * (" << step << ") < "
        << gemv->units() << ")\n      stageColumn(c + " << stages << " * ("
        << step << "), slot);\n    kiln::cpAsyncCommit();\n"
        << "    slot = slot + 1 == " << stages << " ? 0 : slot + 1;\n  }\n";
  } else if (preload) {
    // The first column's dots start from the preloaded tile; where there
    // is a second iteration, it loads.
    src << "  {\n    const int64_t c = " << firstColumn << ";\n"
        << firstBody << "  }\n";
    if (!once)
      src << "  for (int64_t c = " << firstColumn << " + " << step << "; c < "
          << gemv->units() << "; c += " << step << ") {\n"
          << loop << "  }\n";
  } else
    src << "  for (int64_t c = " << firstColumn << "; c < " << gemv->units()
        << "; c += " << step << ") {\n"
        << loop << "  }\n";
  ctx.endKernel();
  return success();
}

static LogicalResult emitLinear(EmitContext &ctx, LinearOp op) {
  ArrayRef<int64_t> xs = shapeOf(op.getInput()), ws = shapeOf(op.getWeight());
  bool transB = op.getTransposeWeight();
  int64_t k = xs.back(), n = transB ? ws[0] : ws[1];
  int64_t m = product(xs.drop_back());
  if (isGemv(op)) {
    std::string body;
    llvm::raw_string_ostream os(body);
    SmallVector<Value> inputs = {op.getInput(), op.getWeight()};
    if (op.getBias())
      inputs.push_back(op.getBias());
    FailureOr<std::string> type = ctx.typeOf(op.getResult(), op);
    if (failed(type))
      return failure();
    os << "  kiln::gemv<" << m << ", " << n << ", " << k << ">(in0, in1, "
       << (op.getBias() ? std::string("in2")
                        : "(const " + *type + " *)nullptr")
       << ", out0);\n";
    return ctx.simpleKernel(op, inputs, {op.getResult()}, body);
  }
  return emitGenericMatmul(ctx, op, op.getInput(), op.getWeight(),
                           op.getBias(), transB, {}, {}, {}, m, n, k);
}

//===----------------------------------------------------------------------===//
// Reductions, softmax, norms
//===----------------------------------------------------------------------===//

static LogicalResult emitReduce(EmitContext &ctx, Operation *op,
                                ArrayRef<int64_t> axes, StringRef kind) {
  Value input = op->getOperand(0), result = op->getResult(0);
  ArrayRef<int64_t> shape = shapeOf(input);
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  llvm::SmallSet<int64_t, 4> reduced(axes.begin(), axes.end());
  SmallVector<int64_t> keptShape, keptStrides, redShape, redStrides;
  for (auto [d, dim] : llvm::enumerate(shape)) {
    if (reduced.contains(d)) {
      redShape.push_back(dim);
      redStrides.push_back(strides[d]);
    } else {
      keptShape.push_back(dim);
      keptStrides.push_back(strides[d]);
    }
  }
  int64_t outputs = product(keptShape), count = product(redShape);
  std::string body;
  llvm::raw_string_ostream os(body);
  os << "  kiln::reduce<kiln::Reduce::" << kind << ", " << outputs << ", "
     << count << ">(in0, out0, [](int64_t o, int64_t r) -> int64_t {\n"
     << "    " << decompose("o", keptShape, "o") << "\n"
     << "    " << decompose("r", redShape, "r") << "\n"
     << "    (void)o; (void)r; return (" << linearExpr(keptStrides, "o")
     << ") + (" << linearExpr(redStrides, "r") << ");\n  });\n";
  if (failed(ctx.beginKernel(op, {input}, {result})))
    return failure();
  ctx.source() << body;
  ctx.endKernel();
  return success();
}

static LogicalResult emitSoftmax(EmitContext &ctx, SoftmaxOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t axis = op.getAxis();
  int64_t len = shape[axis], inner = product(shape.drop_front(axis + 1));
  int64_t rows = product(shape) / std::max<int64_t>(len, 1);
  if (len == 0)
    rows = 0;
  if (failed(ctx.beginKernel(op, {op.getInput()}, {op.getResult()})))
    return failure();
  ctx.source() << "  kiln::softmax<" << rows << ", " << len << ", " << inner
               << ">(in0, out0);\n";
  ctx.endKernel();
  return success();
}

/// A `(int64_t j) -> int64_t` lambda for a norm parameter of `paramShape`
/// broadcast over the normalised dims `normShape`.
static std::string paramMap(ArrayRef<int64_t> paramShape,
                            ArrayRef<int64_t> normShape) {
  bool coords = false;
  std::string expr = broadcastIndex(paramShape, normShape, "j", "c", coords);
  std::string s = "[](int64_t j) -> int64_t { ";
  if (coords)
    s += decompose("j", normShape, "c") + " ";
  return s + "return " + expr + "; }";
}

static LogicalResult emitNorm(EmitContext &ctx, Operation *op, bool rms,
                              Value input, Value scale, Value bias,
                              int64_t axis, float epsilon) {
  ArrayRef<int64_t> shape = shapeOf(input);
  ArrayRef<int64_t> normShape = shape.drop_front(axis);
  int64_t rows = product(shape.take_front(axis)), cols = product(normShape);
  SmallVector<Value> inputs = {input, scale};
  if (bias)
    inputs.push_back(bias);
  FailureOr<std::string> t = ctx.typeOf(input, op);
  if (failed(t))
    return failure();
  if (failed(ctx.beginKernel(op, inputs, {op->getResult(0)})))
    return failure();
  llvm::raw_string_ostream &os = ctx.source();
  os << "  kiln::norm<" << (rms ? "true" : "false") << ", " << rows << ", "
     << cols << roundArg(op) << ">(in0, in1, "
     << (bias ? "in2" : "(const " + *t + " *)nullptr") << ", out0, "
     << floatLiteral(epsilon) << ",\n      "
     << paramMap(shapeOf(scale), normShape) << ",\n      "
     << (bias ? paramMap(shapeOf(bias), normShape)
              : "[](int64_t j) -> int64_t { return j; }")
     << ");\n";
  ctx.endKernel();
  return success();
}

std::optional<LogicalResult> kiln::codegen::emitLinalgOp(EmitContext &ctx,
                                                         Operation *op) {
  if (auto m = dyn_cast<MatmulOp>(op))
    return emitMatmul(ctx, m);
  if (auto l = dyn_cast<LinearOp>(op))
    return emitLinear(ctx, l);
  if (auto r = dyn_cast<ReduceSumOp>(op))
    return emitReduce(ctx, op, r.getAxes(), "Sum");
  if (auto r = dyn_cast<ReduceMeanOp>(op))
    return emitReduce(ctx, op, r.getAxes(), "Mean");
  if (auto r = dyn_cast<ReduceMaxOp>(op))
    return emitReduce(ctx, op, r.getAxes(), "Max");
  if (auto s = dyn_cast<SoftmaxOp>(op))
    return emitSoftmax(ctx, s);
  if (auto n = dyn_cast<LayerNormOp>(op))
    return emitNorm(ctx, op, false, n.getInput(), n.getScale(), n.getBias(),
                    n.getAxis(), n.getEpsilon().convertToFloat());
  if (auto n = dyn_cast<RmsNormOp>(op))
    return emitNorm(ctx, op, true, n.getInput(), n.getScale(), Value(),
                    n.getAxis(), n.getEpsilon().convertToFloat());
  return std::nullopt;
}

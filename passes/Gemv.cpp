//===- Gemv.cpp - kiln-gemv: decode products as kiln's own GEMV -----------===//
//
// cuBLASLt is far from the memory-bandwidth floor on the skinny products of
// a decode step (1 x 512 x 2048 reached 314 GB/s on an H200, 1 x 2048 x 2048
// 1263 GB/s; bench/RESULTS.md). This pass, on the fused level after
// kiln-lower-precision, rewrites each kiln.gemm that
//   - has at most kGemvMaxRows rows of f32 or kGemvMmaMaxRows of bf16 (all
//     of A's dims but the last; kiln::isGemvInput),
//   - reads a [K, N] kiln.weight as B that nothing else reads (or an
//     [N, K] one with transpose_b, read as it is stored: a tied lm head),
//   - has no activation or scale (a bias [N] becomes
//     kiln.linear's; a residual is kept as a kiln.add after the product),
//   - is f32 or bf16 with K a multiple of the 16-byte vector,
// into a fusion of one kiln.linear with the weight transposed at compile
// time (`kiln.weight {transposed}`: reading returns [N, K]), which codegen
// emits as a GEMV: one warp streams one contiguous weight row per output
// column. Then it merges, so that a decode layer needs fewer launches and
// no tensor is read more often than before:
//   - epilogues: an elementwise fusion whose inputs include GEMV results
//     that nothing else reads, all products of one input with the fusion's
//     shape (SwiGLU's silu(gate) * up), joins those GEMVs: the epilogue is
//     computed from the dot products in the same kernel, and gate and up
//     never reach memory;
//   - siblings: GEMV fusions that read the same input (q, k and v) become
//     one fusion with one result per product, one launch whose columns are
//     theirs one after another;
//   - prologues: a norm whose result only a GEMV fusion reads (the RMSNorm
//     before q/k/v and before gate/up) joins it: each block of the kernel
//     normalises the row into shared memory, a few KB read again from L2,
//     instead of a launch of its own.
// kiln.matmul_nbits products of one row (kiln::isNBitsGemv and
// kNBitsGemvMergeMaxRows: int4 or int8 weights kept packed) are GEMV
// fusions as kiln-form-fusions leaves them, a fusion of one op, and merge
// the same way (kiln::nbitsDots: one warp a column), but take no norm
// prologue; a kernel's products are all kiln.linear or all
// kiln.matmul_nbits of one bits, block size and kind of zero point.
// Last, the gemms it leaves read their weights transposed as well
// (`transpose_b`), so a model's step functions share one copy of each.
// Each merged fusion is a GEMV kernel (kiln::analyzeGemvKernel), which
// kiln-schedule lowers and codegen emits (codegen/EmitLinalg.cpp).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/FusionMerge.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGEMV
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

struct Gemv : public kiln::impl::KilnGemvBase<Gemv> {
  using Base::Base;

  /// The gemm's scale, when it has one other than 1.
  static std::optional<float> scaleOf(GemmOp gemm) {
    std::optional<APFloat> s = gemm.getScale();
    if (!s || s->convertToFloat() == 1.0f)
      return std::nullopt;
    return s->convertToFloat();
  }
  /// A rank-0 constant `value` of element type `elt`, for a GEMV body's
  /// epilogue (the fusion reads it as an input).
  static Value scalar(OpBuilder &b, Location loc, Type elt, double value) {
    return ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, elt),
                               b.getFloatAttr(elt, value)));
  }

  /// The gemm's weight when the gemm qualifies, else null.
  static WeightOp candidate(GemmOp gemm) {
    // A bias must be [N] (kiln.linear's), added to the dot product before
    // it is rounded, as the gemm's reference does.
    if (Value bias = gemm.getBias()) {
      auto bt = cast<ShapedType>(bias.getType());
      auto rt = cast<ShapedType>(gemm.getResult().getType());
      if (bt.getRank() != 1 || bt.getDimSize(0) != rt.getShape().back() ||
          bt.getElementType() != rt.getElementType())
        return nullptr;
    }
    // A scale is a kiln.mul after the product: only without a bias (which
    // the linear adds before the scale would), and with a residual only in
    // f32 (the GEMV's epilogue ops each read a product, so the residual is
    // added in its own type, where it cannot follow an f32 scale). An
    // activation is the op after them.
    if (gemm.hasBufferSemantics() ||
        (scaleOf(gemm) &&
         (gemm.getBias() ||
          (gemm.getResidual() &&
           !getElementTypeOrSelf(gemm.getResult().getType()).isF32()))))
      return nullptr;
    auto w = gemm.getB().getDefiningOp<WeightOp>();
    if (!w || w.getType().getRank() != 2)
      return nullptr;
    // A [K, N] weight is transposed at compile time, which needs it to
    // itself; one read with transpose_b is already [N, K] (rows of K, a
    // tied lm head's embedding table) and is read as it is, whoever else
    // reads it.
    if (!gemm.getTransposeB() && (w.getTransposed() || !w->hasOneUse()))
      return nullptr;
    // The linear it becomes must be a GEMV for codegen and the launch.
    if (!isGemvInput(cast<ShapedType>(gemm.getA().getType())))
      return nullptr;
    return w;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func->hasAttr("kiln.arena_bytes")) {
      func.emitError("kiln-gemv runs before kiln-plan-memory: this function "
                     "is already planned");
      return signalPassFailure();
    }
    SmallVector<GemmOp> gemms;
    func.walk([&](GemmOp g) {
      if (candidate(g))
        gemms.push_back(g);
    });
    OpBuilder b(func.getContext());
    for (GemmOp gemm : gemms) {
      WeightOp w = candidate(gemm);
      bool readAsStored = gemm.getTransposeB();
      auto wt = w.getType();
      auto transposedType =
          readAsStored ? wt
                       : RankedTensorType::get(
                             {wt.getDimSize(1), wt.getDimSize(0)},
                             wt.getElementType());
      WeightOp tw = w;
      if (!readAsStored) {
        b.setInsertionPoint(w);
        tw = cast<WeightOp>(b.clone(*w));
        tw.setTransposed(true);
        tw.getResult().setType(transposedType);
      }
      b.setInsertionPoint(gemm);
      Value a = gemm.getA(), residual = gemm.getResidual(),
            bias = gemm.getBias();
      Type resultType = gemm.getResult().getType();
      SmallVector<Value> inputs = {a, tw.getResult()};
      SmallVector<Type> argTypes = {a.getType(), transposedType};
      if (bias) {
        inputs.push_back(bias);
        argTypes.push_back(bias.getType());
      }
      if (residual) {
        inputs.push_back(residual);
        argTypes.push_back(residual.getType());
      }
      // The scale and ReLU's zero, as rank-0 f32 constants: a scale or an
      // activation is computed in f32 (as kiln-lower-precision's
      // elementwise kernels compute), on the product rounded to its type.
      std::optional<float> scale = scaleOf(gemm);
      GemmActivation act = gemm.getActivation();
      Type f32 = b.getF32Type();
      if (scale)
        inputs.push_back(scalar(b, gemm.getLoc(), f32, *scale));
      if (act == GemmActivation::Relu)
        inputs.push_back(scalar(b, gemm.getLoc(), f32, 0.0));
      for (Value v : ArrayRef(inputs).drop_front(argTypes.size()))
        argTypes.push_back(v.getType());
      auto fusion = FusionOp::create(b, gemm.getLoc(), TypeRange{resultType},
                                     inputs);
      {
        OpBuilder::InsertionGuard guard(b);
        SmallVector<Location> locs(argTypes.size(), gemm.getLoc());
        Block *body = b.createBlock(&fusion.getBody(), {}, argTypes, locs);
        Value y = LinearOp::create(b, gemm.getLoc(), resultType,
                                   body->getArgument(0), body->getArgument(1),
                                   bias ? body->getArgument(2) : Value(),
                                   b.getBoolAttr(true))
                      .getResult();
        // The gemm's epilogue, act(scale * y + residual) (no bias with a
        // scale), as elementwise ops the GEMV kernel computes after its
        // dots (codegen/EmitLinalg.cpp). Arguments: a, w, bias?,
        // residual?, scale?, zero?. A residual is added in the result's
        // type (as before activations existed; after a scale only in f32,
        // see candidate); a scale and an activation are computed in f32,
        // on the product (plus residual) rounded to its type.
        Location loc = gemm.getLoc();
        unsigned next = bias ? 3 : 2;
        Value residualArg = residual ? body->getArgument(next++) : Value();
        Value scaleArg = scale ? body->getArgument(next++) : Value();
        if (residualArg && !scaleArg)
          y = AddOp::create(b, loc, resultType, y, residualArg).getResult();
        if (scaleArg || act != GemmActivation::None) {
          Type wideType = cast<RankedTensorType>(resultType).clone(f32);
          if (y.getType() != wideType)
            y = CastOp::create(b, loc, wideType, y).getResult();
          if (scaleArg)
            y = MulOp::create(b, loc, wideType, y, scaleArg).getResult();
          if (residualArg && scaleArg)
            y = AddOp::create(b, loc, wideType, y, residualArg).getResult();
          if (act == GemmActivation::GeluTanh)
            y = GeluOp::create(b, loc, y, GeluApproximation::Tanh)
                    .getResult();
          if (act == GemmActivation::Relu)
            y = MaxOp::create(b, loc, wideType, y, body->getArgument(next))
                    .getResult();
          if (y.getType() != resultType)
            y = CastOp::create(b, loc, resultType, y).getResult();
        }
        YieldOp::create(b, gemm.getLoc(), y);
      }
      gemm.getResult().replaceAllUsesWith(fusion.getResult(0));
      gemm.erase();
      if (!readAsStored)
        w.erase();
    }
    mergeEpilogues(func);
    mergeSiblings(func);
    mergePrologues(func);
    transposeGemmWeights(func);
  }

  /// The gemms left (more rows than a GEMV takes: the b8 and prefill
  /// steps) read their single-use [K, N] weight transposed too, as
  /// cuBLASLt's `transpose_b` of a [N, K] weight (the layout of PyTorch's
  /// Linear). The module's weight layout keys on how a weight is read, so
  /// every step function of a model then shares the GEMV's copy instead of
  /// storing a second one ([K, N]) for cuBLASLt.
  static void transposeGemmWeights(func::FuncOp func) {
    SmallVector<GemmOp> gemms;
    func.walk([&](GemmOp g) {
      auto w = g.getB().getDefiningOp<WeightOp>();
      if (!g.hasBufferSemantics() && !g.getTransposeB() && w &&
          !w.getTransposed() && w->hasOneUse() && w.getType().getRank() == 2)
        gemms.push_back(g);
    });
    OpBuilder b(func.getContext());
    for (GemmOp gemm : gemms) {
      auto w = gemm.getB().getDefiningOp<WeightOp>();
      auto wt = w.getType();
      b.setInsertionPoint(w);
      auto tw = cast<WeightOp>(b.clone(*w));
      tw.setTransposed(true);
      tw.getResult().setType(RankedTensorType::get(
          {wt.getDimSize(1), wt.getDimSize(0)}, wt.getElementType()));
      gemm.getBMutable().assign(tw.getResult());
      gemm.setTransposeB(true);
      w.erase();
    }
  }

  /// Whether `op` is a fusion that codegen emits as a GEMV kernel.
  static bool isGemvFusion(Operation *op) {
    auto fusion = dyn_cast_or_null<FusionOp>(op);
    return fusion && analyzeGemvKernel(fusion.getBody().front());
  }
  /// The input row block of a GEMV fusion (the outer value its linears
  /// read), or null when the fusion has a prologue (its linears read the
  /// norm's result) or is no GEMV kernel.
  static Value gemvInput(FusionOp fusion) {
    std::optional<GemvKernel> k = analyzeGemvKernel(fusion.getBody().front());
    auto arg = k ? dyn_cast<BlockArgument>(k->input) : BlockArgument();
    return arg ? fusion.getInputs()[arg.getArgNumber()] : Value();
  }

  /// mergeFusions, kept if the merged fusion is a GEMV kernel.
  static FusionOp merge(ArrayRef<FusionOp> members, Operation *insertBefore) {
    return mergeFusions(members, insertBefore, isGemvFusion);
  }

  /// An elementwise fusion reading results of GEMV fusions that have no
  /// other reader, products of one input with the fusion's shape, takes
  /// them in as its prologue.
  static void mergeEpilogues(func::FuncOp func) {
    SmallVector<FusionOp> consumers;
    func.walk([&](FusionOp f) {
      Block &body = f.getBody().front();
      if (llvm::all_of(body.without_terminator(), [](Operation &op) {
            return isScalarMap(&op);
          }))
        consumers.push_back(f);
    });
    for (FusionOp consumer : consumers) {
      ArrayRef<int64_t> shape =
          cast<ShapedType>(consumer.getResult(0).getType()).getShape();
      SmallVector<FusionOp> producers;
      Value input;
      for (Value v : consumer.getInputs()) {
        auto producer = v.getDefiningOp<FusionOp>();
        if (!producer || !isGemvFusion(producer) ||
            producer->getNumResults() != 1 ||
            producer->getBlock() != consumer->getBlock() ||
            cast<ShapedType>(v.getType()).getShape() != shape ||
            llvm::any_of(v.getUsers(), [&](Operation *user) {
              return user != consumer;
            }) ||
            llvm::is_contained(producers, producer))
          continue;
        Value x = gemvInput(producer);
        if (!x || (input && x != input))
          continue;
        input = x;
        producers.push_back(producer);
      }
      if (producers.empty())
        continue;
      // Producers in block order, before the consumer.
      llvm::sort(producers, [](FusionOp a, FusionOp b) {
        return a->isBeforeInBlock(b);
      });
      SmallVector<FusionOp> members(producers);
      members.push_back(consumer);
      // Left as it was unless the whole is a GEMV kernel (the epilogue's
      // other arguments broadcast to the product's shape, and everything
      // it yields is computed from a product).
      merge(members, consumer);
    }
  }

  /// A GEMV fusion whose input is a norm over its last dim (a fusion of one
  /// kiln.rms_norm or kiln.layer_norm) that nothing else reads takes the
  /// norm in as its prologue.
  static void mergePrologues(func::FuncOp func) {
    SmallVector<FusionOp> gemvs;
    func.walk([&](FusionOp f) {
      if (isGemvFusion(f))
        gemvs.push_back(f);
    });
    for (FusionOp gemv : gemvs) {
      Value x = gemvInput(gemv);
      auto norm = x ? x.getDefiningOp<FusionOp>() : FusionOp();
      if (!norm || norm->getNumResults() != 1 ||
          norm->getBlock() != gemv->getBlock() ||
          llvm::any_of(x.getUsers(),
                       [&](Operation *user) { return user != gemv; }))
        continue;
      Block &nb = norm.getBody().front();
      if (std::next(nb.begin()) != nb.getTerminator()->getIterator() ||
          !isa<RmsNormOp, LayerNormOp>(nb.front()))
        continue;
      // merge() keeps everything as it was unless the whole is a GEMV
      // kernel (the norm over the last dim, small enough for shared memory).
      merge({norm, gemv}, gemv);
    }
  }

  /// GEMV fusions of one block that read the same input become one; a
  /// member joins when each of its inputs is a weight or constant (moved up
  /// if needed) or is defined before the first member.
  static void mergeSiblings(func::FuncOp func) {
    SmallVector<Block *> blocks;
    func.walk([&](Block *block) { blocks.push_back(block); });
    for (Block *block : blocks) {
      llvm::MapVector<Value, SmallVector<FusionOp>> byInput;
      for (Operation &op : *block)
        if (auto f = dyn_cast<FusionOp>(op))
          if (Value x = gemvInput(f))
            byInput[x].push_back(f);
      for (auto &[x, list] : byInput) {
        if (list.size() < 2)
          continue;
        FusionOp first = list.front();
        SmallVector<FusionOp> members = {first};
        for (FusionOp f : ArrayRef(list).drop_front()) {
          bool ok = llvm::all_of(f.getInputs(), [&](Value v) {
            Operation *def = v.getDefiningOp();
            return !def || isa<WeightOp, ConstantOp>(def) ||
                   (def->getBlock() == block && def->isBeforeInBlock(first)) ||
                   def->getBlock() != block;
          });
          if (ok)
            members.push_back(f);
        }
        if (members.size() < 2)
          continue;
        for (FusionOp f : members)
          for (Value v : f.getInputs())
            if (Operation *def = v.getDefiningOp();
                def && isa<WeightOp, ConstantOp>(def) &&
                def->getBlock() == block && first->isBeforeInBlock(def))
              def->moveBefore(first);
        merge(members, first);
      }
    }
  }
};

} // namespace

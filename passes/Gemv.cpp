//===- Gemv.cpp - kiln-gemv: decode products as kiln's own GEMV -----------===//
//
// cuBLASLt is far from the memory-bandwidth floor on the skinny products of
// a decode step (1 x 512 x 2048 reached 314 GB/s on an H200, 1 x 2048 x 2048
// 1263 GB/s; bench/RESULTS.md). This pass, on the fused level after
// kiln-lower-precision, rewrites each kiln.gemm that
//   - has at most kGemvMaxRows rows (all of A's dims but the last),
//   - reads a [K, N] kiln.weight as B that nothing else reads,
//   - has no bias, activation or scale, and no transpose_b (a residual is
//     kept as a kiln.add after the product, which kiln::gemv adds),
//   - is f32 or bf16 with K a multiple of the 16-byte vector,
// into a kernel of one kiln.linear with the weight transposed at compile
// time (`kiln.weight {transposed}`: reading returns [N, K]), which codegen
// emits as kiln::gemv: one warp streams one contiguous weight row per
// output column. Products with an epilogue stay cuBLASLt calls.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGEMV
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

struct Gemv : public kiln::impl::KilnGemvBase<Gemv> {
  using Base::Base;

  /// The gemm's weight when the gemm qualifies, else null.
  static WeightOp candidate(GemmOp gemm) {
    if (gemm.hasBufferSemantics() || gemm.getBias() ||
        gemm.getTransposeB() ||
        gemm.getActivation() != GemmActivation::None ||
        (gemm.getScale() && gemm.getScale()->convertToFloat() != 1.0f))
      return nullptr;
    auto w = gemm.getB().getDefiningOp<WeightOp>();
    if (!w || w.getTransposed() || !w->hasOneUse() ||
        w.getType().getRank() != 2)
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
      auto wt = w.getType();
      auto transposedType = RankedTensorType::get(
          {wt.getDimSize(1), wt.getDimSize(0)}, wt.getElementType());
      b.setInsertionPoint(w);
      auto tw = cast<WeightOp>(b.clone(*w));
      tw.setTransposed(true);
      tw.getResult().setType(transposedType);
      b.setInsertionPoint(gemm);
      Value a = gemm.getA(), residual = gemm.getResidual();
      Type resultType = gemm.getResult().getType();
      SmallVector<Value> inputs = {a, tw.getResult()};
      SmallVector<Type> argTypes = {a.getType(), transposedType};
      if (residual) {
        inputs.push_back(residual);
        argTypes.push_back(residual.getType());
      }
      auto fusion = FusionOp::create(b, gemm.getLoc(), TypeRange{resultType},
                                     inputs);
      {
        OpBuilder::InsertionGuard guard(b);
        SmallVector<Location> locs(argTypes.size(), gemm.getLoc());
        Block *body = b.createBlock(&fusion.getBody(), {}, argTypes, locs);
        Value y = LinearOp::create(b, gemm.getLoc(), resultType,
                                   body->getArgument(0), body->getArgument(1),
                                   Value(), b.getBoolAttr(true))
                      .getResult();
        // The residual epilogue: kiln::gemv adds it (codegen/EmitLinalg.cpp).
        if (residual)
          y = AddOp::create(b, gemm.getLoc(), resultType, y,
                            body->getArgument(2))
                  .getResult();
        YieldOp::create(b, gemm.getLoc(), y);
      }
      gemm.getResult().replaceAllUsesWith(fusion.getResult(0));
      gemm.erase();
      w.erase();
    }
  }
};

} // namespace

//===- OpBuildersTest.cpp - tests of kiln ops built through the C++ API ---===//
//
// Builds kiln ops with the generated `OpTy::create` builders, as passes and
// the importer do, and checks the inferred result types, the verifiers'
// diagnostics, the folders (through `OpBuilder::createOrFold`) and the
// canonicalisation patterns. Values come from `kiln.weight` ops so that no
// function is needed around them.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;

namespace {

/// A module to build into, a builder at its end and a diagnostic collector.
class KilnOpsTest : public ::testing::Test {
protected:
  KilnOpsTest() : builder(&context), loc(UnknownLoc::get(&context)) {
    context.loadDialect<kiln::KilnDialect, func::FuncDialect>();
    module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A tensor type of `shape` with element type `elt` (f32 by default).
  RankedTensorType tensor(ArrayRef<int64_t> shape, Type elt = {}) {
    return RankedTensorType::get(shape, elt ? elt : builder.getF32Type());
  }

  /// A `kiln.weight` of the given type, with a length that verifies; `val`
  /// takes a shape and an element type (f32 by default).
  Value weight(RankedTensorType type, StringRef name = "w") {
    int64_t bytes =
        type.getNumElements() *
        ((type.getElementType().getIntOrFloatBitWidth() + 7) / 8);
    return kiln::WeightOp::create(builder, loc, type, name, "w.bin", 0, bytes);
  }
  Value val(ArrayRef<int64_t> shape, Type elt = {}) {
    return weight(tensor(shape, elt));
  }

  /// Verifies `op`; returns the diagnostics it produced, joined by newlines.
  std::string verifyMessages(Operation *op) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      messages += diag.str() + "\n";
      return success();
    });
    (void)verify(op);
    return messages;
  }

  MLIRContext context;
  OpBuilder builder;
  Location loc;
  OwningOpRef<ModuleOp> module;
};

//===----------------------------------------------------------------------===//
// Result-type inference through the builders
//===----------------------------------------------------------------------===//

TEST_F(KilnOpsTest, BinaryOpsBroadcast) {
  Value a = val({2, 1}), b = val({1, 3});
  auto add = kiln::AddOp::create(builder, loc, a, b);
  EXPECT_EQ(add.getType(), tensor({2, 3}));
  auto mul = kiln::MulOp::create(builder, loc, val({1, 8, 64}), val({64}));
  EXPECT_EQ(mul.getType(), tensor({1, 8, 64}));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, ComparisonsYieldI1) {
  auto eq = kiln::EqualOp::create(builder, loc, val({4}, builder.getI64Type()),
                                  val({}, builder.getI64Type()));
  EXPECT_EQ(eq.getType(), tensor({4}, builder.getI1Type()));
  auto lt = kiln::LessOp::create(builder, loc, val({2, 3}), val({3}));
  EXPECT_EQ(lt.getType(), tensor({2, 3}, builder.getI1Type()));
}

TEST_F(KilnOpsTest, WhereBroadcastsAllThree) {
  Value cond = val({1, 1, 8, 8}, builder.getI1Type());
  auto where = kiln::WhereOp::create(builder, loc, cond, val({}),
                                     val({1, 4, 8, 8}));
  EXPECT_EQ(where.getType(), tensor({1, 4, 8, 8}));
}

TEST_F(KilnOpsTest, MatmulBroadcastsBatchDims) {
  auto mm = kiln::MatmulOp::create(builder, loc, val({1, 4, 8, 16}),
                                   val({16, 32}));
  EXPECT_EQ(mm.getType(), tensor({1, 4, 8, 32}));
  auto bmm = kiln::MatmulOp::create(builder, loc, val({3, 1, 2, 5}),
                                    val({4, 5, 7}));
  EXPECT_EQ(bmm.getType(), tensor({3, 4, 2, 7}));
}

TEST_F(KilnOpsTest, LinearWithAndWithoutBias) {
  Value x = val({1, 8, 64});
  auto plain = kiln::LinearOp::create(builder, loc, x, val({64, 192}),
                                      /*bias=*/Value());
  EXPECT_EQ(plain.getType(), tensor({1, 8, 192}));
  EXPECT_FALSE(plain.getBias());
  EXPECT_FALSE(plain.getTransposeWeight());

  auto biased = kiln::LinearOp::create(builder, loc, x, val({192, 64}),
                                       val({192}),
                                       /*transpose_weight=*/true);
  EXPECT_EQ(biased.getType(), tensor({1, 8, 192}));
  EXPECT_TRUE(biased.getBias());
  EXPECT_TRUE(biased.getTransposeWeight());
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, Reductions) {
  Value x = val({2, 8, 64});
  auto keep = kiln::ReduceSumOp::create(builder, loc, x, ArrayRef<int64_t>{2});
  EXPECT_EQ(keep.getType(), tensor({2, 8, 1}));
  auto drop = kiln::ReduceMeanOp::create(builder, loc, x,
                                         ArrayRef<int64_t>{0, 2},
                                         /*keepdims=*/false);
  EXPECT_EQ(drop.getType(), tensor({8}));
  auto all = kiln::ReduceMaxOp::create(builder, loc, x,
                                       ArrayRef<int64_t>{2, 0, 1}, false);
  EXPECT_EQ(all.getType(), tensor({}));
}

TEST_F(KilnOpsTest, NormsKeepTheInputType) {
  Value x = val({1, 8, 64});
  auto ln = kiln::LayerNormOp::create(builder, loc, x, val({64}),
                                      val({64}), /*axis=*/2,
                                      llvm::APFloat(1e-5f));
  EXPECT_EQ(ln.getType(), tensor({1, 8, 64}));
  auto rms = kiln::RmsNormOp::create(builder, loc, x, val({64}), 2,
                                     llvm::APFloat(1e-6f));
  EXPECT_EQ(rms.getType(), tensor({1, 8, 64}));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, DataMovement) {
  Value table = val({512, 64});
  Value ids = val({1, 8}, builder.getI64Type());
  EXPECT_EQ(kiln::GatherOp::create(builder, loc, table, ids).getType(),
            tensor({1, 8, 64}));
  EXPECT_EQ(kiln::GatherOp::create(builder, loc, table, ids, 1).getType(),
            tensor({512, 1, 8}));

  Value x = val({1, 8, 4, 16});
  EXPECT_EQ(kiln::TransposeOp::create(builder, loc, x,
                                      ArrayRef<int64_t>{0, 2, 1, 3})
                .getType(),
            tensor({1, 4, 8, 16}));

  Value past = val({1, 2, 7, 16}), now = val({1, 2, 1, 16});
  EXPECT_EQ(kiln::ConcatOp::create(builder, loc, ValueRange{past, now}, 2)
                .getType(),
            tensor({1, 2, 8, 16}));

  Value data = val({4, 8});
  Value idx = val({2, 1}, builder.getI32Type());
  EXPECT_EQ(kiln::ScatterNDOp::create(builder, loc, data, idx, val({2, 8}))
                .getType(),
            tensor({4, 8}));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, AttentionGroupedQuery) {
  Value q = val({2, 8, 1, 64}), k = val({2, 2, 128, 64}),
        v = val({2, 2, 128, 32});
  auto attn = kiln::AttentionOp::create(builder, loc, q, k, v, /*mask=*/Value(),
                                        llvm::APFloat(0.125f),
                                        /*causal=*/true);
  EXPECT_EQ(attn.getType(), tensor({2, 8, 1, 32}));
  EXPECT_TRUE(attn.getCausal());

  Value mask = val({1, 1, 1, 128}, builder.getI1Type());
  auto masked = kiln::AttentionOp::create(builder, loc, q, k, v, mask,
                                          llvm::APFloat(0.125f));
  EXPECT_EQ(masked.getType(), tensor({2, 8, 1, 32}));
  EXPECT_FALSE(masked.getCausal());
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(KilnOpsTest, RotaryKeepsTheInputType) {
  Value x = val({1, 4, 8, 16}, builder.getBF16Type());
  Value cs = val({1, 8, 4}, builder.getBF16Type());
  auto rot = kiln::RotaryOp::create(builder, loc, x, cs, cs, true);
  EXPECT_EQ(rot.getType(), tensor({1, 4, 8, 16}, builder.getBF16Type()));
}

TEST_F(KilnOpsTest, ConstantTakesItsValuesType) {
  auto type = tensor({4}, builder.getI64Type());
  auto attr = DenseElementsAttr::get(type, ArrayRef<int64_t>{1, 8, 4, 16});
  auto c = kiln::ConstantOp::create(builder, loc, attr);
  EXPECT_EQ(c.getType(), type);
}

TEST_F(KilnOpsTest, GeluApproximationIsAnEnum) {
  Value x = val({2, 4});
  auto exact = kiln::GeluOp::create(builder, loc, x.getType(), x);
  EXPECT_EQ(exact.getApproximate(), kiln::GeluApproximation::None);
  auto tanh = kiln::GeluOp::create(builder, loc, x.getType(), x,
                                   kiln::GeluApproximation::Tanh);
  EXPECT_EQ(tanh.getApproximate(), kiln::GeluApproximation::Tanh);
  EXPECT_TRUE(succeeded(verify(*module)));
  // The case names are the ONNX spellings, the only strings left.
  EXPECT_EQ(kiln::symbolizeGeluApproximation("tanh"),
            kiln::GeluApproximation::Tanh);
  EXPECT_EQ(kiln::symbolizeGeluApproximation("fast"), std::nullopt);
  EXPECT_EQ(kiln::stringifyGeluApproximation(kiln::GeluApproximation::None),
            "none");
  std::string text;
  llvm::raw_string_ostream os(text);
  tanh->print(os);
  EXPECT_NE(text.find("kiln.gelu %0 approximate<tanh> : tensor<2x4xf32>"),
            std::string::npos)
      << text;
}

TEST_F(KilnOpsTest, DiscardableAttributeNames) {
  EXPECT_EQ(kiln::KilnDialect::getNameAttrName(), "kiln.name");
  EXPECT_EQ(kiln::KilnDialect::getArenaAttrName(), "kiln.arena");
  EXPECT_EQ(kiln::KilnDialect::getArenaBytesAttrName(), "kiln.arena_bytes");
  // Each belongs to the kiln dialect's namespace.
  for (StringRef name : {kiln::KilnDialect::getNameAttrName(),
                         kiln::KilnDialect::getArenaAttrName(),
                         kiln::KilnDialect::getArenaBytesAttrName()})
    EXPECT_EQ(name.split('.').first, kiln::KilnDialect::getDialectNamespace());
}

//===----------------------------------------------------------------------===//
// Verifier diagnostics on ops built with explicit (wrong) types
//===----------------------------------------------------------------------===//

TEST_F(KilnOpsTest, WrongExplicitResultTypeIsDiagnosed) {
  auto add = kiln::AddOp::create(builder, loc, tensor({3, 2}), val({2, 1}),
                                 val({1, 3}));
  std::string msg = verifyMessages(add);
  EXPECT_NE(msg.find("inferred type(s) 'tensor<2x3xf32>' are incompatible"),
            std::string::npos)
      << msg;
}

TEST_F(KilnOpsTest, InferenceFailureIsDiagnosed) {
  auto mm = kiln::MatmulOp::create(builder, loc, tensor({2, 2}), val({2, 4}),
                                   val({3, 2}));
  std::string msg = verifyMessages(mm);
  EXPECT_NE(msg.find("contraction dims differ: lhs K = 4, rhs K = 3"),
            std::string::npos)
      << msg;
}

TEST_F(KilnOpsTest, WeightVerifier) {
  auto type = tensor({4});
  auto badLength = kiln::WeightOp::create(builder, loc, type, "w", "w.bin", 0, 8);
  EXPECT_NE(verifyMessages(badLength)
                .find("length 8 does not match the tensor's 16 bytes"),
            std::string::npos);
  // The builder takes uint64_t; a negative offset must still be rejected.
  auto badOffset = kiln::WeightOp::create(builder, loc, type, "w", "w.bin",
                                          static_cast<uint64_t>(-64), 16);
  EXPECT_NE(verifyMessages(badOffset)
                .find("offset must be non-negative, got -64"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Folders and canonicalisation patterns
//===----------------------------------------------------------------------===//

TEST_F(KilnOpsTest, IdentityOpsFold) {
  Value x = val({2, 3});
  EXPECT_EQ(builder.createOrFold<kiln::TransposeOp>(loc, x,
                                                    ArrayRef<int64_t>{0, 1}),
            x);
  EXPECT_EQ(builder.createOrFold<kiln::CastOp>(loc, tensor({2, 3}), x), x);
  EXPECT_EQ(builder.createOrFold<kiln::ReshapeOp>(loc, tensor({2, 3}), x), x);
  EXPECT_EQ(builder.createOrFold<kiln::ExpandOp>(loc, tensor({2, 3}), x), x);
  EXPECT_EQ(builder.createOrFold<kiln::SliceOp>(loc, tensor({2, 3}), x,
                                                ArrayRef<int64_t>{0, 0},
                                                ArrayRef<int64_t>{1, 1}),
            x);
  // Not identities.
  EXPECT_NE(builder.createOrFold<kiln::SliceOp>(loc, tensor({2, 3}), x,
                                                ArrayRef<int64_t>{1, 0},
                                                ArrayRef<int64_t>{-1, 1}),
            x);
  EXPECT_NE(builder.createOrFold<kiln::CastOp>(
                loc, tensor({2, 3}, builder.getF16Type()), x),
            x);
}

TEST_F(KilnOpsTest, ReshapeOfConstantFoldsToConstant) {
  auto attr = DenseElementsAttr::get(tensor({6}, builder.getI64Type()),
                                     ArrayRef<int64_t>{1, 2, 3, 4, 5, 6});
  Value c = kiln::ConstantOp::create(builder, loc, attr);
  Value r = builder.createOrFold<kiln::ReshapeOp>(
      loc, tensor({2, 3}, builder.getI64Type()), c);
  auto folded = r.getDefiningOp<kiln::ConstantOp>();
  ASSERT_TRUE(folded);
  auto values = cast<DenseElementsAttr>(folded.getValue());
  EXPECT_EQ(values.getType(), tensor({2, 3}, builder.getI64Type()));
  EXPECT_EQ(values.getValues<int64_t>()[4], 5);
}

TEST_F(KilnOpsTest, CanonicalizationComposesChains) {
  // All kiln ops are pure: the chain must feed a return to stay alive.
  auto func = func::FuncOp::create(
      builder, loc, "f", builder.getFunctionType({}, {tensor({4, 6})}));
  builder.setInsertionPointToEnd(func.addEntryBlock());
  Value x = val({2, 3, 4});
  Value t1 = kiln::TransposeOp::create(builder, loc, x,
                                       ArrayRef<int64_t>{1, 2, 0});
  Value t2 = kiln::TransposeOp::create(builder, loc, t1,
                                       ArrayRef<int64_t>{1, 2, 0});
  Value r1 = kiln::ReshapeOp::create(builder, loc, tensor({24}), t2);
  Value r2 = kiln::ReshapeOp::create(builder, loc, tensor({4, 6}), r1);
  auto ret = func::ReturnOp::create(builder, loc, r2);

  RewritePatternSet patterns(&context);
  kiln::TransposeOp::getCanonicalizationPatterns(patterns, &context);
  kiln::ReshapeOp::getCanonicalizationPatterns(patterns, &context);
  ASSERT_TRUE(succeeded(applyPatternsGreedily(*module, std::move(patterns))));

  // return(reshape(transpose(x, [2, 0, 1]))): one op per chain.
  auto reshape = ret.getOperand(0).getDefiningOp<kiln::ReshapeOp>();
  ASSERT_TRUE(reshape);
  EXPECT_EQ(reshape.getType(), tensor({4, 6}));
  auto transpose = reshape.getInput().getDefiningOp<kiln::TransposeOp>();
  ASSERT_TRUE(transpose);
  EXPECT_EQ(transpose.getInput(), x);
  EXPECT_EQ(transpose.getPerm(), ArrayRef<int64_t>({2, 0, 1}));
  EXPECT_EQ(transpose.getType(), tensor({4, 2, 3}));
  // weight, transpose, reshape, return.
  EXPECT_EQ(func.getBody().front().getOperations().size(), 4u);
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

TEST_F(KilnOpsTest, ParsesAndVerifiesText) {
  const char *ir = R"mlir(
    func.func @f(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>) -> tensor<1x8x64xf32> {
      %0 = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
      return %0 : tensor<1x8x64xf32>
    }
  )mlir";
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(ir, &context);
  ASSERT_TRUE(parsed);
  auto func = parsed->lookupSymbol<func::FuncOp>("f");
  ASSERT_TRUE(func);
  auto norm = cast<kiln::RmsNormOp>(&func.getBody().front().front());
  EXPECT_EQ(norm.getAxis(), 2u);
  EXPECT_FLOAT_EQ(norm.getEpsilon().convertToFloat(), 1e-6f);
}

TEST_F(KilnOpsTest, ParserRejectsInvalidOps) {
  const char *ir = R"mlir(
    func.func @f(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
      %0 = kiln.softmax %x {axis = -1 : i64} : tensor<2x4xf32>
      return %0 : tensor<2x4xf32>
    }
  )mlir";
  std::string messages;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    messages += diag.str() + "\n";
    return success();
  });
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(ir, &context);
  EXPECT_FALSE(parsed);
  EXPECT_NE(messages.find("axis -1 is out of range [0, 2)"), std::string::npos)
      << messages;
}

} // namespace

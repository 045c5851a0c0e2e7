//===- MemoryPlanTest.cpp - property tests of the arena planner -----------===//
//
// Randomized tests of the memory planner and its verifier. On random sets of
// live intervals (fixed seed, so every run sees the same sets) every
// placement strategy must give a plan that kiln::checkPlacement accepts, an
// arena no smaller than kiln::arenaLowerBound and no larger than the sum of
// the sizes, and the same plan twice; deliberately broken plans (a value
// moved onto one live at the same time, off its alignment, past the arena,
// or left unplanned) must be refused. The same properties are then checked
// end to end on random kiln functions (exps and reshapes, so with alias
// chains and writes in place) through MemoryPlan::compute, apply and
// kiln::verifyMemoryPlan (the kiln-verify-plan pass). MemoryPlanPropertyTest
// checks the placement core with storage classes.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <random>
#include <string>

using namespace mlir;
using namespace kiln;

namespace {

constexpr int64_t kAlign = kArenaAlignment;

/// A uniformly random integer in [lo, hi].
int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// A random interval set: a few intervals live throughout (like arguments),
/// the rest with random starts and lengths; sizes mixed from tiny (not a
/// multiple of the alignment), medium, large and the odd zero.
SmallVector<LiveInterval> randomIntervals(std::mt19937_64 &rng) {
  int64_t points = uniform(rng, 1, 120);
  int64_t count = uniform(rng, 1, 90);
  SmallVector<LiveInterval> intervals;
  for (int64_t i = 0; i < count; ++i) {
    LiveInterval interval;
    int64_t kind = uniform(rng, 0, 99);
    if (kind < 5)
      interval.size = 0;
    else if (kind < 35)
      interval.size = uniform(rng, 1, 300);
    else if (kind < 80)
      interval.size = uniform(rng, 1, 1 << 16);
    else
      interval.size = kAlign * uniform(rng, 1, 4096);
    if (uniform(rng, 0, 9) == 0) {
      interval.first = 0;
      interval.last = points;
    } else {
      interval.first = uniform(rng, 0, points);
      int64_t span = uniform(rng, 0, 3) == 0 ? points : 6;
      interval.last = std::min(points, interval.first + uniform(rng, 0, span));
    }
    intervals.push_back(interval);
  }
  return intervals;
}

/// The placement's offsets as the verifier's optional offsets.
SmallVector<std::optional<int64_t>> asOptional(const Placement &placement) {
  return SmallVector<std::optional<int64_t>>(placement.offsets.begin(),
                                             placement.offsets.end());
}

/// True if `violations` holds one of `kind` for `index` (and `other`, for an
/// overlap).
bool has(ArrayRef<PlacementViolation> violations, PlacementViolation::Kind kind,
         unsigned index, unsigned other = 0) {
  return llvm::any_of(violations, [&](const PlacementViolation &v) {
    return v.kind == kind && v.index == index &&
           (kind != PlacementViolation::Kind::Overlap || v.other == other);
  });
}

TEST(MemoryPlanPlacement, LowerBoundAndNaive) {
  // Live at point 1: 300 (-> 512) + 256; at point 2: 256 + 1 (-> 256).
  SmallVector<LiveInterval> intervals = {
      {300, 0, 1}, {256, 1, 2}, {1, 2, 3}, {0, 0, 3}};
  EXPECT_EQ(arenaLowerBound(intervals, kAlign), 768);
  EXPECT_EQ(arenaNaiveBytes(intervals, kAlign), 512 + 256 + 256);
  EXPECT_EQ(arenaLowerBound({}, kAlign), 0);
  // Touching intervals ([0,1] and [1,2]) are live together at point 1;
  // [0,0] and [1,1] never are.
  EXPECT_EQ(arenaLowerBound({{256, 0, 1}, {256, 1, 2}}, kAlign), 512);
  EXPECT_EQ(arenaLowerBound({{256, 0, 0}, {256, 1, 1}}, kAlign), 256);
}

TEST(MemoryPlanPlacement, GreedyBySizeBeatsProgramOrder) {
  // In program order the 512-byte value finds the 256 bytes freed by the
  // first value too small and goes on top (1024 bytes); placed first, as
  // greedy by size does, it packs to the lower bound (768 bytes).
  SmallVector<LiveInterval> intervals = {{256, 0, 1}, {256, 1, 2}, {512, 2, 3}};
  EXPECT_EQ(arenaLowerBound(intervals, kAlign), 768);
  Placement old = placeIntervals(intervals, kAlign, kProgramOrderFirstFit);
  EXPECT_EQ(old.arenaBytes, 1024);
  EXPECT_EQ(old.offsets, (SmallVector<int64_t>{0, 256, 512}));
  Placement bySize = placeIntervals(intervals, kAlign,
                                    {PlacementOrder::Size, PlacementFit::Best});
  EXPECT_EQ(bySize.arenaBytes, 768);
  EXPECT_EQ(bySize.offsets, (SmallVector<int64_t>{0, 512, 0}));
  Placement best = placeIntervalsBest(intervals, kAlign);
  EXPECT_EQ(best.arenaBytes, 768);
  EXPECT_EQ(best.strategy.name(), "size/best-fit");
}

TEST(MemoryPlanPlacement, BestFitTakesTheTightestGap) {
  // At point 2 the free gaps are [256, 1024) (768 bytes, left by a dead
  // value) and [1280, 1536) (256 bytes); the last value (256 bytes) goes to
  // the tight one with best fit, to the low one with first fit.
  SmallVector<LiveInterval> intervals = {{256, 0, 2}, {768, 0, 1}, {256, 0, 2},
                                         {256, 0, 1}, {256, 0, 2}, {256, 2, 2}};
  Placement first = placeIntervals(
      intervals, kAlign, {PlacementOrder::Program, PlacementFit::First});
  Placement best = placeIntervals(
      intervals, kAlign, {PlacementOrder::Program, PlacementFit::Best});
  EXPECT_EQ(first.offsets,
            (SmallVector<int64_t>{0, 256, 1024, 1280, 1536, 256}));
  EXPECT_EQ(best.offsets,
            (SmallVector<int64_t>{0, 256, 1024, 1280, 1536, 1280}));
}

TEST(MemoryPlanPlacement, ZeroSizeAndEmpty) {
  Placement empty = placeIntervalsBest({}, kAlign);
  EXPECT_EQ(empty.arenaBytes, 0);
  EXPECT_TRUE(empty.offsets.empty());
  Placement zeros = placeIntervalsBest({{0, 0, 5}, {0, 1, 2}}, kAlign);
  EXPECT_EQ(zeros.arenaBytes, 0);
  EXPECT_EQ(zeros.offsets, (SmallVector<int64_t>{0, 0}));
  EXPECT_TRUE(
      checkPlacement({{0, 0, 5}, {0, 1, 2}}, asOptional(zeros), 0, kAlign)
          .empty());
}

TEST(MemoryPlanPlacement, RandomIntervalsProperties) {
  std::mt19937_64 rng(0x6b696c6e); // "kiln"; fixed: every run, same sets.
  using Kind = PlacementViolation::Kind;
  int brokenOverlaps = 0;
  double worstRatio = 1.0;
  for (int trial = 0; trial < 400; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    SmallVector<LiveInterval> intervals = randomIntervals(rng);
    int64_t lowerBound = arenaLowerBound(intervals, kAlign);
    int64_t naive = arenaNaiveBytes(intervals, kAlign);
    ASSERT_LE(lowerBound, naive);

    Placement best = placeIntervalsBest(intervals, kAlign);
    for (PlacementStrategy strategy : placementStrategies()) {
      SCOPED_TRACE(strategy.name());
      Placement placement = placeIntervals(intervals, kAlign, strategy);
      ASSERT_EQ(placement.offsets.size(), intervals.size());
      EXPECT_TRUE(checkPlacement(intervals, asOptional(placement),
                                 placement.arenaBytes, kAlign)
                      .empty());
      EXPECT_EQ(placement.arenaBytes % kAlign, 0);
      EXPECT_GE(placement.arenaBytes, lowerBound);
      EXPECT_LE(placement.arenaBytes, naive);
      EXPECT_LE(best.arenaBytes, placement.arenaBytes);
      // Deterministic: the same input gives the same plan.
      EXPECT_EQ(placeIntervals(intervals, kAlign, strategy).offsets,
                placement.offsets);
    }
    EXPECT_TRUE(
        checkPlacement(intervals, asOptional(best), best.arenaBytes, kAlign)
            .empty());
    if (lowerBound > 0)
      worstRatio = std::max(worstRatio, static_cast<double>(best.arenaBytes) /
                                            static_cast<double>(lowerBound));

    // Broken plans. Move a value onto another one live at the same time.
    SmallVector<std::pair<unsigned, unsigned>> pairs;
    for (unsigned i = 0; i < intervals.size(); ++i)
      for (unsigned j = i + 1; j < intervals.size(); ++j)
        if (intervals[i].size > 0 && intervals[j].size > 0 &&
            intervals[i].overlaps(intervals[j]))
          pairs.push_back({i, j});
    if (!pairs.empty()) {
      auto [i, j] = pairs[uniform(rng, 0, pairs.size() - 1)];
      bool moveLater = uniform(rng, 0, 1) == 1;
      unsigned moved = moveLater ? j : i, onto = moveLater ? i : j;
      auto offsets = asOptional(best);
      offsets[moved] = offsets[onto];
      SmallVector<PlacementViolation> violations =
          checkPlacement(intervals, offsets, best.arenaBytes, kAlign);
      EXPECT_TRUE(has(violations, Kind::Overlap, j, i));
      ++brokenOverlaps;
    }
    // Off the alignment, past the arena, unplanned.
    unsigned victim = uniform(rng, 0, intervals.size() - 1);
    auto offsets = asOptional(best);
    offsets[victim] = *offsets[victim] + kAlign / 2;
    EXPECT_TRUE(has(
        checkPlacement(intervals, offsets, best.arenaBytes + kAlign, kAlign),
        Kind::Misaligned, victim));
    if (intervals[victim].size > 0) {
      offsets = asOptional(best);
      offsets[victim] = best.arenaBytes;
      EXPECT_TRUE(
          has(checkPlacement(intervals, offsets, best.arenaBytes, kAlign),
              Kind::OutOfBounds, victim));
    }
    offsets = asOptional(best);
    offsets[victim] = std::nullopt;
    EXPECT_TRUE(has(checkPlacement(intervals, offsets, best.arenaBytes, kAlign),
                    Kind::Unplanned, victim));
  }
  // The generator must actually produce conflicting values.
  EXPECT_GT(brokenOverlaps, 300);
  RecordProperty("worst_arena_over_lower_bound", std::to_string(worstRatio));
}

TEST(MemoryPlanPlacement, HostileOffsetsDoNotOverflow) {
  using Kind = PlacementViolation::Kind;
  // The highest aligned offset plus 512 bytes is past INT64_MAX.
  SmallVector<LiveInterval> intervals = {{512, 0, 1}, {512, 0, 1}};
  SmallVector<std::optional<int64_t>> offsets = {
      INT64_MAX - INT64_MAX % kAlign, INT64_MAX - INT64_MAX % kAlign};
  SmallVector<PlacementViolation> violations =
      checkPlacement(intervals, offsets, INT64_MAX, kAlign);
  EXPECT_TRUE(has(violations, Kind::OutOfBounds, 0));
  EXPECT_TRUE(has(violations, Kind::Overlap, 1, 0));
}

TEST(MemoryPlanPlacement, StorageClassesAllowAliases) {
  using Kind = PlacementViolation::Kind;
  // 0 and its alias 1 share bytes; 2 is live with both.
  SmallVector<LiveInterval> intervals = {{64, 0, 2}, {64, 1, 3}, {64, 2, 3}};
  SmallVector<unsigned> storage = {0, 0, 2};
  SmallVector<std::optional<int64_t>> offsets = {0, 0, 256};
  EXPECT_TRUE(checkPlacement(intervals, offsets, 512, kAlign, storage).empty());
  // Without the classes, the same bytes are an overlap.
  EXPECT_TRUE(has(checkPlacement(intervals, offsets, 512, kAlign),
                  Kind::Overlap, 1, 0));
  // A value outside the class on those bytes is refused against both.
  offsets = {0, 0, 0};
  SmallVector<PlacementViolation> violations =
      checkPlacement(intervals, offsets, 512, kAlign, storage);
  EXPECT_TRUE(has(violations, Kind::Overlap, 2, 0));
  EXPECT_TRUE(has(violations, Kind::Overlap, 2, 1));
  EXPECT_EQ(violations.size(), 2u);
  // One class but not the same bytes (another offset, another size): an
  // ordinary pair.
  EXPECT_TRUE(
      has(checkPlacement(intervals, {0, 32, 512}, 1024, kAlign, storage),
          Kind::Overlap, 1, 0));
  intervals[1].size = 32;
  EXPECT_TRUE(has(checkPlacement(intervals, {0, 0, 512}, 1024, kAlign, storage),
                  Kind::Overlap, 1, 0));
}

/// Random kiln functions through the IR path: parse, plan, verify, break.
class MemoryPlanIRTest : public ::testing::Test {
protected:
  MemoryPlanIRTest() { context.loadDialect<KilnDialect, func::FuncDialect>(); }

  /// A function of `args` arguments and `ops` kiln.exp or kiln.reshape ops
  /// (one in four a reshape, which the planner aliases), each reading a
  /// random earlier value (so lifetimes are random), returning the last
  /// result and a few random others (views of arguments and of each other
  /// among them).
  std::string randomFunction(std::mt19937_64 &rng, int args, int ops) {
    static const int64_t sizes[] = {1, 7, 64, 100, 1000, 4096, 20000};
    // A reshape flips `tensor<NxT>` and `tensor<1xNxT>`.
    auto reshaped = [](StringRef type) {
      if (type.starts_with("tensor<1x"))
        return "tensor<" + type.drop_front(9).str();
      return "tensor<1x" + type.drop_front(7).str();
    };
    SmallVector<std::string> types;
    std::string body, signature;
    for (int i = 0; i < args; ++i) {
      types.push_back("tensor<" + std::to_string(sizes[uniform(rng, 0, 6)]) +
                      "xf32>");
      signature += (i ? ", %v" : "%v") + std::to_string(i) + ": " + types[i];
    }
    for (int i = 0; i < ops; ++i) {
      // Mostly a recent value (short lifetimes), sometimes any earlier one.
      int64_t count = static_cast<int64_t>(types.size());
      int64_t from = uniform(rng, std::max<int64_t>(0, count - 8), count - 1);
      if (uniform(rng, 0, 4) == 0)
        from = uniform(rng, 0, count - 1);
      std::string name = "  %v" + std::to_string(types.size());
      if (uniform(rng, 0, 3) == 0) {
        std::string to = reshaped(types[from]);
        body += name + " = kiln.reshape %v" + std::to_string(from) + " : " +
                types[from] + " -> " + to + "\n";
        types.push_back(to);
        continue;
      }
      body += name + " = kiln.exp %v" + std::to_string(from) + " : " +
              types[from] + "\n";
      types.push_back(types[from]);
    }
    SmallVector<int64_t> returned = {static_cast<int64_t>(types.size()) - 1};
    for (int i = 0; i < 3; ++i)
      returned.push_back(uniform(rng, args, types.size() - 1));
    std::string values, resultTypes;
    for (auto [i, r] : llvm::enumerate(returned)) {
      values += (i ? ", %v" : "%v") + std::to_string(r);
      resultTypes += (i ? ", " : "") + types[r];
    }
    return "func.func @f(" + signature + ") -> (" + resultTypes + ") {\n" +
           body + "  return " + values + " : " + resultTypes + "\n}\n";
  }

  MLIRContext context;
};

TEST_F(MemoryPlanIRTest, RandomFunctionsPlanVerifyAndBreak) {
  std::mt19937_64 rng(20261122);
  int broken = 0;
  int64_t totalAliases = 0, totalInPlace = 0;
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::string text =
        randomFunction(rng, uniform(rng, 1, 4), uniform(rng, 2, 80));
    SCOPED_TRACE(text);
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    ASSERT_TRUE(module);
    auto func = cast<func::FuncOp>(module->getBody()->front());

    FailureOr<MemoryPlan> plan = MemoryPlan::compute(func);
    ASSERT_TRUE(succeeded(plan));
    plan->apply(func);
    ASSERT_TRUE(succeeded(verifyMemoryPlan(func)));
    SmallVector<LiveInterval> intervals = plan->storageIntervals();
    EXPECT_GE(*plan->arenaBytes(), arenaLowerBound(intervals, kAlign));
    // Every reshape of an arena value is an alias of its root, unless it is
    // returned; an alias never owns bytes of its own.
    int64_t aliases = 0;
    for (const PlannedBuffer &buffer : plan->buffers()) {
      if (!buffer.aliasOf)
        continue;
      ++aliases;
      const PlannedBuffer &root = plan->buffers()[*buffer.aliasOf];
      EXPECT_FALSE(root.aliasOf);
      EXPECT_EQ(buffer.offset, root.offset);
      EXPECT_TRUE(isa<ReshapeOp>(buffer.value.getDefiningOp()));
    }
    for (Operation &op : func.getBody().front()) {
      if (isa<ReshapeOp>(op) && !plan->isAlias(op.getResult(0))) {
        EXPECT_TRUE(llvm::is_contained(
            func.getBody().front().getTerminator()->getOperands(),
            op.getResult(0)));
      }
    }
    totalAliases += aliases;
    // A write in place is an exp over its operand's storage, which nothing
    // reads after the exp and which holds no argument; it has a kernel (it
    // is no alias) and no bytes of its own.
    int64_t inPlace = 0;
    for (const PlannedBuffer &buffer : plan->buffers()) {
      if (!buffer.inPlaceOf)
        continue;
      ++inPlace;
      EXPECT_FALSE(buffer.aliasOf);
      Operation *op = buffer.value.getDefiningOp();
      ASSERT_TRUE(isa<ExpOp>(op));
      ASSERT_EQ(buffer.inPlaceOperand, 0u);
      const PlannedBuffer *operand = plan->lookup(op->getOperand(0));
      ASSERT_TRUE(operand);
      EXPECT_EQ(operand->offset, buffer.offset);
      const PlannedBuffer &root = plan->buffers()[*buffer.inPlaceOf];
      EXPECT_FALSE(root.storageOwner());
      EXPECT_FALSE(isa<BlockArgument>(root.value));
      EXPECT_EQ(operand->lastLive, buffer.firstLive);
      for (const PlannedBuffer &other : plan->buffers()) {
        if (other.value != buffer.value && other.storageOwner() &&
            other.storageOwner() == buffer.inPlaceOf &&
            other.firstLive < buffer.firstLive) {
          EXPECT_LE(other.lastLive, buffer.firstLive);
        }
      }
    }
    totalInPlace += inPlace;
    EXPECT_EQ(static_cast<int64_t>(intervals.size() + aliases + inPlace),
              static_cast<int64_t>(plan->buffers().size()));
    EXPECT_EQ(*plan->arenaBytes(),
              placeIntervalsBest(intervals, kAlign).arenaBytes);

    // The attributes read back give the same plan, and the report agrees.
    FailureOr<MemoryPlan> reread = MemoryPlan::fromAttributes(func);
    ASSERT_TRUE(succeeded(reread));
    for (auto [a, b] : llvm::zip_equal(plan->buffers(), reread->buffers())) {
      EXPECT_EQ(a.offset, b.offset);
      EXPECT_EQ(a.aliasOf, b.aliasOf);
      EXPECT_EQ(a.inPlaceOf, b.inPlaceOf);
      EXPECT_EQ(a.inPlaceOperand, b.inPlaceOperand);
    }
    FailureOr<MemoryReport> report = computeMemoryReport(func);
    ASSERT_TRUE(succeeded(report));
    EXPECT_EQ(report->arenaBytes, *plan->arenaBytes());
    EXPECT_EQ(report->arenaLowerBoundBytes, arenaLowerBound(intervals, kAlign));
    EXPECT_EQ(report->values, static_cast<int64_t>(plan->buffers().size()));
    EXPECT_EQ(report->aliases, aliases);
    EXPECT_EQ(report->inPlace, inPlace);
    EXPECT_EQ(report->weightsBytes, 0);

    // Move one op result onto a value live at the same time and not of its
    // storage (nor the storage a reshape would alias there): refused, at
    // the moved op, naming the overlap.
    ArrayRef<PlannedBuffer> buffers = plan->buffers();
    SmallVector<unsigned> classes = plan->storageClasses();
    auto viewClass = [&](Value v) -> std::optional<unsigned> {
      Value source = viewSource(v.getDefiningOp());
      const PlannedBuffer *b = source ? plan->lookup(source) : nullptr;
      if (!b)
        return std::nullopt;
      return classes[b - buffers.data()];
    };
    std::optional<std::pair<unsigned, unsigned>> pair;
    for (unsigned j = 0; j < buffers.size() && !pair; ++j)
      for (unsigned i = 0; i < j && !pair; ++i)
        if (isa<OpResult>(buffers[j].value) && classes[i] != classes[j] &&
            viewClass(buffers[j].value) != classes[i] &&
            buffers[i].liveOverlaps(buffers[j]) && uniform(rng, 0, 2) == 0)
          pair = {i, j};
    if (!pair)
      continue;
    Operation *moved = buffers[pair->second].value.getDefiningOp();
    moved->setAttr(kArenaAttrName, Builder(&context).getDenseI64ArrayAttr(
                                       {*buffers[pair->first].offset}));
    std::string diagnostics;
    {
      ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
        diagnostics += diag.str() + "\n";
        return success();
      });
      EXPECT_TRUE(failed(verifyMemoryPlan(func)));
    }
    EXPECT_NE(diagnostics.find("overlaps"), std::string::npos) << diagnostics;
    EXPECT_NE(diagnostics.find("while both are live"), std::string::npos);
    ++broken;
  }
  // Most functions must have had a plan to break, and aliases to plan.
  EXPECT_GT(broken, 40);
  EXPECT_GT(totalAliases, 300);
  EXPECT_GT(totalInPlace, 100);
}

TEST_F(MemoryPlanIRTest, ReportCountsWeights) {
  // weights.bin: 8 bytes at 0, then 4 bytes at 256 -> 260 bytes.
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      R"mlir(
func.func @g(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 8 : i64} : tensor<2xf32>
  %c = kiln.constant dense<1.0> : tensor<f32>
  %s = kiln.add %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %t = kiln.mul %s, %c : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  return %t : tensor<2xf32>
}
)mlir",
      &context);
  ASSERT_TRUE(module);
  auto func = cast<func::FuncOp>(module->getBody()->front());
  FailureOr<MemoryPlan> plan = MemoryPlan::compute(func);
  ASSERT_TRUE(succeeded(plan));
  plan->apply(func);
  FailureOr<MemoryReport> report = computeMemoryReport(func);
  ASSERT_TRUE(succeeded(report));
  EXPECT_EQ(report->ops, 4);
  EXPECT_EQ(report->weightOps, 2);
  EXPECT_EQ(report->weightsBytes, 260);
  // %x [0,4], %s [2,3], %t [3,4]; the mul writes %t over %s (the add may
  // not write over %x, an input, nor over %w, a weight): one storage [2,4].
  EXPECT_EQ(report->inPlace, 1);
  EXPECT_EQ(report->arenaLowerBoundBytes, 512);
  EXPECT_EQ(report->arenaBytes, 512);
  EXPECT_EQ(report->totalBytes(), 260 + 512);
  EXPECT_EQ(report->kvCacheBytes, 0);
}

} // namespace

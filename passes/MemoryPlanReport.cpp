//===- MemoryPlanReport.cpp - static memory report of a planned function --===//
//
// Computes and prints kiln::MemoryReport: what a planned function needs in
// device memory (weights.bin, the arena, the KV cache), with the arena's lower
// bound, its size without reuse and the arena every placement strategy would
// give, all from the IR alone before anything runs. kiln-compile
// --memory-report writes it as one JSON object (docs/memory-plan.md).
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace kiln;

double MemoryReport::arenaOverLowerBound() const {
  if (arenaLowerBoundBytes == 0)
    return 1.0;
  return static_cast<double>(arenaBytes) /
         static_cast<double>(arenaLowerBoundBytes);
}

void MemoryReport::printJson(llvm::raw_ostream &os) const {
  llvm::json::OStream json(os, /*IndentSize=*/2);
  json.object([&] {
    json.attribute("function", function);
    json.attribute("ops", ops);
    json.attribute("weight_ops", weightOps);
    json.attribute("arena_values", values);
    json.attribute("arena_aliases", aliases);
    json.attribute("arena_in_place", inPlace);
    json.attribute("weights_bytes", weightsBytes);
    json.attribute("arena_bytes", arenaBytes);
    json.attribute("arena_lower_bound_bytes", arenaLowerBoundBytes);
    // Four decimals are plenty for a ratio and keep the output stable.
    json.attribute("arena_over_lower_bound",
                   std::round(arenaOverLowerBound() * 1e4) / 1e4);
    json.attribute("naive_bytes", naiveBytes);
    json.attribute("kv_cache_bytes", kvCacheBytes);
    if (!functionArenaBytes.empty())
      json.attributeObject("function_arena_bytes", [&] {
        for (const auto &[name, bytes] : functionArenaBytes)
          json.attribute(name, bytes);
      });
    json.attribute("total_bytes", totalBytes());
    json.attribute("best_strategy", best);
    json.attributeObject("strategy_arena_bytes", [&] {
      for (const auto &[name, bytes] : strategyArenaBytes)
        json.attribute(name, bytes);
    });
  });
  os << "\n";
}

FailureOr<MemoryReport> kiln::computeMemoryReport(func::FuncOp func) {
  if (!func->hasAttr(kArenaBytesAttrName))
    return func.emitOpError("has no ")
           << kArenaBytesAttrName << " (not planned): no memory report";
  FailureOr<MemoryPlan> plan = MemoryPlan::fromAttributes(func);
  if (failed(plan))
    return failure();

  MemoryReport report;
  report.function = func.getSymName().str();
  if (auto module = func->getParentOfType<ModuleOp>())
    for (auto cache : module.getOps<KvCacheOp>())
      report.kvCacheBytes +=
          2 * int64_t(cache.getLayers()) * cache.getBlockElements() *
          (cache.getElementType().getIntOrFloatBitWidth() / 8);
  report.arenaBytes = *plan->arenaBytes();
  report.values = static_cast<int64_t>(plan->buffers().size());
  for (const PlannedBuffer &buffer : plan->buffers()) {
    report.aliases += buffer.aliasOf ? 1 : 0;
    report.inPlace += buffer.inPlaceOf ? 1 : 0;
  }

  // weights.bin: weights and constants in program order, each at the next
  // 256-byte-aligned offset; the file ends with the last one's bytes.
  for (Operation &op : func.getBody().front()) {
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    ++report.ops;
    // A weight concatenation's bytes are its parts' (counted with them).
    if (!isWeightLike(&op) || isWeightConcat(&op))
      continue;
    ++report.weightOps;
    std::optional<int64_t> bytes = tensorByteSize(op.getResult(0).getType());
    if (!bytes)
      return op.emitOpError("has no byte size for weights.bin: ")
             << op.getResult(0).getType();
    report.weightsBytes = static_cast<int64_t>(llvm::alignTo(
                              report.weightsBytes, kArenaAlignment)) +
                          *bytes;
  }

  // After aliasing and in-place merging: an alias or an in-place result adds
  // no bytes, its storage lives as long as any member. The bound is of these
  // storage intervals, which is what placement places, so it bounds the plan
  // from below.
  SmallVector<LiveInterval> intervals = plan->storageIntervals();
  report.arenaLowerBoundBytes = arenaLowerBound(intervals, kArenaAlignment);
  report.naiveBytes = arenaNaiveBytes(intervals, kArenaAlignment);
  // The comparison the planner makes, redone: deterministic, so `best` is
  // the strategy whose arena kiln-plan-memory wrote.
  std::optional<int64_t> bestBytes;
  for (PlacementStrategy strategy : placementStrategies()) {
    int64_t bytes =
        placeIntervals(intervals, kArenaAlignment, strategy).arenaBytes;
    report.strategyArenaBytes.push_back({strategy.name(), bytes});
    if (!bestBytes || bytes < *bestBytes) {
      bestBytes = bytes;
      report.best = strategy.name();
    }
  }
  return report;
}

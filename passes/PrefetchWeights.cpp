//===- PrefetchWeights.cpp - kiln-prefetch-weights ------------------------===//
//
// On the scheduled level, gives the first streaming launch after each
// launch that streams no weights a `prefetch` list of the weights the
// streaming launches after it read, so that DRAM keeps streaming while the
// quiet launch runs (Passes.td has the rule and why). The kernel asks L2
// for them before it waits for the launch before it. With at-quiet, the
// quiet launch itself gets the list (the first streaming launch's weights
// included) and asks after its wait. The list is a hint and changes no
// result.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <map>

namespace kiln {
#define GEN_PASS_DEF_KILNPREFETCHWEIGHTS
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Whether buffer `v` is (a view of) the kiln.weights region.
bool isWeight(Value v) {
  while (auto view = v.getDefiningOp<ViewOp>())
    v = view.getBase();
  return v.getDefiningOp<WeightsOp>() != nullptr;
}

int64_t bytesOf(Value v) {
  auto type = cast<MemRefType>(v.getType());
  return type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
}

/// The weights `op` streams whole: a GEMV kernel's weight rows (the
/// buffers its linears' weight arguments are bound to), a gemm's B and
/// bias. Empty for any other op.
SmallVector<Value> streamedWeights(Operation *op, SymbolTable &symbols) {
  SmallVector<Value> out;
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    for (Value v : {gemm.getB(), gemm.getBias()})
      if (v && isWeight(v))
        out.push_back(v);
    return out;
  }
  auto launch = dyn_cast<LaunchOp>(op);
  if (!launch)
    return out;
  auto kernel = symbols.lookup<KernelOp>(launch.getKernel());
  if (!kernel)
    return out;
  Block &body = kernel.getBody().front();
  std::optional<GemvKernel> gemv = analyzeGemvKernel(body);
  if (!gemv)
    return out;
  for (const GemvGroup &g : gemv->groups)
    for (Operation *linear : g.linears) {
      auto arg = cast<BlockArgument>(gemvProductWeight(linear));
      Value buffer = launch.getInputs()[arg.getArgNumber()];
      if (isWeight(buffer))
        out.push_back(buffer);
    }
  return out;
}

struct PrefetchWeights
    : public kiln::impl::KilnPrefetchWeightsBase<PrefetchWeights> {
  using Base::Base;

  void runOnOperation() override {
    if (budgetKb < 0) {
      getOperation().emitError("kiln-prefetch-weights: budget-kb must be at "
                               "least 0, got ")
          << static_cast<int64_t>(budgetKb);
      return signalPassFailure();
    }
    if (budgetKb == 0)
      return;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    int64_t budget = budgetKb * 1024;
    module.walk([&](GraphOp graph) { plan(graph, symbols, budget); });
    cloneWhereLaunchesDiffer(module, symbols);
  }

  /// Sets the prefetch lists of `graph`'s launches.
  void plan(GraphOp graph, SymbolTable &symbols, int64_t budget) {
    SmallVector<Operation *> ops;
    for (Operation &op : graph.getBody().front())
      if (isa<LaunchOp, GemmOp>(op))
        ops.push_back(&op);
    SmallVector<SmallVector<Value>> streamed;
    for (Operation *op : ops)
      streamed.push_back(streamedWeights(op, symbols));
    // Quiet: a launch (not a copy) that streams no weights.
    SmallVector<bool> quietAt;
    for (auto [op, weights] : llvm::zip_equal(ops, streamed))
      quietAt.push_back(weights.empty() && isa<LaunchOp>(op) &&
                        !isCopy(cast<LaunchOp>(op), symbols));
    auto quiet = [&](size_t i) { return bool(quietAt[i]); };
    for (size_t q = 0; q < ops.size(); ++q) {
      if (!quiet(q))
        continue;
      // The first streaming launch after the quiet one.
      size_t first = q + 1;
      while (first < ops.size() && streamed[first].empty() && !quiet(first))
        ++first;
      if (first >= ops.size() || quiet(first))
        continue;
      // at-quiet: the quiet launch asks for the weights of the streaming
      // launches from `first` on. Otherwise `first` (a kernel) asks for
      // those of the streaming launches after it.
      if (!atQuiet && !isa<LaunchOp>(ops[first]))
        continue;
      auto launch = cast<LaunchOp>(ops[atQuiet ? q : first]);
      size_t from = atQuiet ? first : first + 1;
      SmallVector<Value> buffers;
      SmallVector<int64_t> bytes;
      llvm::SmallDenseSet<Value> seen;
      if (!atQuiet)
        seen.insert(streamed[first].begin(), streamed[first].end());
      int64_t left = budget;
      for (size_t j = from; j < ops.size() && left > 0 && !quiet(j); ++j) {
        SmallVector<Value> fresh;
        int64_t total = 0;
        for (Value w : streamed[j])
          if (seen.insert(w).second) {
            fresh.push_back(w);
            total += bytesOf(w);
          }
        if (fresh.empty())
          continue;
        // All of them, or the same fraction of each from its start.
        double fraction = std::min(1.0, double(left) / double(total));
        for (Value w : fresh) {
          int64_t b = std::min<int64_t>(
              bytesOf(w), (int64_t(double(bytesOf(w)) * fraction) + 127) /
                              128 * 128);
          if (b <= 0)
            continue;
          buffers.push_back(w);
          bytes.push_back(b);
          left -= b;
        }
      }
      if (buffers.empty())
        continue;
      launch.getPrefetchMutable().assign(buffers);
      launch.setPrefetchBytes(bytes);
    }
  }

  static bool isCopy(LaunchOp launch, SymbolTable &symbols) {
    auto kernel = symbols.lookup<KernelOp>(launch.getKernel());
    return !kernel ||
           kernel.getBody().front().without_terminator().empty();
  }

  /// Clones each kernel whose launches prefetch different bytes, so that
  /// every kernel's launches agree (its prefetch pointers are parameters).
  void cloneWhereLaunchesDiffer(ModuleOp module, SymbolTable &symbols) {
    llvm::MapVector<StringRef, SmallVector<LaunchOp>> byKernel;
    module.walk([&](LaunchOp launch) {
      byKernel[launch.getKernel()].push_back(launch);
    });
    for (auto &[name, launches] : byKernel) {
      // Distinct prefetch byte lists, in order of first launch.
      std::map<std::vector<int64_t>, KernelOp> clones;
      auto kernel = symbols.lookup<KernelOp>(name);
      if (!kernel)
        continue;
      bool first = true;
      for (LaunchOp launch : launches) {
        ArrayRef<int64_t> b =
            launch.getPrefetchBytes().value_or(ArrayRef<int64_t>());
        std::vector<int64_t> key(b.begin(), b.end());
        auto it = clones.find(key);
        if (it == clones.end()) {
          KernelOp target = kernel;
          if (!first) {
            OpBuilder builder(kernel);
            builder.setInsertionPointAfter(kernel);
            target = cast<KernelOp>(builder.clone(*kernel));
            symbols.insert(target); // renames it to a unique symbol
          }
          first = false;
          it = clones.emplace(key, target).first;
        }
        if (it->second != kernel)
          launch.setKernel(it->second.getSymName());
      }
    }
  }
};

} // namespace

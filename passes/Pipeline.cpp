//===- Pipeline.cpp - kiln-compile's pass pipeline, registered by name ----===//
//
// The passes kiln-compile runs between loading a model and emitting code,
// built in one place and registered as `kiln-compile-pipeline`, so that
// `kiln-opt --kiln-compile-pipeline` (or
// `--pass-pipeline='builtin.module(kiln-compile-pipeline)'`) reproduces
// exactly what kiln-compile does, pass by pass, with every MLIR debugging
// flag (`--mlir-print-ir-after-all`, `--mlir-timing`). `kiln-fused-pipeline`
// (graph passes, then kiln-form-fusions) is what --emit=fused prints; the
// artifact path does not run it yet.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void kiln::buildGraphPipeline(OpPassManager &pm) {
  pm.addPass(createKilnSimplify());
}

void kiln::buildFusePipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createKilnFormFusions());
}

void kiln::buildFusedPipeline(OpPassManager &pm) {
  buildGraphPipeline(pm);
  buildFusePipeline(pm);
}

void kiln::buildSchedulePipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createKilnPlanMemory());
  pm.addNestedPass<func::FuncOp>(createKilnVerifyPlan());
}

void kiln::buildCompilePipeline(OpPassManager &pm) {
  buildGraphPipeline(pm);
  buildSchedulePipeline(pm);
}

void kiln::registerKilnPipelines() {
  PassPipelineRegistration<>(
      "kiln-compile-pipeline",
      "What kiln-compile runs before emitting code: the graph-level passes "
      "(kiln-simplify), then planning (kiln-plan-memory) and its verifier "
      "(kiln-verify-plan). Its output is kiln-compile --emit=scheduled.",
      buildCompilePipeline);
  PassPipelineRegistration<>(
      "kiln-graph-pipeline",
      "The graph-level part of kiln-compile-pipeline (kiln-simplify): its "
      "output is kiln-compile --emit=graph.",
      buildGraphPipeline);
  PassPipelineRegistration<>(
      "kiln-fused-pipeline",
      "The graph-level passes (kiln-graph-pipeline), then kiln-form-fusions "
      "on every function: its output is kiln-compile --emit=fused. The "
      "artifact path does not run it yet (codegen reads the graph level).",
      buildFusedPipeline);
}

//===- RefRunner.cpp - kiln-run's reference backend -----------------------===//
//
// The full build's definition of kiln::runtime::getRefRunner(): loads the model
// (.onnx, .mlir or a .kiln artifact's scheduled IR) and runs it on the CPU
// reference backend, turning MLIR diagnostics into the error text kiln-run
// prints; and getRefSessionFactory(), which keeps a model loaded across the
// steps of a generation (kiln::RefSession).
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Driver.h"
#include "kiln/Driver/RefSession.h"
#include "kiln/runtime/RefHook.h"

#include "mlir/IR/MLIRContext.h"

using namespace kiln;

static bool runRef(const std::string &modelPath, const std::string &function,
                   const std::vector<std::pair<std::string, int64_t>> &binds,
                   const std::vector<runtime::HostTensor> &inputs,
                   std::vector<runtime::HostTensor> &outputs,
                   std::string &error) {
  mlir::DialectRegistry registry;
  registerKilnDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  DiagnosticCollector diags(context);
  ImportOptions options;
  for (const auto &[name, value] : binds)
    options.binds[name] = value;
  auto model = loadModel(context, modelPath, options, function);
  if (mlir::failed(model)) {
    error = diags.text().empty() ? "cannot load '" + modelPath + "'"
                                 : diags.text();
    return false;
  }
  if (mlir::failed(runReference(model->entry, model->weightDir, inputs,
                                outputs, error))) {
    if (!diags.text().empty())
      error += "\n" + diags.text();
    return false;
  }
  return true;
}

kiln::runtime::RefRunner kiln::runtime::getRefRunner() { return runRef; }

static std::unique_ptr<kiln::runtime::StepRunner>
createRefSession(const std::string &modelPath, const std::string &function,
                 std::string &error) {
  return RefSession::create(modelPath, function, error);
}

kiln::runtime::RefSessionFactory kiln::runtime::getRefSessionFactory() {
  return createRefSession;
}

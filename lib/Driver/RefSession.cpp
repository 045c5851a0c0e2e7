//===- RefSession.cpp - a model kept loaded on the reference backend ------===//
//
// Loads a model once and runs its functions step by step on the reference
// backend with one ref::State (the KV caches), converting between the
// runtime's host tensors and the reference backend's tensors.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/RefSession.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace kiln;
using kiln::runtime::HostTensor;

RefSession::RefSession() = default;
RefSession::~RefSession() = default;

std::unique_ptr<RefSession> RefSession::create(const std::string &modelPath,
                                               const std::string &function,
                                               std::string &error,
                                               const ImportOptions &options) {
  std::unique_ptr<RefSession> session(new RefSession());
  DialectRegistry registry;
  registerKilnDialects(registry);
  session->context = std::make_unique<MLIRContext>(registry);
  session->context->loadAllAvailableDialects();
  session->diags = std::make_unique<DiagnosticCollector>(*session->context);
  FailureOr<LoadedModel> model =
      loadModel(*session->context, modelPath, options, function);
  if (failed(model)) {
    error = session->diags->text().empty() ? "cannot load '" + modelPath + "'"
                                           : session->diags->text();
    while (!error.empty() && error.back() == '\n')
      error.pop_back();
    return nullptr;
  }
  session->model = std::move(*model);
  return session;
}

bool RefSession::run(const std::string &function,
                     const std::vector<HostTensor> &inputs,
                     std::vector<HostTensor> &outputs, std::string &error) {
  auto func = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      *model.module, StringAttr::get(context.get(), function));
  if (!func || func.isDeclaration()) {
    error = "the model has no function @" + function;
    return false;
  }
  // The inputs come in the function's order (the manifest's), named, so
  // runReference binds them as given.
  size_t before = diags->text().size();
  if (failed(runReference(func, model.weightDir, inputs, outputs, error,
                          &refState))) {
    error = "@" + function + ": " + error;
    std::string text = diags->text().substr(before);
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    if (!text.empty())
      error += ":\n" + text;
    return false;
  }
  return true;
}

bool RefSession::run(const runtime::Function &fn,
                     const std::vector<HostTensor> &ordered,
                     std::vector<HostTensor> &outputs, std::string &error) {
  return run(fn.name, ordered, outputs, error);
}

bool RefSession::resetCache(std::string &) {
  refState.kvCaches.clear();
  return true;
}

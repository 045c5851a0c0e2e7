//===- RefSession.h - a model kept loaded on the reference backend -*- C++ -*-//
//
// A reference-backend StepRunner for token generation (docs/generation.md):
// loads a model once (kiln::loadModel: a .kiln artifact's scheduled IR, a
// .mlir or a .onnx file) and runs any of its functions step after step with
// one kiln::ref::State, so the KV caches that the kv ops read and write
// persist from one step to the next (and across the bucket functions) until
// resetCache().
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DRIVER_REFSESSION_H
#define KILN_DRIVER_REFSESSION_H

#include "kiln/Driver/Driver.h"
#include "kiln/Reference/Evaluator.h"
#include "kiln/runtime/Generate.h"

#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// A model loaded once, run any number of steps on the CPU reference
/// backend with state kept between them.
class RefSession : public runtime::StepRunner {
public:
  /// Loads `modelPath` with loadModel(), which checks `function` (the
  /// function the session will run most; empty: the only one, or @main)
  /// against the artifact's manifest when `modelPath` is a `.kiln`
  /// directory. Returns nullptr and sets `error` (the collected diagnostics)
  /// on failure.
  static std::unique_ptr<RefSession> create(const std::string &modelPath,
                                            const std::string &function,
                                            std::string &error,
                                            const ImportOptions &options = {});
  ~RefSession() override;
  RefSession(const RefSession &) = delete;
  RefSession &operator=(const RefSession &) = delete;

  /// Runs the function named `function` once on `inputs` (one per input of
  /// ref::getSignature(), in order, dtype and shape exact) through
  /// ref::runFunction with this session's State; `outputs` receives one
  /// tensor per output, named as the signature names them.
  bool run(const std::string &function,
           const std::vector<runtime::HostTensor> &inputs,
           std::vector<runtime::HostTensor> &outputs, std::string &error);

  /// StepRunner: run(fn.name, ...).
  bool run(const runtime::Function &fn,
           const std::vector<runtime::HostTensor> &ordered,
           std::vector<runtime::HostTensor> &outputs,
           std::string &error) override;

  /// StepRunner: drops every KV cache of the state (each is re-created
  /// zeroed on its next use). Never fails.
  bool resetCache(std::string &error) override;

  /// The state carried between steps.
  const ref::State &state() const { return refState; }
  /// The function loadModel() chose.
  mlir::func::FuncOp entry() const { return model.entry; }

private:
  RefSession();

  // Declaration order is destruction order in reverse: the module and the
  // diagnostic handler go before the context that owns them.
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<DiagnosticCollector> diags;
  LoadedModel model;
  ref::State refState;
};

} // namespace kiln

#endif // KILN_DRIVER_REFSESSION_H

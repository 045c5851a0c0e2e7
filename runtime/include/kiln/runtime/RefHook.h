//===- RefHook.h - kiln-run's hook into the reference backend ---*- C++ -*-===//
//
// kiln-run is built in the runtime-only build (CUDA toolkit alone) and in the
// full build. Only the full build has the CPU reference backend, which needs
// MLIR; this header is the seam between the two. getRefRunner() and
// getRefSessionFactory() are defined in tools/kiln-run/RefRunner.cpp (full
// build, links KilnDriver) or in tools/kiln-run/NoRefRunner.cpp (both return
// nullptr).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_REFHOOK_H
#define KILN_RUNTIME_REFHOOK_H

#include "kiln/runtime/Generate.h"
#include "kiln/runtime/TensorIO.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kiln::runtime {

/// Runs MODEL (.onnx, .mlir, or .kiln dir -> its scheduled.mlir) on the CPU
/// reference backend. `function` names the function to run (empty: the only
/// one, or @main). `binds` fixes symbolic dims (`--bind NAME=N`), `inputs`
/// are as read from the command line (bind by name, else in order), and
/// `outputs` receives one tensor per model result, named when the model names
/// them. Returns false and sets `error` on failure.
using RefRunner =
    bool (*)(const std::string &modelPath, const std::string &function,
             const std::vector<std::pair<std::string, int64_t>> &binds,
             const std::vector<HostTensor> &inputs,
             std::vector<HostTensor> &outputs, std::string &error);

/// The reference backend's runner, or nullptr when this kiln-run was built
/// without it (KILN_RUNTIME_ONLY).
RefRunner getRefRunner();

/// Loads MODEL (.kiln dir, .mlir or .onnx) once on the reference backend and
/// returns a StepRunner that runs its functions step after step with the KV
/// caches kept between steps (kiln::RefSession). `function` is the function
/// the model is loaded for (loadModel checks it against a .kiln's
/// manifest); run() may name any function of the module. Returns nullptr
/// and sets `error` on failure.
using RefSessionFactory = std::unique_ptr<StepRunner> (*)(
    const std::string &modelPath, const std::string &function,
    std::string &error);

/// The reference backend's session factory, or nullptr when this kiln-run
/// was built without it (KILN_RUNTIME_ONLY).
RefSessionFactory getRefSessionFactory();

} // namespace kiln::runtime

#endif // KILN_RUNTIME_REFHOOK_H

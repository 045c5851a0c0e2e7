//===- RefHook.h - kiln-run's hook into the reference backend ---*- C++ -*-===//
//
// kiln-run is built in the runtime-only build (CUDA toolkit alone) and in the
// full build. Only the full build has the CPU reference backend, which needs
// MLIR; this header is the seam between the two. getRefRunner() is defined in
// tools/kiln-run/RefRunner.cpp (full build, links KilnReference and
// KilnImport) or in tools/kiln-run/NoRefRunner.cpp (returns nullptr).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_REFHOOK_H
#define KILN_RUNTIME_REFHOOK_H

#include "kiln/runtime/TensorIO.h"

#include <cstdint>
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

} // namespace kiln::runtime

#endif // KILN_RUNTIME_REFHOOK_H

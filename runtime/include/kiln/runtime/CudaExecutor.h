//===- CudaExecutor.h - run a kiln artifact on a CUDA GPU -------*- C++ -*-===//
//
// The CUDA executor: owns the device arena, the uploaded weights, the loaded
// kernel library, the resolved kernels and the cuBLASLt state of one loaded
// artifact, and runs one of its functions either eagerly on a stream or as a
// CUDA graph captured once and replayed. The header carries no CUDA types, so
// tools include it without the CUDA headers; in a build without CUDA
// (KILN_ENABLE_CUDA=OFF) create() fails with a clear message.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDAEXECUTOR_H
#define KILN_RUNTIME_CUDAEXECUTOR_H

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/TensorIO.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln::runtime {

/// Timing of a run, from CUDA events around the launches of every step.
struct RunStats {
  /// Steps run (1 + repeats).
  int steps = 0;
  /// Device time of all steps (input copies and launches), milliseconds.
  float totalMs = 0;
  /// totalMs / steps, in microseconds.
  double usPerStep() const { return steps ? totalMs * 1000.0 / steps : 0; }
};

/// Runs the functions of one artifact on the current CUDA device.
class CudaExecutor {
public:
  /// Execution mode of run().
  enum class Mode { Eager, Graph };

  /// Prepares `artifact` (which must outlive the executor) on CUDA device
  /// `device`: allocates arena and weights with cudaMalloc, uploads the
  /// weights, loads the fatbin, resolves every kernel of function `function`
  /// and sets up cuBLASLt (workspace included). Fails with "no CUDA device"
  /// when there is none, and with a message naming the manifest line and the
  /// kernel when a kernel is not in the fatbin.
  static std::unique_ptr<CudaExecutor> create(const Artifact &artifact,
                                              const std::string &function,
                                              int device, std::string &error);
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor &) = delete;
  CudaExecutor &operator=(const CudaExecutor &) = delete;

  /// Runs `steps` steps: each copies `inputs` (one per manifest input, in
  /// manifest order, already checked to match) to their arena offsets and
  /// runs the launch list, eagerly or by replaying the captured graph (the
  /// graph is captured on the first Graph run). Then copies the outputs back
  /// into `outputs` (one per manifest output, named as in the manifest). A
  /// failure names the launch index, kernel name and manifest line.
  bool run(Mode mode, const std::vector<HostTensor> &inputs, int steps,
           std::vector<HostTensor> &outputs, RunStats &stats,
           std::string &error);

  /// A one-line description of the device ("NVIDIA H100 80GB HBM3, sm_90").
  const std::string &deviceDescription() const;

  /// Implementation state (CUDA types live in the .cpp only).
  struct Impl;

private:
  explicit CudaExecutor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CUDAEXECUTOR_H

//===- CudaExecutor.h - run a kiln artifact on a CUDA GPU -------*- C++ -*-===//
//
// The CUDA executor: owns the device arena, the uploaded weights, the KV
// cache region, the loaded kernel library, the resolved kernels and the
// cuBLASLt state of one loaded artifact, and runs any of its functions
// either eagerly on a stream or as a CUDA graph captured once per function
// and replayed. The header carries no CUDA types, so
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

/// KILN_RUNTIME_CARVEOUT's value: unset or empty leaves each kernel's
/// split of the SM's unified L1/shared memory to the driver (`percent` =
/// -1); an integer 0-100 is the share for shared memory that every kernel
/// is given (cudaFuncAttributePreferredSharedMemoryCarveout), so
/// consecutive kernels ask the SM for the same configuration. Anything
/// else is an error naming the variable and the text.
bool parseSharedMemoryCarveout(const char *text, int &percent,
                               std::string &error);

/// Runs the functions of one artifact on a CUDA device. One executor holds
/// every function of the artifact: the arena (sized for the largest), the
/// weights and, when the artifact has one, the KV cache region are
/// allocated once and shared; every kernel is resolved once; a CUDA graph
/// is captured per function on its first graph-mode run.
class CudaExecutor {
public:
  /// Execution mode of run().
  enum class Mode { Eager, Graph };

  /// Prepares `artifact` (which must outlive the executor) on CUDA device
  /// `device`: allocates the arena, the weights and the KV cache region with
  /// cudaMalloc (the arena and the KV region zeroed), uploads the weights,
  /// loads the fatbin, resolves every kernel of every function and sets up
  /// cuBLASLt (workspace included). Fails with "no CUDA device" when there
  /// is none, and with a message naming the manifest line and the kernel
  /// when a kernel is not in the fatbin.
  static std::unique_ptr<CudaExecutor> create(const Artifact &artifact,
                                              int device, std::string &error);
  /// As above, and also checks that `function` exists; it becomes the
  /// function the function-less run() overload runs (format-2 callers).
  static std::unique_ptr<CudaExecutor> create(const Artifact &artifact,
                                              const std::string &function,
                                              int device, std::string &error);
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor &) = delete;
  CudaExecutor &operator=(const CudaExecutor &) = delete;

  /// Runs `steps` steps of `function`: each copies `inputs` (one per input
  /// record of the function, in manifest order, already checked to match,
  /// e.g. by bindInputs) to their arena offsets and runs the launch list,
  /// eagerly or by replaying the function's graph (captured on its first
  /// Graph run). Then copies the outputs back into `outputs` (one per output
  /// record, named as in the manifest). CUDA events around the steps fill
  /// `stats`. A failure names the launch index, kernel name and manifest
  /// line. The KV cache is not reset: every step appends to it.
  bool run(const std::string &function, Mode mode,
           const std::vector<HostTensor> &inputs, int steps,
           std::vector<HostTensor> &outputs, RunStats &stats,
           std::string &error);
  /// run() of the function given to create(), or of defaultFunction().
  bool run(Mode mode, const std::vector<HostTensor> &inputs, int steps,
           std::vector<HostTensor> &outputs, RunStats &stats,
           std::string &error);

  /// Runs `steps` steps of `function` on what its inputs already hold in the
  /// arena (a run() or step() before copied them in; nothing is copied),
  /// eagerly or by replaying the function's graph (captured first if
  /// needed), with CUDA events around all of them filling `stats`; waits for
  /// the stream. For benchmarks (kiln-bench): the step's inputs stay intact
  /// in the arena, since the memory plan never writes over an input.
  bool replay(const std::string &function, Mode mode, int steps,
              RunStats &stats, std::string &error);

  /// Per-launch timing (kiln-bench --per-kernel): for each launch i of
  /// `function`, in order, launches it alone `reps` times between two CUDA
  /// events and stores the mean microseconds in usPerLaunch[i]. Runs on what
  /// the arena already holds (a run() or step() before put the inputs
  /// there); a launch repeated reads and writes the same buffers, so the
  /// times are of the kernel on warm caches for its own data, without the
  /// gaps between launches. Not a correct step: re-run a step before
  /// reading outputs.
  bool timeLaunches(const std::string &function, int reps,
                    std::vector<double> &usPerLaunch, std::string &error);

  /// Where each launch of `function` ends inside its graph (kiln-bench
  /// --trace): for k = 0 .. launches, captures the graph of the first k
  /// launches (as the step's graph is captured, with programmatic dependent
  /// launch where the step has it), replays it `reps` times, each after a
  /// device memset of `flushBytes` bytes (more than the L2 cache, so every
  /// replay reads its weights from memory as a step does) and between two
  /// CUDA events, and stores the median microseconds in endUs[k]. endUs[k
  /// + 1] - endUs[k] is what launch k adds to the graph, its own time and
  /// its gap together. Runs on what the arena holds (a run() or step()
  /// before put the inputs there); each prefix computes what the step
  /// computes up to there.
  bool timeGraphPrefixes(const std::string &function, int reps,
                         size_t flushBytes, std::vector<double> &endUs,
                         std::string &error);

  /// One generation step of `function`, the cheap per-token path: copies
  /// `inputs` (in manifest order; sizes must match) through the function's
  /// pinned host staging buffer (allocated on its first step) to their arena
  /// offsets, runs the launch list (eagerly, or the function's captured
  /// graph when `graph`), copies the outputs back through the staging
  /// buffer into `outputs` (resized and named on first use, then reused)
  /// and waits for the stream. No events, no allocation after the first
  /// call per function.
  bool step(const std::string &function, const std::vector<HostTensor> &inputs,
            std::vector<HostTensor> &outputs, bool graph, std::string &error);

  /// step() without the outputs: they stay at their arena offsets
  /// (outputDevicePointer()) and the stream is not waited for, so work
  /// queued on stream() after it (the sampling kernel) reads them.
  bool stepOnDevice(const std::string &function,
                    const std::vector<HostTensor> &inputs, bool graph,
                    std::string &error);

  /// The device address of output `index` of `function` in the arena.
  const float *outputDevicePointer(const std::string &function, size_t index,
                                   std::string &error);

  /// The executor's stream (a cudaStream_t) and device ordinal.
  void *stream() const;
  int device() const;

  /// Zeroes the KV cache region (a new generation); nothing to do without
  /// one. Synchronous.
  bool resetKvCache(std::string &error);

  /// A one-line description of the device ("NVIDIA H100 80GB HBM3, sm_90").
  const std::string &deviceDescription() const;

  /// Whether kernels are launched with programmatic dependent launch: the
  /// manifest says `dependent_launch`, the device is sm_90 or later, and the
  /// environment does not set KILN_RUNTIME_PDL=0 (docs/runtime.md).
  bool dependentLaunch() const;

  /// How the gemms' cuBLASLt algorithms were chosen, for a report line:
  /// "gemm algorithms tuned (S shapes, C not the heuristic's first)"
  /// (KILN_RUNTIME_GEMM_TUNE=1 or verbose),
  /// "cuBLASLt's heuristic gemm algorithms" (the default), or
  /// "" for an artifact without gemms (docs/runtime.md).
  std::string gemmTuning() const;

  /// The shared memory carveout every kernel was given
  /// (KILN_RUNTIME_CARVEOUT, a percentage), or -1: the driver's choice per
  /// kernel, the default (docs/runtime.md).
  int sharedMemoryCarveout() const;

  /// The artifact the executor runs.
  const Artifact &artifact() const;

  /// Implementation state (CUDA types live in the .cpp only).
  struct Impl;

private:
  explicit CudaExecutor(std::unique_ptr<Impl> impl);
  /// step() and stepOnDevice(): copies the outputs back into
  /// `*outputsOrNull` and waits unless it is null.
  bool stepImpl(const std::string &function,
                const std::vector<HostTensor> &inputs,
                std::vector<HostTensor> *outputsOrNull, bool graph,
                std::string &error);
  std::unique_ptr<Impl> impl;
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CUDAEXECUTOR_H

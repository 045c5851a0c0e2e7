//===- Bench.h - decode steps against their bandwidth floor ----*- C++ -*-===//
//
// The pieces of kiln-bench (docs/bench.md): the inputs of a benchmark step
// (every row at slot `ctx`), the weight bytes one step of a step function
// reads, the device copy bandwidth that turns those bytes into a floor, and
// the timed steps themselves on a CudaExecutor. The host half (inputs, weight
// bytes) is C++17 in KilnRuntimeHost; the device half (copy bandwidth,
// timeSteps) is in KilnRuntime (lib/BenchCuda.cpp, or lib/NoCudaBench.cpp
// when KILN_ENABLE_CUDA is off, whose functions fail with "no CUDA device").
// The header carries no CUDA types.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_BENCH_H
#define KILN_RUNTIME_BENCH_H

#include "kiln/runtime/Artifact.h"
#include "kiln/runtime/CudaExecutor.h"
#include "kiln/runtime/TensorIO.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

/// Builds the inputs of one benchmark step of the step function `fn`, in its
/// input order: every row feeds token 1 at slot `ctx` (`tokens` = 1,
/// `positions` = `kv_pos` = ctx, `mask` = 1 for slots t <= ctx, else 0), so
/// attention reads ctx + 1 keys; an input without a role is zeros. Fails when
/// `fn` is not a step function, the artifact has no KV cache, ctx is negative
/// or ctx >= max_seq, or a role input has a dtype the role does not allow.
bool buildBenchInputs(const Manifest &manifest, const Function &fn, int64_t ctx,
                      std::vector<HostTensor> &ordered, std::string &error);

/// The weight bytes one step of a function reads (the numerator of the
/// floor). Every weight a launch of the function points at (`w:<id>` as a
/// kernel argument or gemm operand) counts in full, except a weight that
/// kernels read only by rows (an embedding table: the argument is in the
/// launch's `rows`, KernelLaunch::rowArgs, which kiln-compile writes for
/// the tables of gathers): one step reads `batch * seq` of its rows, so it counts
/// `bytes * batch * seq / shape[0]` (at most its bytes). A weight that is
/// gathered and also read otherwise (a head tied to the embedding) counts
/// once in full. Weights no launch of the function reads (constants of
/// other buckets) do not count.
struct WeightTraffic {
  /// Bytes read per step, as above.
  uint64_t bytes = 0;
  /// Full size of every weight the function reads.
  uint64_t fullBytes = 0;
  /// Weights read, and of those the gather-only ones.
  int64_t weights = 0, gatherOnly = 0;
  /// Full size of the gather-only weights, and the bytes counted for them.
  uint64_t gatherOnlyFullBytes = 0, gatherOnlyBytes = 0;
};

/// Computes the WeightTraffic of `fn` (see there).
WeightTraffic weightTrafficPerStep(const Manifest &manifest,
                                   const Function &fn);

/// The weight bytes each launch of `fn` reads (kiln-bench --per-kernel and
/// --trace: a launch's own floor), in launch order: every weight it points
/// at counts once in full, except that a weight a kernel reads by rows
/// (`rows`) counts `batch * seq` rows (at most its bytes), as weightTrafficPerStep counts a gather-only weight. The sum can
/// exceed the step's bytes where a weight is read by a gather and by
/// another launch (a tied head: its rows and its full read).
std::vector<uint64_t> weightBytesPerLaunch(const Manifest &manifest,
                                           const Function &fn);

/// Device copy bandwidth, measured as peer_decode.py's bw_test does: one
/// 1 GiB cudaMemcpy device to device, 3 warm-ups, then 20 timed with CUDA
/// events; every copy moves 2 * 1 GiB (read + write).
struct CopyBandwidth {
  /// Bytes of one buffer (2^30).
  uint64_t bytes = 0;
  /// Mean milliseconds of one copy.
  double msPerCopy = 0;
  /// 2 * bytes / (msPerCopy / 1000) / 1e9.
  double gbPerS = 0;
};

/// Measures CopyBandwidth on CUDA device `device` (allocates 2 GiB, frees
/// it before returning).
bool measureCopyBandwidth(int device, CopyBandwidth &out, std::string &error);

/// The timing of one (function, mode).
struct StepTiming {
  /// Timed steps and their mean device time (CUDA events around all of
  /// them), milliseconds per step.
  int steps = 0;
  double msPerStep = 0;
  /// Graph mode: wall milliseconds of the first graph run of one step
  /// minus those of the second (the capture and cudaGraphInstantiate);
  /// negative in eager mode.
  double captureMs = -1;
  /// True when the timed steps ran on inputs uploaded once before them
  /// (CudaExecutor::replay()); false when every timed step copied its inputs
  /// in first (CudaExecutor::run(), from pinned memory), and then
  /// `inputCopyMsPerStep` is what those copies alone take per step, measured
  /// on a separate stream (included in msPerStep).
  bool uploadedOnce = false;
  double inputCopyMsPerStep = 0;
  /// Whether cudaHostRegister pinned every input (else some copies were
  /// from pageable memory, which may block the host between steps).
  bool inputsPinned = false;
  /// Checks before timing, on the f32 output with role `logits` (or the
  /// first f32 output): its elements after the first eager step that are
  /// NaN or infinite, and how many are exactly zero of how many.
  int64_t nonFiniteLogits = 0, zeroLogits = 0, logits = 0;
  /// Graph mode: the largest |graph - eager| over those logits, the first
  /// graph step against the eager step (the same inputs and cache slot, so
  /// 0 unless a kernel reads memory nothing wrote); negative in eager mode.
  double graphMaxAbsDiff = -1;
};

/// Times `fn` on `exec` in `mode`: resets the KV
/// cache, runs one eager step (loads and warms every kernel; its logits are
/// checked), in graph mode measures the capture (StepTiming::captureMs) and
/// compares the first graph step's logits with it, runs `warmup` steps, then
/// times `steps` steps with CUDA events around the whole run. `inputs` are
/// the function's inputs in manifest order (buildBenchInputs()).
bool timeSteps(CudaExecutor &exec, const Function &fn, CudaExecutor::Mode mode,
               const std::vector<HostTensor> &inputs, int warmup, int steps,
               StepTiming &out, std::string &error);

/// `text` as a JSON string literal (quotes, backslashes and control
/// characters escaped).
std::string jsonString(const std::string &text);

/// Chrome / Perfetto trace events (kiln-bench --trace) of one step of `fn`
/// from timeGraphPrefixes' endUs (launches + 1 medians): launch i is an
/// event on thread `tid` of process 0 from endUs[i] - endUs[0] for endUs[i
/// + 1] - endUs[i] microseconds (0 where noise made it negative), named by
/// its label, with args launch (its index), line (its manifest line) and
/// added_us (the difference as measured), preceded by a thread_name event
/// naming the thread after the function. The events are JSON objects
/// separated by commas, to go inside a "traceEvents" array. Fails (empty
/// string) when endUs does not hold launches + 1 values.
std::string traceEvents(const Function &fn, const std::vector<double> &endUs,
                        int tid);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_BENCH_H

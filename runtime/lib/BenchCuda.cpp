//===- BenchCuda.cpp - copy bandwidth and timed steps on a GPU ------------===//
//
// The device half of kiln/runtime/Bench.h: the device-to-device copy
// bandwidth (peer_decode.py's bw_test) and the timed steps of one function
// on a CudaExecutor, through the executor's public API. The timed steps use
// CudaExecutor::replay() (no input copies) when the executor has it, else
// run(), whose steps each copy the inputs in: then the inputs are pinned
// (cudaHostRegister) so the copies stay asynchronous, and what they cost
// per step is measured on a stream of our own and reported beside the
// time.
//
//===----------------------------------------------------------------------===//

#include "CudaCheck.h"
#include "kiln/runtime/Bench.h"

#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

namespace kiln::runtime {

namespace {


/// CUDA events, a stream and device buffers freed on every exit path.
struct DeviceScratch {
  cudaEvent_t start = nullptr, stop = nullptr;
  cudaStream_t stream = nullptr;
  void *a = nullptr, *b = nullptr;
  ~DeviceScratch() {
    if (a)
      cudaFree(a);
    if (b)
      cudaFree(b);
    if (start)
      cudaEventDestroy(start);
    if (stop)
      cudaEventDestroy(stop);
    if (stream)
      cudaStreamDestroy(stream);
  }
  bool events(std::string &error) {
    return cudaOk(cudaEventCreate(&start), "cudaEventCreate", error) &&
           cudaOk(cudaEventCreate(&stop), "cudaEventCreate", error);
  }
};

/// Copies of the inputs, registered with cudaHostRegister for their
/// lifetime where the system allows it (best effort: unpinned copies still
/// work, only synchronously).
struct PinnedInputs {
  std::vector<HostTensor> tensors;
  std::vector<void *> registered;
  bool allPinned = true;
  ~PinnedInputs() {
    for (void *p : registered)
      cudaHostUnregister(p);
  }
  void pin(const std::vector<HostTensor> &inputs) {
    tensors = inputs;
    for (HostTensor &t : tensors) {
      if (t.bytes.empty())
        continue;
      if (cudaHostRegister(t.bytes.data(), t.bytes.size(),
                           cudaHostRegisterDefault) != cudaSuccess) {
        cudaGetLastError(); // not sticky; clear it
        allPinned = false;
        continue;
      }
      registered.push_back(t.bytes.data());
    }
  }
};

/// Whether the executor has `replay(function, mode, steps, stats, error)`:
/// run `steps` steps on what the function's inputs hold in the arena, with
/// no copies, CUDA events around them.
template <typename E, typename = void> struct HasReplay : std::false_type {};
template <typename E>
struct HasReplay<
    E, std::void_t<decltype(std::declval<E &>().replay(
           std::declval<const std::string &>(), CudaExecutor::Mode::Graph, 1,
           std::declval<RunStats &>(), std::declval<std::string &>()))>>
    : std::true_type {};

/// Runs the timed steps: the inputs are already in the arena (the runs
/// before this one copied them in). Returns false and sets `error` on
/// failure; sets `uploadedOnce` to whether the steps ran without copies.
template <typename E>
bool timedRun(E &exec, const Function &fn, CudaExecutor::Mode mode,
              const std::vector<HostTensor> &inputs, int steps, RunStats &stats,
              bool &uploadedOnce, std::string &error) {
  if constexpr (HasReplay<E>::value) {
    (void)inputs;
    uploadedOnce = true;
    return exec.replay(fn.name, mode, steps, stats, error);
  } else {
    uploadedOnce = false;
    std::vector<HostTensor> outputs;
    return exec.run(fn.name, mode, inputs, steps, outputs, stats, error);
  }
}

/// Milliseconds per step that copying `inputs` (pinned) to the device takes
/// on a stream of our own, over `steps` steps.
bool measureInputCopies(const std::vector<HostTensor> &inputs, int steps,
                        double &msPerStep, std::string &error) {
  DeviceScratch s;
  size_t total = 0;
  for (const HostTensor &t : inputs)
    total += (t.bytes.size() + 255) / 256 * 256;
  if (!s.events(error) ||
      !cudaOk(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking),
          "cudaStreamCreateWithFlags", error) ||
      !cudaOk(cudaMalloc(&s.a, total ? total : 256), "cudaMalloc", error))
    return false;
  auto copyAll = [&]() {
    size_t at = 0;
    for (const HostTensor &t : inputs) {
      if (!cudaOk(cudaMemcpyAsync(static_cast<char *>(s.a) + at, t.bytes.data(),
                              t.bytes.size(), cudaMemcpyHostToDevice, s.stream),
              "cudaMemcpyAsync of input '" + t.name + "'", error))
        return false;
      at += (t.bytes.size() + 255) / 256 * 256;
    }
    return true;
  };
  if (!copyAll() ||
      !cudaOk(cudaStreamSynchronize(s.stream), "input copies", error) ||
      !cudaOk(cudaEventRecord(s.start, s.stream), "cudaEventRecord", error))
    return false;
  for (int i = 0; i < steps; ++i)
    if (!copyAll())
      return false;
  float ms = 0;
  if (!cudaOk(cudaEventRecord(s.stop, s.stream), "cudaEventRecord", error) ||
      !cudaOk(cudaEventSynchronize(s.stop), "input copies", error) ||
      !cudaOk(cudaEventElapsedTime(&ms, s.start, s.stop), "cudaEventElapsedTime",
          error))
    return false;
  msPerStep = steps ? ms / steps : 0;
  return true;
}

/// The index of `fn`'s logits output: the output with role `logits`, else
/// its first f32 output; -1 when there is none.
int logitsIndex(const Function &fn) {
  for (size_t i = 0; i < fn.outputs.size(); ++i)
    if (fn.outputs[i].role == "logits" && fn.outputs[i].dtype == DType::F32)
      return int(i);
  for (size_t i = 0; i < fn.outputs.size(); ++i)
    if (fn.outputs[i].dtype == DType::F32)
      return int(i);
  return -1;
}

/// The f32 elements of `t`.
std::vector<float> floats(const HostTensor &t) {
  std::vector<float> v(t.bytes.size() / sizeof(float));
  if (!v.empty())
    std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(float));
  return v;
}

/// Wall milliseconds of `f()`.
template <typename F> double wallMs(F &&f, bool &result) {
  auto t0 = std::chrono::steady_clock::now();
  result = f();
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

} // namespace

bool measureCopyBandwidth(int device, CopyBandwidth &out, std::string &error) {
  const size_t n = size_t(1) << 30;
  DeviceScratch s;
  if (!cudaOk(cudaSetDevice(device), "cudaSetDevice", error) || !s.events(error) ||
      !cudaOk(cudaMalloc(&s.a, n), "cudaMalloc of 1 GiB (copy bandwidth)", error) ||
      !cudaOk(cudaMalloc(&s.b, n), "cudaMalloc of 1 GiB (copy bandwidth)", error) ||
      !cudaOk(cudaMemset(s.a, 1, n), "cudaMemset", error))
    return false;
  for (int i = 0; i < 3; ++i)
    if (!cudaOk(cudaMemcpy(s.b, s.a, n, cudaMemcpyDeviceToDevice),
            "cudaMemcpy device to device", error))
      return false;
  if (!cudaOk(cudaDeviceSynchronize(), "cudaDeviceSynchronize", error) ||
      !cudaOk(cudaEventRecord(s.start), "cudaEventRecord", error))
    return false;
  const int reps = 20;
  for (int i = 0; i < reps; ++i)
    if (!cudaOk(cudaMemcpy(s.b, s.a, n, cudaMemcpyDeviceToDevice),
            "cudaMemcpy device to device", error))
      return false;
  float ms = 0;
  if (!cudaOk(cudaEventRecord(s.stop), "cudaEventRecord", error) ||
      !cudaOk(cudaEventSynchronize(s.stop), "cudaEventSynchronize", error) ||
      !cudaOk(cudaEventElapsedTime(&ms, s.start, s.stop), "cudaEventElapsedTime",
          error))
    return false;
  out.bytes = n;
  out.msPerCopy = double(ms) / reps;
  out.gbPerS = out.msPerCopy > 0 ? 2.0 * n / (out.msPerCopy * 1e-3) / 1e9 : 0;
  return true;
}

bool timeSteps(CudaExecutor &exec, const Function &fn, CudaExecutor::Mode mode,
               const std::vector<HostTensor> &inputs, int warmup, int steps,
               StepTiming &out, std::string &error) {
  out = StepTiming();
  PinnedInputs pinned;
  pinned.pin(inputs);
  out.inputsPinned = pinned.allPinned;
  if (!exec.resetKvCache(error))
    return false;
  const std::vector<HostTensor> &in = pinned.tensors;
  std::vector<HostTensor> outputs;
  RunStats stats;
  // One eager step: every kernel loaded, cuBLASLt warm, the inputs in.
  if (!exec.run(fn.name, CudaExecutor::Mode::Eager, in, 1, outputs, stats,
                error))
    return false;
  int li = logitsIndex(fn);
  std::vector<float> eagerLogits;
  if (li >= 0 && size_t(li) < outputs.size()) {
    eagerLogits = floats(outputs[li]);
    out.logits = int64_t(eagerLogits.size());
    for (float v : eagerLogits) {
      out.nonFiniteLogits += !std::isfinite(v);
      out.zeroLogits += v == 0.0f;
    }
  }
  bool graph = mode == CudaExecutor::Mode::Graph;
  if (graph) {
    bool done = false;
    double first = wallMs(
        [&] { return exec.run(fn.name, mode, in, 1, outputs, stats, error); },
        done);
    if (!done)
      return false;
    if (li >= 0 && size_t(li) < outputs.size()) {
      std::vector<float> g = floats(outputs[li]);
      out.graphMaxAbsDiff = 0;
      for (size_t i = 0; i < g.size() && i < eagerLogits.size(); ++i) {
        double d = std::fabs(double(g[i]) - double(eagerLogits[i]));
        if (!(d <= out.graphMaxAbsDiff)) {
          out.graphMaxAbsDiff = d;
          if (std::isnan(d))
            break; // a NaN is the answer
        }
      }
    }
    double second = wallMs(
        [&] { return exec.run(fn.name, mode, in, 1, outputs, stats, error); },
        done);
    if (!done)
      return false;
    out.captureMs = first > second ? first - second : 0;
  }
  if (warmup > 0 && !exec.run(fn.name, mode, in, warmup, outputs, stats, error))
    return false;
  if (!timedRun(exec, fn, mode, in, steps, stats, out.uploadedOnce, error))
    return false;
  out.steps = stats.steps;
  out.msPerStep = stats.steps ? double(stats.totalMs) / stats.steps : 0;
  if (!out.uploadedOnce &&
      !measureInputCopies(in, steps, out.inputCopyMsPerStep, error))
    return false;
  return true;
}

} // namespace kiln::runtime

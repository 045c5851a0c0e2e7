//===- Sampling.cu - token sampling on the device ---------------*- CUDA
//-*-===//
//
// The kernel behind DeviceSampler: one block per row chooses the row's next
// token from its logits in device memory with the algorithm of
// docs/generation.md "Sampling" (the host twin is sampleToken() in
// Generate.cpp). Greedy is an argmax; sampling finds the top-k and top-p
// thresholds by a radix select over the float keys (4 passes of 256-bin
// histograms: counts for top-k, fixed-point mass for top-p) and draws by
// inverse CDF in index order. All sums are integers, so a row's token does
// not depend on the order of the atomics.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Sampling.h"

#include <cuda_runtime.h>

using namespace kiln::runtime;

namespace {

constexpr int kThreads = 1024;

/// Row `row`, draw `d`: what the kernel reads per block.
struct KernelDraw {
  int64_t logitsRow;
  uint64_t seedRow;
  uint64_t index;
};

/// z_i = logit_i / T, as the host computes it.
__device__ float scaled(const float *row, int64_t i, float temperature) {
  return row[i] / temperature;
}

/// The weight of z against the maximum m: 1 at the maximum, else exp(z - m).
__device__ float weight(float z, float m) {
  return z == m ? 1.0f : expf(z - m);
}

/// The largest key K such that the sum of value(i) over the elements with
/// key >= K (and key >= minKey) is >= needed: four passes over the row, one
/// 8-bit digit each, from the top. value is 1 (counts) or the fixed-point
/// weight (mass). Called by every thread of the block; returns K to all.
__device__ uint32_t radixFind(const float *row, int64_t vocab,
                              float temperature, float m, bool mass,
                              uint32_t minKey, double needed) {
  __shared__ unsigned long long hist[256];
  __shared__ uint32_t prefix;
  __shared__ unsigned long long above;
  if (threadIdx.x == 0) {
    prefix = 0;
    above = 0;
  }
  for (int pass = 0; pass < 4; ++pass) {
    const int shift = 24 - 8 * pass;
    for (int d = threadIdx.x; d < 256; d += blockDim.x)
      hist[d] = 0;
    __syncthreads();
    const uint32_t want = prefix;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      float z = scaled(row, i, temperature);
      uint32_t key = samplingKey(__float_as_uint(z));
      if (key < minKey || (uint64_t(key ^ want) >> (shift + 8)) != 0)
        continue;
      unsigned long long v = mass ? samplingFixed(weight(z, m)) : 1ull;
      atomicAdd(&hist[(key >> shift) & 255u], v);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      unsigned long long cum = above;
      int d = 255;
      for (; d > 0; --d) {
        if (double(cum + hist[d]) >= needed)
          break;
        cum += hist[d];
      }
      above = cum;
      prefix = want | (uint32_t(d) << shift);
    }
    __syncthreads();
  }
  return prefix;
}

/// One block per draw: the token of draws[blockIdx.x] into tokens.
__global__ void sampleKernel(const float *logits, int64_t vocab,
                             const KernelDraw *draws, DeviceSamplingParams p,
                             int64_t *tokens) {
  const KernelDraw draw = draws[blockIdx.x];
  const float *row = logits + draw.logitsRow * vocab;
  const float temperature = p.greedy ? 1.0f : p.temperature;
  __shared__ float bestValue[kThreads];
  __shared__ int64_t bestIndex[kThreads];
  __shared__ int nan;
  if (threadIdx.x == 0)
    nan = 0;
  __syncthreads();
  // The maximum of z (greedy: of the logits), lowest index on ties.
  float best = -INFINITY;
  int64_t at = -1;
  for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
    float z = scaled(row, i, temperature);
    if (isnan(z)) {
      nan = 1;
      continue;
    }
    if (at < 0 || z > best) {
      best = z;
      at = i;
    }
  }
  bestValue[threadIdx.x] = best;
  bestIndex[threadIdx.x] = at;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) {
      float v = bestValue[threadIdx.x + s];
      int64_t j = bestIndex[threadIdx.x + s];
      int64_t i = bestIndex[threadIdx.x];
      if (j >= 0 && (i < 0 || v > bestValue[threadIdx.x] ||
                     (v == bestValue[threadIdx.x] && j < i))) {
        bestValue[threadIdx.x] = v;
        bestIndex[threadIdx.x] = j;
      }
    }
    __syncthreads();
  }
  if (nan) {
    if (threadIdx.x == 0)
      tokens[blockIdx.x] = -1;
    return;
  }
  if (p.greedy) {
    if (threadIdx.x == 0)
      tokens[blockIdx.x] = bestIndex[0];
    return;
  }
  const float m = bestValue[0];
  uint32_t minKey = 0;
  if (p.topK > 0 && p.topK < vocab)
    minKey = radixFind(row, vocab, temperature, m, /*mass=*/false, 0,
                       double(p.topK));
  __shared__ unsigned long long sums[kThreads];
  // The kept mass, per thread over a contiguous segment (index order).
  const int64_t seg = (vocab + blockDim.x - 1) / blockDim.x;
  const int64_t lo = min(vocab, int64_t(threadIdx.x) * seg);
  const int64_t hi = min(vocab, lo + seg);
  auto keptMass = [&](uint32_t threshold) {
    unsigned long long s = 0;
    for (int64_t i = lo; i < hi; ++i) {
      float z = scaled(row, i, temperature);
      if (samplingKey(__float_as_uint(z)) >= threshold)
        s += samplingFixed(weight(z, m));
    }
    return s;
  };
  __shared__ unsigned long long total;
  auto blockTotal = [&](unsigned long long mine) {
    sums[threadIdx.x] = mine;
    __syncthreads();
    if (threadIdx.x == 0) {
      unsigned long long t = 0;
      for (int i = 0; i < blockDim.x; ++i) {
        unsigned long long v = sums[i];
        sums[i] = t; // exclusive prefix
        t += v;
      }
      total = t;
    }
    __syncthreads();
  };
  if (p.topP < 1) {
    blockTotal(keptMass(minKey));
    const double needed = p.topP * double(total);
    __syncthreads();
    minKey =
        radixFind(row, vocab, temperature, m, /*mass=*/true, minKey, needed);
  }
  unsigned long long mine = keptMass(minKey);
  blockTotal(mine);
  const double u = samplingUniform(p.seed, draw.seedRow, draw.index);
  const unsigned long long target = (unsigned long long)(u * double(total));
  const unsigned long long before = sums[threadIdx.x];
  if (before <= target && target < before + mine) {
    unsigned long long cum = before;
    for (int64_t i = lo; i < hi; ++i) {
      float z = scaled(row, i, temperature);
      if (samplingKey(__float_as_uint(z)) < minKey)
        continue;
      cum += samplingFixed(weight(z, m));
      if (cum > target) {
        tokens[blockIdx.x] = i;
        break;
      }
    }
  }
}

bool ok(cudaError_t e, const char *what, std::string &error) {
  if (e == cudaSuccess)
    return true;
  error = std::string("sampling on the device: ") + what + ": " +
          cudaGetErrorString(e);
  return false;
}

} // namespace

struct DeviceSampler::Impl {
  int device = 0;
  int64_t maxDraws = 0;
  KernelDraw *draws = nullptr;
  int64_t *tokens = nullptr;
  float *hostLogits = nullptr;
  size_t hostLogitsBytes = 0;
  ~Impl() {
    cudaFree(draws);
    cudaFree(tokens);
    cudaFree(hostLogits);
  }
};

DeviceSampler::DeviceSampler(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
DeviceSampler::~DeviceSampler() = default;

std::unique_ptr<DeviceSampler>
DeviceSampler::create(int device, int64_t maxDraws, std::string &error) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count <= device) {
    cudaGetLastError();
    error = "no CUDA device (device " + std::to_string(device) + ")";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->maxDraws = maxDraws < 1 ? 1 : maxDraws;
  if (!ok(cudaSetDevice(device), "cudaSetDevice", error) ||
      !ok(cudaMalloc(&impl->draws, impl->maxDraws * sizeof(KernelDraw)),
          "cudaMalloc of the draws", error) ||
      !ok(cudaMalloc(&impl->tokens, impl->maxDraws * sizeof(int64_t)),
          "cudaMalloc of the tokens", error))
    return nullptr;
  return std::unique_ptr<DeviceSampler>(new DeviceSampler(std::move(impl)));
}

bool DeviceSampler::sample(const float *logits, int64_t vocab,
                           const std::vector<DeviceDraw> &draws,
                           const DeviceSamplingParams &params, void *stream,
                           std::vector<int64_t> &tokens, std::string &error) {
  Impl &s = *impl;
  tokens.assign(draws.size(), -1);
  if (draws.empty())
    return true;
  if (int64_t(draws.size()) > s.maxDraws) {
    error = "sampling on the device: " + std::to_string(draws.size()) +
            " draws, buffers for " + std::to_string(s.maxDraws);
    return false;
  }
  std::vector<KernelDraw> host(draws.size());
  for (size_t i = 0; i < draws.size(); ++i)
    host[i] = {draws[i].logitsRow, draws[i].seedRow, draws[i].index};
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (!ok(cudaSetDevice(s.device), "cudaSetDevice", error) ||
      !ok(cudaMemcpyAsync(s.draws, host.data(),
                          host.size() * sizeof(KernelDraw),
                          cudaMemcpyHostToDevice, st),
          "copy of the draws", error))
    return false;
  sampleKernel<<<unsigned(draws.size()), kThreads, 0, st>>>(
      logits, vocab, s.draws, params, s.tokens);
  return ok(cudaGetLastError(), "launch of the sampling kernel", error) &&
         ok(cudaMemcpyAsync(tokens.data(), s.tokens,
                            tokens.size() * sizeof(int64_t),
                            cudaMemcpyDeviceToHost, st),
            "copy of the tokens", error) &&
         ok(cudaStreamSynchronize(st), "the sampling kernel", error);
}

bool DeviceSampler::sampleHost(const float *logits, int64_t rows, int64_t vocab,
                               const std::vector<DeviceDraw> &draws,
                               const DeviceSamplingParams &params,
                               std::vector<int64_t> &tokens,
                               std::string &error) {
  Impl &s = *impl;
  size_t bytes = size_t(rows * vocab) * sizeof(float);
  if (bytes > s.hostLogitsBytes) {
    cudaFree(s.hostLogits);
    s.hostLogits = nullptr;
    s.hostLogitsBytes = 0;
    if (!ok(cudaMalloc(&s.hostLogits, bytes), "cudaMalloc of the logits",
            error))
      return false;
    s.hostLogitsBytes = bytes;
  }
  return ok(cudaMemcpy(s.hostLogits, logits, bytes, cudaMemcpyHostToDevice),
            "copy of the logits", error) &&
         sample(s.hostLogits, vocab, draws, params, nullptr, tokens, error);
}

//===- Sampling.h - the token-sampling algorithm, host and device -*- C++
//-*-===//
//
// The pieces of the sampling algorithm (docs/generation.md "Sampling") that
// the host implementation (sampleToken() in Generate.cpp) and the CUDA
// kernel (Sampling.cu) share bit for bit: the uniform draw of (seed, row,
// index), the order-preserving key of a float, and the fixed-point weight.
// DeviceSampler runs the kernel on a stream, one block per row. The header
// carries no CUDA types; in a build without CUDA DeviceSampler::create()
// fails.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SAMPLING_H
#define KILN_RUNTIME_SAMPLING_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#ifdef __CUDACC__
#define KILN_HOST_DEVICE __host__ __device__
#else
#define KILN_HOST_DEVICE
#endif

namespace kiln::runtime {

/// splitmix64 (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
KILN_HOST_DEVICE inline uint64_t samplingMix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// The uniform double in [0, 1) of draw `index` (the row's new-token index)
/// of row `row` under `seed`: r = mix(mix(seed + row) + index), u = the top 53
/// bits of r / 2^53. Row b under seed S draws what row 0 under S + b does.
KILN_HOST_DEVICE inline double samplingUniform(uint64_t seed, uint64_t row,
                                               uint64_t index) {
  uint64_t r = samplingMix(samplingMix(seed + row) + index);
  return double(r >> 11) * (1.0 / 9007199254740992.0);
}

/// A key whose unsigned order is the order of the float `bits` (NaN
/// excluded): negative floats flipped, positive ones with the sign bit set.
KILN_HOST_DEVICE inline uint32_t samplingKey(uint32_t bits) {
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

/// The weight w in [0, 1] as fixed point with 32 fraction bits (the mass
/// sums are integer, so their order of accumulation does not matter).
KILN_HOST_DEVICE inline uint64_t samplingFixed(float w) {
  return uint64_t(double(w) * 4294967296.0);
}

/// The sampling parameters as the kernel takes them (SamplingOptions with
/// the greedy cases folded in: temperature <= 0 or topK == 1 is greedy).
struct DeviceSamplingParams {
  bool greedy = true;
  float temperature = 1;
  int64_t topK = 0;
  double topP = 1;
  uint64_t seed = 0;
};

/// One row to sample: the row of the [rows, vocab] logits to read, the
/// generation row (its seed is seed + seedRow) and the draw index.
struct DeviceDraw {
  int64_t logitsRow = 0;
  uint64_t seedRow = 0;
  uint64_t index = 0;
};

/// Samples tokens on a CUDA device: one block per draw reads its logits row
/// in device memory and writes one int64 token id (-1 when the row holds a
/// NaN); only the ids come back to the host.
class DeviceSampler {
public:
  /// Prepares buffers for up to `maxDraws` draws on device `device`. Fails
  /// with "no CUDA device" without one (and always without CUDA).
  static std::unique_ptr<DeviceSampler> create(int device, int64_t maxDraws,
                                               std::string &error);
  ~DeviceSampler();
  DeviceSampler(const DeviceSampler &) = delete;
  DeviceSampler &operator=(const DeviceSampler &) = delete;

  /// Samples `draws` from the logits [*, vocab] at device pointer `logits`
  /// on `stream` (a cudaStream_t; null: the default stream), after the work
  /// already queued on it, and waits: `tokens` gets one id per draw.
  bool sample(const float *logits, int64_t vocab,
              const std::vector<DeviceDraw> &draws,
              const DeviceSamplingParams &params, void *stream,
              std::vector<int64_t> &tokens, std::string &error);
  /// sample() of host logits [rows, vocab] (copied to the device first): the
  /// device test's entry point.
  bool sampleHost(const float *logits, int64_t rows, int64_t vocab,
                  const std::vector<DeviceDraw> &draws,
                  const DeviceSamplingParams &params,
                  std::vector<int64_t> &tokens, std::string &error);

  /// Implementation state (CUDA types live in the .cu only).
  struct Impl;

private:
  explicit DeviceSampler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_SAMPLING_H

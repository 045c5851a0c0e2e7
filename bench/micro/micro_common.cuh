// What the decode microbenchmarks in bench/micro share: a CUDA error check
// that returns 1 from the calling function, a hash fill of bf16 values, and
// the device-to-device copy time of the bytes a benchmarked kernel reads.
#ifndef KILN_BENCH_MICRO_COMMON_CUH
#define KILN_BENCH_MICRO_COMMON_CUH

#include <cstdio>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e = (x);                                                       \
    if (e != cudaSuccess) {                                                    \
      printf("%s: %s\n", #x, cudaGetErrorString(e));                          \
      return 1;                                                                \
    }                                                                          \
  } while (0)

// Values in [-scale, scale) from a hash of the index.
__global__ void fill(__nv_bfloat16 *p, int64_t n, float scale, unsigned seed) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    unsigned h = (unsigned)i * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    p[i] = (__nv_bfloat16)(((h & 0xffff) / 32768.0f - 1.0f) * scale);
  }
}

// Microseconds per call of `step(i)` (i = 0 .. iters - 1, each returning a
// cudaError_t), timed with the events a, b, in `us`; 1 on a CUDA error.
template <typename Step>
int timedMicros(int iters, Step step, cudaEvent_t a, cudaEvent_t b,
                double &us) {
  CK(cudaEventRecord(a));
  for (int i = 0; i < iters; ++i)
    CK(step(i));
  CK(cudaEventRecord(b));
  CK(cudaEventSynchronize(b));
  float ms;
  CK(cudaEventElapsedTime(&ms, a, b));
  us = ms * 1000.0 / iters;
  return 0;
}

// Microseconds per cudaMemcpyAsync of `bytes` from copy i to copy i + 1 of
// `copies` rotating copies `stride` elements apart in `w` (100 copies timed
// with the events a, b), in `us`; 1 on a CUDA error.
inline int copyMicros(__nv_bfloat16 *w, int copies, int64_t stride,
                      double bytes, cudaEvent_t a, cudaEvent_t b, double &us) {
  return timedMicros(
      100,
      [&](int i) {
        return cudaMemcpyAsync(w + ((i + 1) % copies) * stride,
                               w + (i % copies) * stride, bytes,
                               cudaMemcpyDeviceToDevice);
      },
      a, b, us);
}

// copyMicros of `bytes`, printed as the line the gate/up benchmarks start
// with: the copy's time and rate, and a read of the bytes at that rate
// (`label` names them, e.g. "67 MB"); 1 on a CUDA error.
inline int printCopyRate(const char *label, __nv_bfloat16 *w, int copies,
                         int64_t stride, double bytes, cudaEvent_t a,
                         cudaEvent_t b) {
  double us;
  if (copyMicros(w, copies, stride, bytes, a, b, us))
    return 1;
  printf("copy %-7s %7.2f us  %7.1f GB/s (read + write); a read of %s at "
         "that rate: %.2f us\n",
         label, us, 2 * bytes / us / 1e3, label, us / 2);
  return 0;
}

#endif // KILN_BENCH_MICRO_COMMON_CUH

// Microbenchmark: how a decode GEMV streams its weights. The shape is
// Llama-3.2-1B's gate/up projection (x[1, 2048] bf16, two weights
// [8192, 2048] read as rows, SwiGLU epilogue), timed alone with CUDA
// events over rotating weight copies (L2 holds none of them), beside a
// device copy of the same bytes. Variants:
//   oneShot   kiln's GEMV as generated: one warp per output column, the
//             column's two 4 KB rows loaded at once (gemvDots), grid =
//             columns / 8 warps (1024 blocks of 256)
//   strided   the same warps looping over columns with a grid of a few
//             blocks per SM (persistent): does the wave tail matter?
//   pipelined persistent, and each warp issues the next column's loads
//             before it sums the current one (two register buffers)
//   bulk      persistent blocks; each warp streams its columns through
//             shared memory with cp.async.bulk (TMA, 1-D) in Stages
//             buffers, an mbarrier per buffer, so Stages columns are in
//             flight per warp without registers holding them
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/gemv_stream.cu -o /tmp/gs && /tmp/gs
#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <cstdio>
#include <cuda_runtime.h>

using bf = __nv_bfloat16;

constexpr int64_t K = 2048, N = 8192;

__device__ __forceinline__ void epilogue(float g, float u, bf *out, int64_t c) {
  g = (float)(bf)g;
  u = (float)(bf)u;
  out[c] = (bf)(g / (1.0f + expf(-g)) * u);
}

// oneShot and strided: kiln::gemvDots per column.
__global__ void __launch_bounds__(256)
    gateUpDots(const bf *x, const bf *wg, const bf *wu, bf *out) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  kiln::GemvX<1, K, bf> xs{x};
  for (int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
       c < N; c += warps) {
    const bf *rows[2] = {wg + c * K, wu + c * K};
    float acc[2][1];
    kiln::gemvDots<1, K, 2>(xs, rows, acc);
    if (lane == 0)
      epilogue(acc[0][0], acc[1][0], out, c);
  }
}

// pipelined: the next column's 2 x 8 int4 per lane are loaded before the
// current column is summed.
constexpr int Tile = K / 8 / 32; // 16-byte chunks per lane per row: 8
__device__ __forceinline__ void loadColumn(const bf *wg, const bf *wu,
                                           int64_t c, int lane,
                                           int4 (&w)[2][Tile]) {
#pragma unroll
  for (int j = 0; j < Tile; ++j) {
    w[0][j] = __ldg(reinterpret_cast<const int4 *>(wg + c * K) + lane + 32 * j);
    w[1][j] = __ldg(reinterpret_cast<const int4 *>(wu + c * K) + lane + 32 * j);
  }
}
__device__ __forceinline__ void sumColumn(const bf *x, int lane,
                                          const int4 (&w)[2][Tile],
                                          float (&acc)[2]) {
  acc[0] = acc[1] = 0.0f;
#pragma unroll
  for (int j = 0; j < Tile; ++j) {
    kiln::Vec16<bf> xv = reinterpret_cast<const kiln::Vec16<bf> *>(x)[lane + 32 * j];
#pragma unroll
    for (int l = 0; l < 2; ++l) {
      kiln::Vec16<bf> wv = *reinterpret_cast<const kiln::Vec16<bf> *>(&w[l][j]);
#pragma unroll
      for (int e = 0; e < 8; ++e)
        acc[l] += (float)xv.e[e] * (float)wv.e[e];
    }
  }
  acc[0] = kiln::warpSum(acc[0]);
  acc[1] = kiln::warpSum(acc[1]);
}
__global__ void __launch_bounds__(256)
    gateUpPipelined(const bf *x, const bf *wg, const bf *wu, bf *out) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  if (c >= N)
    return;
  int4 a[2][Tile], b[2][Tile];
  loadColumn(wg, wu, c, lane, a);
  for (;;) {
    int64_t next = c + warps;
    float acc[2];
    if (next < N)
      loadColumn(wg, wu, next, lane, b);
    sumColumn(x, lane, a, acc);
    if (lane == 0)
      epilogue(acc[0], acc[1], out, c);
    if (next >= N)
      return;
    c = next;
    next = c + warps;
    if (next < N)
      loadColumn(wg, wu, next, lane, a);
    sumColumn(x, lane, b, acc);
    if (lane == 0)
      epilogue(acc[0], acc[1], out, c);
    if (next >= N)
      return;
    c = next;
  }
}

// bulk: cp.async.bulk global -> shared, completion on an mbarrier.
__device__ __forceinline__ void mbarInit(uint64_t *bar, unsigned count) {
  asm volatile("mbarrier.init.shared.b64 [%0], %1;" ::"r"(
                   (unsigned)__cvta_generic_to_shared(bar)),
               "r"(count));
}
__device__ __forceinline__ void mbarExpect(uint64_t *bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;" ::"r"(
                   (unsigned)__cvta_generic_to_shared(bar)),
               "r"(bytes));
}
__device__ __forceinline__ void bulkLoad(void *dst, const void *src,
                                         unsigned bytes, uint64_t *bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes "
      "[%0], [%1], %2, [%3];" ::"r"((unsigned)__cvta_generic_to_shared(dst)),
      "l"(src), "r"(bytes), "r"((unsigned)__cvta_generic_to_shared(bar))
      : "memory");
}
__device__ __forceinline__ void mbarWait(uint64_t *bar, unsigned phase) {
  unsigned addr = (unsigned)__cvta_generic_to_shared(bar);
  asm volatile("{\n .reg .pred p;\n"
               "W: mbarrier.try_wait.parity.shared.b64 p, [%0], %1;\n"
               " @!p bra W;\n}" ::"r"(addr),
               "r"(phase)
               : "memory");
}
template <int Stages>
__global__ void __launch_bounds__(256)
    gateUpBulk(const bf *x, const bf *wg, const bf *wu, bf *out) {
  extern __shared__ __align__(128) unsigned char smem[];
  constexpr int WarpsPerBlock = 8;
  constexpr unsigned RowBytes = K * 2;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  bf *buf = reinterpret_cast<bf *>(smem) + (size_t)warp * Stages * 2 * K;
  __shared__ uint64_t bars[WarpsPerBlock][Stages];
  const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  const int64_t first = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  if (lane == 0)
    for (int s = 0; s < Stages; ++s)
      mbarInit(&bars[warp][s], 1);
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  __syncwarp();
  auto issue = [&](int64_t c, int s) {
    if (lane == 0 && c < N) {
      mbarExpect(&bars[warp][s], 2 * RowBytes);
      bulkLoad(buf + (size_t)s * 2 * K, wg + c * K, RowBytes, &bars[warp][s]);
      bulkLoad(buf + (size_t)s * 2 * K + K, wu + c * K, RowBytes,
               &bars[warp][s]);
    }
  };
  for (int s = 0; s < Stages; ++s)
    issue(first + s * warps, s);
  unsigned phase[Stages] = {};
  int s = 0;
  for (int64_t c = first; c < N; c += warps) {
    mbarWait(&bars[warp][s], phase[s]);
    phase[s] ^= 1;
    float acc[2] = {0.0f, 0.0f};
    const bf *rg = buf + (size_t)s * 2 * K, *ru = rg + K;
#pragma unroll
    for (int j = 0; j < Tile; ++j) {
      kiln::Vec16<bf> xv = reinterpret_cast<const kiln::Vec16<bf> *>(x)[lane + 32 * j];
      kiln::Vec16<bf> gv = reinterpret_cast<const kiln::Vec16<bf> *>(rg)[lane + 32 * j];
      kiln::Vec16<bf> uv = reinterpret_cast<const kiln::Vec16<bf> *>(ru)[lane + 32 * j];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        acc[0] += (float)xv.e[e] * (float)gv.e[e];
        acc[1] += (float)xv.e[e] * (float)uv.e[e];
      }
    }
    __syncwarp();
    issue(c + Stages * warps, s);
    acc[0] = kiln::warpSum(acc[0]);
    acc[1] = kiln::warpSum(acc[1]);
    if (lane == 0)
      epilogue(acc[0], acc[1], out, c);
    s = (s + 1) % Stages;
  }
}

int main() {
  constexpr int Copies = 6; // 6 x 67 MB: more than L2
  bf *x, *w, *out[2];
  CK(cudaMalloc(&x, K * 2));
  CK(cudaMalloc(&w, Copies * 2 * N * K * 2));
  for (auto &o : out)
    CK(cudaMalloc(&o, N * 2));
  fill<<<64, 256>>>(x, K, 4.0f, 1);
  fill<<<4096, 256>>>(w, Copies * 2 * N * K, 0.05f, 3);
  CK(cudaDeviceSynchronize());
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  double bytes = 2.0 * N * K * 2;
  static bf ref[N], got[N];
  bool haveRef = false;
  int bad = 0;
  auto time = [&](const char *name, auto kernel, int grid, size_t smem) -> int {
    if (smem > 48 * 1024)
      CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              (int)smem));
    for (int i = 0; i < 20; ++i)
      kernel<<<grid, 256, smem>>>(x, w + (i % Copies) * 2 * N * K,
                                  w + (i % Copies) * 2 * N * K + N * K, out[1]);
    CK(cudaGetLastError());
    const int iters = 300;
    CK(cudaEventRecord(a));
    for (int i = 0; i < iters; ++i)
      kernel<<<grid, 256, smem>>>(x, w + (i % Copies) * 2 * N * K,
                                  w + (i % Copies) * 2 * N * K + N * K, out[1]);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    double us = ms * 1000.0 / iters;
    cudaFuncAttributes attr;
    CK(cudaFuncGetAttributes(&attr, kernel));
    // Every variant computes the same columns of copy (iters - 1) % Copies.
    CK(cudaMemcpy(got, out[1], N * 2, cudaMemcpyDeviceToHost));
    if (!haveRef) {
      memcpy(ref, got, sizeof ref);
      haveRef = true;
    }
    float worst = 0, largest = 0;
    for (int64_t i = 0; i < N; ++i) {
      worst = fmaxf(worst, fabsf((float)ref[i] - (float)got[i]));
      largest = fmaxf(largest, fabsf((float)ref[i]));
    }
    bool ok = worst <= 1e-2f * largest;
    bad |= !ok;
    printf("%-12s grid %5d smem %6zu regs %3d: %7.2f us  %7.1f GB/s  %s\n",
           name, grid, smem, attr.numRegs, us, bytes / us / 1e3,
           ok ? "same" : "DIFFERENT");
    return 0;
  };
  if (printCopyRate("67 MB", w, Copies, 2 * N * K, bytes, a, b))
    return 1;
  int e = 0;
  e |= time("oneShot", gateUpDots, N / 8, 0);
  for (int per : {1, 2, 3, 4, 8})
    e |= time("strided", gateUpDots, sms * per, 0);
  for (int per : {1, 2, 3, 4})
    e |= time("pipelined", gateUpPipelined, sms * per, 0);
  for (int per : {1, 2})
    e |= time("bulk2", gateUpBulk<2>, sms * per, 8 * 2 * 2 * K * 2);
  for (int per : {1})
    e |= time("bulk3", gateUpBulk<3>, sms * per, 8 * 3 * 2 * K * 2);
  return e || bad;
}

// Microbenchmark: kiln's GEMV at 8 rows of x on the tensor cores
// (kiln::gemvMmaPartials) against its 1-row kernel, on Llama-3.2-1B's gate/up
// projection (x[M, 2048] bf16 with the RMSNorm folded in, two weights
// [8192, 2048] read as rows, SwiGLU), timed alone with CUDA events over
// rotating weight copies (L2 holds none of them). Variants:
//   dots M=1     kiln::gemvDots, one warp per column (the batch-1 kernel)
//   mma M=8      kiln::gemvMmaPartials/Result as generated: a tile of 8
//                columns per 8 warps (S = 8), each lane loading 16 bytes of
//                its lane group's row per step (8 rows x 64 bytes per
//                load), with ldgWeight's L2 hint of 128 bytes; "L2:none"
//                and "L2:256" other hints, "S=4", "S=2" fewer warps a tile,
//                "lanes8" the first kernel's reduction (lanes 0..7 of one
//                warp summing and storing all 8 M outputs)
//   mma M=1      the same kernel with one row of x (what the rows cost)
//   mma M=8 minb4 / ahead   __launch_bounds__(256, 4), and gemvMmaPartials'
//                Ahead (session 16; not yet run; ptxas: minb4 spills 60
//                bytes, ahead none)
//   staged M=8   the same products, but each warp first copies its 8 rows'
//                slice into shared memory with cp.async, a row's 512 bytes
//                per instruction (as the 1-row kernel reads), then takes
//                the fragments from there
//   load rows    loads only (no products), 512 bytes of one row per
//                instruction
//   load tiles   loads only, 8 rows x 64 bytes per instruction
// Every variant of M = 8 (and of M = 1) must compute the same outputs.
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/gemv_mma.cu -o /tmp/gm && /tmp/gm
#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>

using bf = __nv_bfloat16;

constexpr int64_t K = 2048, N = 8192, MaxM = 8;

template <int64_t M>
__device__ __forceinline__ void epilogue(float g, float u, bf *out,
                                         int64_t m, int64_t n) {
  g = (float)(bf)g;
  u = (float)(bf)u;
  out[m * N + n] = (bf)(g / (1.0f + expf(-g)) * u);
}

template <int64_t M>
__global__ void __launch_bounds__(256)
    dots(const bf *x, const bf *scale, const bf *wg, const bf *wu, bf *out) {
  const int lane = threadIdx.x & 31;
  kiln::GemvRmsX<M, K, bf> xs{x, scale, 1e-5f};
  int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  if (c >= N)
    return;
  const bf *rows[2] = {wg + c * K, wu + c * K};
  float acc[2][M];
  kiln::gemvDots<M, K, 2>(xs, rows, acc);
  if (lane == 0)
    for (int64_t m = 0; m < M; ++m)
      epilogue<M>(acc[0][m], acc[1][m], out, m, c);
}

// As kiln-gemv's kernels are generated (codegen/EmitLinalg.cpp), with
// S = 8 by default; Hint: ldgWeight's L2 fetch size; Lanes8: the old
// reduction, where lanes 0..7 of warp slice 0 summed and stored all 8 M
// outputs of the tile (the kernel as first measured).
template <int64_t M, int Hint = 128, bool Lanes8 = false, int S = 8,
          int MinBlocks = 0, bool Ahead = false>
__global__ void __launch_bounds__(256, MinBlocks)
    mma(const bf *x, const bf *scale, const bf *wg, const bf *wu, bf *out) {
  __shared__ float part[8 * kiln::kGemvMmaStride<2>];
  kiln::GemvRmsX<M, K, bf> xs{x, scale, 1e-5f};
  const int lane = threadIdx.x & 31, slice = (threadIdx.x >> 5) % S;
  int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / S;
  if (c >= N / 8)
    return;
  const int64_t n0 = c * 8, r = n0 + (lane >> 2);
  const bf *rows[2] = {wg + r * K + slice * (K / S),
                       wu + r * K + slice * (K / S)};
  kiln::gemvMmaPartials<S, kiln::kGemvMmaStride<2>, M, K, 2, Hint, Ahead>(
      xs, rows, part);
  if (Lanes8) {
    if (slice == 0 && lane < 8)
      for (int64_t m = 0; m < M; ++m) {
        float acc[2][1];
        kiln::gemvMmaResult<S, kiln::kGemvMmaStride<2>, M, 2>(xs, part, (int)m * 8 + lane, acc);
        epilogue<M>(acc[0][0], acc[1][0], out, m, n0 + lane);
      }
  } else {
    for (int o = slice * 32 + lane; o < 8 * M; o += 32 * S) {
      float acc[2][1];
      kiln::gemvMmaResult<S, kiln::kGemvMmaStride<2>, M, 2>(xs, part, o, acc);
      epilogue<M>(acc[0][0], acc[1][0], out, o >> 3, n0 + (o & 7));
    }
  }
  kiln::gemvMmaDone<S>();
}

__device__ __forceinline__ void cpAsync16(void *dst, const void *src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(
                   (unsigned)__cvta_generic_to_shared(dst)),
               "l"(src)
               : "memory");
}

// gemvMmaPartials with the weights staged through shared memory: per warp and
// weight, 8 rows x (256 + 32) elements (the 32 pad elements put the 8 rows
// on different banks for the fragment reads).
constexpr int Pitch = 256 + 32;
template <int64_t M>
__global__ void __launch_bounds__(256)
    staged(const bf *x, const bf *scale, const bf *wg, const bf *wu, bf *out) {
  constexpr int S = 8, L = 2;
  constexpr int64_t KS = K / S; // 256 elements: one round
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ float part[8 * kiln::kGemvMmaStride<2>];
  kiln::GemvRmsX<M, K, bf> xs{x, scale, 1e-5f};
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31,
            slice = warp % S, g = lane >> 2, t = lane & 3;
  bf *stage = reinterpret_cast<bf *>(smem) + warp * L * 8 * Pitch;
  int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / S;
  if (c >= N / 8)
    return;
  const int64_t n0 = c * 8;
  const bf *w[2] = {wg, wu};
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int r = 0; r < 8; ++r)
      cpAsync16(stage + (l * 8 + r) * Pitch + lane * 8,
                w[l] + (n0 + r) * K + slice * KS + lane * 8);
  asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;" ::: "memory");
  __syncwarp();
  float d[L][4] = {};
  float sq = 0.0f;
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    float f[8];
    if (g < M) {
      sq += xs.loadOwn(g, (slice * KS + j * 32) / 8 + t, f);
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e)
        f[e] = 0.0f;
    }
    uint32_t a0 = kiln::packPair<bf>(f[0], f[1]),
             a1 = kiln::packPair<bf>(f[2], f[3]),
             a2 = kiln::packPair<bf>(f[4], f[5]),
             a3 = kiln::packPair<bf>(f[6], f[7]);
#pragma unroll
    for (int l = 0; l < L; ++l) {
      int4 wv = *reinterpret_cast<const int4 *>(stage + (l * 8 + g) * Pitch +
                                                j * 32 + t * 8);
      kiln::mma16816<bf>(d[l], a0, 0u, a1, 0u, (uint32_t)wv.x, (uint32_t)wv.y);
      kiln::mma16816<bf>(d[l], a2, 0u, a3, 0u, (uint32_t)wv.z, (uint32_t)wv.w);
    }
  }
  // The same reduction as gemvMmaPartials / gemvMmaResult.
  sq += __shfl_xor_sync(0xffffffffu, sq, 1);
  sq += __shfl_xor_sync(0xffffffffu, sq, 2);
  constexpr int64_t Stride = kiln::kGemvMmaStride<2>;
  float *mine = part + warp * Stride;
#pragma unroll
  for (int l = 0; l < L; ++l) {
    mine[l * 64 + g * 8 + 2 * t] = d[l][0];
    mine[l * 64 + g * 8 + 2 * t + 1] = d[l][1];
  }
  if (t == 0)
    mine[L * 64 + g] = sq;
  __syncthreads();
  if (slice == 0 && lane < 8) {
    float acc[2][M];
    const float *tile0 = part + (warp - slice) * Stride;
    for (int64_t m = 0; m < M; ++m) {
      float ss = 0.0f;
      acc[0][m] = acc[1][m] = 0.0f;
      for (int s = 0; s < S; ++s) {
        acc[0][m] += tile0[s * Stride + m * 8 + lane];
        acc[1][m] += tile0[s * Stride + 64 + m * 8 + lane];
        ss += tile0[s * Stride + L * 64 + m];
      }
      float fm = xs.finish(m, ss);
      epilogue<M>(acc[0][m] * fm, acc[1][m] * fm, out, m, n0 + lane);
    }
  }
}

// Loads only: each warp reads 2 x 4 KB (one row of each weight, rows) or
// its 8 rows' 512-byte slices of each weight (tiles), and stores an xor.
__global__ void __launch_bounds__(256)
    loadRows(const bf *, const bf *, const bf *wg, const bf *wu, bf *out) {
  const int lane = threadIdx.x & 31;
  int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  int4 v[2][8];
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    v[0][j] = __ldg(reinterpret_cast<const int4 *>(wg + c * K) + lane + 32 * j);
    v[1][j] = __ldg(reinterpret_cast<const int4 *>(wu + c * K) + lane + 32 * j);
  }
  int h = 0;
#pragma unroll
  for (int j = 0; j < 8; ++j)
    h ^= v[0][j].x ^ v[0][j].w ^ v[1][j].y ^ v[1][j].z;
  if (h == 0x12345678)
    out[c] = (bf)1.0f;
}
__global__ void __launch_bounds__(256)
    loadTiles(const bf *, const bf *, const bf *wg, const bf *wu, bf *out) {
  const int lane = threadIdx.x & 31, slice = (threadIdx.x >> 5) % 8;
  int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 8;
  const int64_t r = c * 8 + (lane >> 2);
  const int t = lane & 3;
  int4 v[2][8];
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    v[0][j] = __ldg(reinterpret_cast<const int4 *>(wg + r * K + slice * 256) + j * 4 + t);
    v[1][j] = __ldg(reinterpret_cast<const int4 *>(wu + r * K + slice * 256) + j * 4 + t);
  }
  int h = 0;
#pragma unroll
  for (int j = 0; j < 8; ++j)
    h ^= v[0][j].x ^ v[0][j].w ^ v[1][j].y ^ v[1][j].z;
  if (h == 0x12345678)
    out[c] = (bf)1.0f;
}

int main() {
  constexpr int Copies = 6; // 6 x 67 MB: more than L2
  bf *x, *scale, *w, *out;
  CK(cudaMalloc(&x, MaxM * K * 2));
  CK(cudaMalloc(&scale, K * 2));
  CK(cudaMalloc(&w, Copies * 2 * N * K * 2));
  CK(cudaMalloc(&out, MaxM * N * 2));
  fill<<<64, 256>>>(x, MaxM * K, 4.0f, 1);
  fill<<<64, 256>>>(scale, K, 1.0f, 2);
  fill<<<4096, 256>>>(w, Copies * 2 * N * K, 0.05f, 3);
  CK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  double bytes = 2.0 * N * K * 2;
  static bf ref[2][MaxM * N], got[MaxM * N];
  bool haveRef[2] = {false, false};
  int bad = 0;
  // m: rows of x the variant computes (its outputs are compared with the
  // first variant's of the same m); 0 for the loads-only kernels.
  auto time = [&](const char *name, auto kernel, int grid, size_t smem,
                  int m) -> int {
    if (smem > 48 * 1024)
      CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              (int)smem));
    auto launch = [&](int i) {
      kernel<<<grid, 256, smem>>>(x, scale, w + (i % Copies) * 2 * N * K,
                                  w + (i % Copies) * 2 * N * K + N * K, out);
      return cudaGetLastError();
    };
    for (int i = 0; i < 20; ++i)
      CK(launch(i));
    double us;
    if (timedMicros(300, launch, a, b, us))
      return 1;
    cudaFuncAttributes attr;
    CK(cudaFuncGetAttributes(&attr, kernel));
    const char *verdict = "";
    if (m) {
      // Every variant computes copy (300 - 1) % Copies last.
      CK(cudaMemcpy(got, out, m * N * 2, cudaMemcpyDeviceToHost));
      int k = m == 1 ? 0 : 1;
      if (!haveRef[k]) {
        memcpy(ref[k], got, m * N * 2);
        haveRef[k] = true;
      }
      float worst = 0, largest = 0;
      for (int64_t i = 0; i < m * N; ++i) {
        worst = fmaxf(worst, fabsf((float)ref[k][i] - (float)got[i]));
        largest = fmaxf(largest, fabsf((float)ref[k][i]));
      }
      bool ok = worst <= 2e-2f * largest;
      bad |= !ok;
      verdict = ok ? "same" : "DIFFERENT";
    }
    printf("%-16s grid %5d smem %6zu regs %3d: %7.2f us  %7.1f GB/s  %s\n",
           name, grid, smem, attr.numRegs, us, bytes / us / 1e3, verdict);
    return 0;
  };
  if (printCopyRate("67 MB", w, Copies, 2 * N * K, bytes, a, b))
    return 1;
  int e = 0;
  for (int pass = 0; pass < 2; ++pass) { // the first pass warms the clocks
    e |= time("dots M=1", dots<1>, N / 8, 0, 1);
    e |= time("mma M=1", mma<1>, N / 8, 0, 1);
    e |= time("mma M=8 lanes8", mma<8, 0, true>, N / 8, 0, 8);
    e |= time("mma M=8 L2:none", mma<8, 0>, N / 8, 0, 8);
    e |= time("mma M=8", mma<8>, N / 8, 0, 8);
    e |= time("mma M=8 L2:256", mma<8, 256>, N / 8, 0, 8);
    e |= time("mma M=8 S=4", mma<8, 0, false, 4>, N / 16, 0, 8);
    e |= time("mma M=8 S=2", mma<8, 0, false, 2>, N / 32, 0, 8);
    // Session 16: 4 blocks an SM (kiln-compile --gemv-mma-min-blocks=4)
    // and the next round's loads ahead (--gemv-mma-ahead).
    e |= time("mma M=8 minb4", mma<8, 128, false, 8, 4>, N / 8, 0, 8);
    e |= time("mma M=8 ahead", mma<8, 128, false, 8, 0, true>, N / 8, 0, 8);
    e |= time("staged M=8", staged<8>, N / 8, 8 * 2 * 8 * Pitch * 2, 8);
    e |= time("dots M=8", dots<8>, N / 8, 0, 8);
    e |= time("load rows", loadRows, N / 8, 0, 0);
    e |= time("load tiles", loadTiles, N / 8, 0, 0);
  }
  return e || bad;
}

// Microbenchmark: kiln's tensor-core GEMV at 8 rows of x
// (kiln::gemvMmaPartials) on the narrow products of a batch-8 decode step,
// Llama-3.2-1B's o (x[8, 2048] times w[2048, 2048]) and down (x[8, 8192]
// times w[2048, 8192]): 256 tiles of 8 columns, 8 warps a tile, so 256
// blocks, 2 an SM; and (session 17) Qwen2.5-0.5B's o (896 x 896, 4 warps a
// tile) and down (896 x 4864, 8 warps a tile: 112 blocks). Session 16's Nsight Compute profile of the step
// (bench/RESULTS.md) found these kernels at 24% achieved occupancy, their
// warps waiting on weight loads (o 1.15 TB/s, down 1.89 TB/s). Variants:
//   mma            gemvMmaPartials as kiln emits it: a round of 8 16-byte
//                  loads a lane, then its mma, then the next round
//   mma ahead      Ahead = true: the next round's loads issued before this
//                  round's mma (two rounds in flight a warp)
//   dots M=1       the 1-row kernel (kiln::gemvDots, a warp a column) on
//                  one row of x, for its rate on the same weights
// timed alone with CUDA events over rotating weight copies (L2 holds none
// of them), median-free mean of 300 launches after 20. `mma ahead` must
// give bit-identical outputs to `mma` (the same products in the same
// order); the exit status is 1 when it does not, or on a CUDA error.
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/gemv_mma_narrow.cu -o /tmp/gmn && /tmp/gmn
#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <cstdio>
#include <cstring>
#include <vector>

using bf = __nv_bfloat16;

constexpr int64_t M = 8;

template <int64_t N, int64_t K, bool Ahead>
__global__ void __launch_bounds__(256) mma(const bf *x, const bf *w, bf *out) {
  constexpr int S = kiln::gemvMmaSplit<K, 1>();
  __shared__ float part[8 * kiln::kGemvMmaStride<1>];
  kiln::GemvX<M, K, bf> xr{x};
  const int lane = threadIdx.x & 31, slice = (threadIdx.x >> 5) % S;
  int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / S;
  if (c >= N / 8)
    return;
  const int64_t n0 = c * 8;
  const bf *rows[1] = {w + (n0 + (lane >> 2)) * K + slice * (K / S)};
  kiln::gemvMmaPartials<S, kiln::kGemvMmaStride<1>, M, K, 1, 128, Ahead>(
      xr, rows, part);
  for (int o = slice * 32 + lane; o < 8 * M; o += 32 * S) {
    float acc[1][1];
    kiln::gemvMmaResult<S, kiln::kGemvMmaStride<1>, M, 1>(xr, part, o, acc);
    out[(o >> 3) * N + n0 + (o & 7)] = (bf)acc[0][0];
  }
  kiln::gemvMmaDone<S>();
}

template <int64_t N, int64_t K>
__global__ void __launch_bounds__(256) dots(const bf *x, const bf *w, bf *out) {
  const int lane = threadIdx.x & 31;
  int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  if (c >= N)
    return;
  const bf *rows[1] = {w + c * K};
  float acc[1][1];
  kiln::gemvDots<1, K, 1>(x, rows, acc);
  if (lane == 0)
    out[c] = (bf)acc[0][0];
}

template <int64_t N, int64_t K> int shape(const char *label) {
  // 8 copies of 8.4, 33.5, 1.6 or 8.7 MB: more than L2 but for Qwen's o.
  constexpr int Copies = N * K * 2 < 4 << 20 ? 64 : 8;
  constexpr int Grid = (int)((N / 8) * kiln::gemvMmaSplit<K, 1>() / 8);
  bf *x, *w, *out;
  CK(cudaMalloc(&x, M * K * 2));
  CK(cudaMalloc(&w, Copies * N * K * 2));
  CK(cudaMalloc(&out, M * N * 2));
  fill<<<64, 256>>>(x, M * K, 4.0f, 1);
  fill<<<4096, 256>>>(w, Copies * N * K, 0.05f, 3);
  CK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  double bytes = 2.0 * N * K;
  std::vector<bf> ref(M * N), got(M * N);
  int bad = 0;
  auto time = [&](const char *name, auto kernel, int grid, int m,
                  bool compare) -> int {
    auto launch = [&](int i) {
      kernel<<<grid, 256>>>(x, w + (i % Copies) * N * K, out);
      return cudaGetLastError();
    };
    for (int i = 0; i < 20; ++i)
      CK(launch(i));
    double us;
    if (timedMicros(300, launch, a, b, us))
      return 1;
    cudaFuncAttributes attr;
    CK(cudaFuncGetAttributes(&attr, kernel));
    // Every variant computes copy 299 % Copies last.
    CK(cudaMemcpy(got.data(), out, m * N * 2, cudaMemcpyDeviceToHost));
    const char *verdict = "";
    if (m == M && !compare) {
      ref = got;
    } else if (compare) {
      bool same = memcmp(ref.data(), got.data(), M * N * 2) == 0;
      bad |= !same;
      verdict = same ? "bit-identical" : "DIFFERENT";
    }
    printf("%-6s %-10s grid %5d regs %3d: %7.2f us  %7.1f GB/s  %s\n", label,
           name, grid, attr.numRegs, us, bytes / us / 1e3, verdict);
    return 0;
  };
  if (printCopyRate(label, w, Copies, N * K, bytes, a, b))
    return 1;
  int e = 0;
  for (int pass = 0; pass < 2; ++pass) { // the first pass warms the clocks
    e |= time("mma", mma<N, K, false>, Grid, M, false);
    e |= time("mma ahead", mma<N, K, true>, Grid, M, true);
    e |= time("dots M=1", dots<N, K>, N / 8, 1, false);
  }
  CK(cudaFree(x));
  CK(cudaFree(w));
  CK(cudaFree(out));
  return e || bad;
}

int main() {
  int e = shape<2048, 2048>("o");
  e |= shape<2048, 8192>("down");
  // Qwen2.5-0.5B's: o (K = 896, S = 4: one round) and down (K = 4864, S =
  // 8: slices of 608 elements, two rounds and 3 steps).
  e |= shape<896, 896>("qwen o");
  e |= shape<896, 4864>("qwen down");
  printf(e ? "gemv_mma_narrow: FAILED\n" : "gemv_mma_narrow: ok\n");
  return e;
}

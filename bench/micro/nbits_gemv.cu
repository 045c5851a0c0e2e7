// Microbenchmark: kiln.matmul_nbits on one decode row, as kiln-compile
// emits it (codegen/EmitQuant.cpp), for the projections of Llama-3.2-1B in
// ONNX Runtime GenAI's int4 form (MatMulNBits, block 32, packed uint8 zero
// points, bf16 activations and scales). Each shape is timed alone with CUDA
// events over rotating copies of its packed weights, scales and zero points
// (more bytes than L2 holds), beside a device copy of the same bytes:
//   gemv Cols kiln::matmulNBitsGemv (kiln::isNBitsGemv: <= 8 rows), each warp
//             computing Cols adjacent columns, grid = N / (8 Cols) blocks of
//             256, for Cols = 1, 2, 4, 8 (kiln::nbitsGemvColumns picks 2 for
//             K = 2048 and 1 for K = 8192 from this benchmark's figures)
//   perElem   kiln::matmulNBits, one thread per output element (what every
//             matmul_nbits ran as before), on the qkv shape only
// Every Cols must give the same bits as Cols = 1 (each column's sum is
// computed alike), and perElem agree within 1e-2 of the largest output (its
// sums run in another order); the exit status is 1 when they do not.
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/nbits_gemv.cu -o /tmp/nb && /tmp/nb
#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>
#include <vector>

using bf = __nv_bfloat16;

constexpr int64_t BS = 32;

template <int64_t N, int64_t K> struct Shape {
  static constexpr int64_t Blocks = K / BS, WBytes = N * K / 2,
                           SElems = N * Blocks, ZBytes = N * ((Blocks + 1) / 2);
  // One copy: packed weights, then scales, then zero points, 256-aligned.
  static constexpr int64_t SOff = (WBytes + 255) / 256 * 256,
                           ZOff = (SOff + SElems * 2 + 255) / 256 * 256,
                           Bytes = (ZOff + ZBytes + 255) / 256 * 256;
  static constexpr double Read = double(WBytes + SElems * 2 + ZBytes);
};

template <int64_t N, int64_t K>
__device__ __forceinline__ float zeroAt(const uint8_t *z, int64_t n,
                                        int64_t j) {
  return (float)((z[n * ((K / BS + 1) / 2) + j / 2] >> ((j & 1) * 4)) & 15);
}

template <int64_t N, int64_t K, int Cols>
__global__ void __launch_bounds__(256)
    gemvKernel(const bf *x, const uint8_t *copy, bf *out) {
  using S = Shape<N, K>;
  const uint8_t *z = copy + S::ZOff;
  kiln::matmulNBitsGemv<1, N, K, BS, 4, Cols>(
      x, copy, reinterpret_cast<const bf *>(copy + S::SOff), out,
      [&](int64_t n, int64_t j) { return zeroAt<N, K>(z, n, j); },
      [](int64_t) { return 0.0f; });
}

template <int64_t N, int64_t K>
__global__ void __launch_bounds__(256)
    perElemKernel(const bf *x, const uint8_t *copy, bf *out) {
  using S = Shape<N, K>;
  const uint8_t *z = copy + S::ZOff;
  kiln::matmulNBits<1, N, K, BS, 4>(
      x, copy, reinterpret_cast<const bf *>(copy + S::SOff), out,
      [&](int64_t n, int64_t j) { return zeroAt<N, K>(z, n, j); },
      [](int64_t) { return 0.0f; });
}

template <int64_t N, int64_t K>
int runShape(const char *name, bool perElem, double &gemvUs,
             double &floorUs, int &bad) {
  using S = Shape<N, K>;
  const int copies = int(std::max<int64_t>(3, 240000000 / S::Bytes + 1));
  bf *x, *out[2];
  uint8_t *w;
  CK(cudaMalloc(&x, K * 2));
  CK(cudaMalloc(&w, copies * S::Bytes));
  CK(cudaMalloc(&out[0], N * 2));
  CK(cudaMalloc(&out[1], N * 2));
  fill<<<64, 256>>>(x, K, 2.0f, 1);
  // Random bytes for the weights and zero points (a bf16 fill's bits).
  fill<<<4096, 256>>>(reinterpret_cast<bf *>(w), copies * S::Bytes / 2, 1.0f,
                      5);
  for (int c = 0; c < copies; ++c)
    fill<<<1024, 256>>>(reinterpret_cast<bf *>(w + c * S::Bytes + S::SOff),
                        S::SElems, 0.02f, 7 + c);
  CK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  auto time = [&](auto kernel, int grid, bf *o, double &us) -> int {
    for (int i = 0; i < 10; ++i)
      kernel<<<grid, 256>>>(x, w + (i % copies) * S::Bytes, o);
    CK(cudaGetLastError());
    return timedMicros(
        200,
        [&](int i) {
          kernel<<<grid, 256>>>(x, w + (i % copies) * S::Bytes, o);
          return cudaGetLastError();
        },
        a, b, us);
  };
  double copyUs;
  if (copyMicros(reinterpret_cast<bf *>(w), copies, S::Bytes / 2, S::Read, a,
                 b, copyUs))
    return 1;
  floorUs = copyUs / 2; // a read of the bytes at the copy's rate
  printf("%-8s N %6lld K %5lld  %8.2f MB, read floor %7.2f us:", name,
         (long long)N, (long long)K, S::Read / 1e6, floorUs);
  std::vector<bf> ref(N), got(N);
  auto fetch = [&](std::vector<bf> &v, bf *o) -> int {
    CK(cudaMemcpy(v.data(), o, N * 2, cudaMemcpyDeviceToHost));
    return 0;
  };
  // Every variant computes copy (iters - 1) % copies last.
  gemvUs = 1e30;
  int c = 1;
  for (auto kernel : {gemvKernel<N, K, 1>, gemvKernel<N, K, 2>,
                      gemvKernel<N, K, 4>, gemvKernel<N, K, 8>}) {
    double us;
    if (time(kernel, int((N + 8 * c - 1) / (8 * c)), out[0], us) ||
        fetch(c == 1 ? ref : got, out[0]))
      return 1;
    bool same = c == 1 || memcmp(ref.data(), got.data(), N * 2) == 0;
    bad |= !same;
    printf("  %d: %7.2f us x%.2f%s", c, us, us / floorUs,
           same ? "" : " DIFFERENT");
    gemvUs = std::min(gemvUs, us);
    c *= 2;
  }
  if (perElem) {
    double us;
    if (time(perElemKernel<N, K>, int((N + 255) / 256), out[1], us) ||
        fetch(got, out[1]))
      return 1;
    float worst = 0, largest = 0;
    for (int64_t i = 0; i < N; ++i) {
      worst = fmaxf(worst, fabsf((float)ref[i] - (float)got[i]));
      largest = fmaxf(largest, fabsf((float)got[i]));
    }
    bool ok = largest > 0 && worst <= 1e-2f * largest;
    bad |= !ok;
    printf("  | perElem %7.2f us, max diff %.3g of %.3g %s", us, worst,
           largest, ok ? "same" : "DIFFERENT");
  }
  printf("\n");
  CK(cudaFree(x));
  CK(cudaFree(w));
  CK(cudaFree(out[0]));
  CK(cudaFree(out[1]));
  return 0;
}

int main() {
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  printf("device: %s\n", prop.name);
  int bad = 0;
  double total = 0, floor = 0, us, f;
  // Per layer: qkv, o, gate, up, down (16 layers), then the lm head.
  struct Row {
    double us, floor;
    int times;
  };
  std::vector<Row> rows;
  if (runShape<3072, 2048>("qkv", true, us, f, bad))
    return 1;
  rows.push_back({us, f, 16});
  if (runShape<2048, 2048>("o", false, us, f, bad))
    return 1;
  rows.push_back({us, f, 16});
  if (runShape<8192, 2048>("gate/up", false, us, f, bad))
    return 1;
  rows.push_back({us, f, 32});
  if (runShape<2048, 8192>("down", false, us, f, bad))
    return 1;
  rows.push_back({us, f, 16});
  if (runShape<128256, 2048>("lm_head", false, us, f, bad))
    return 1;
  rows.push_back({us, f, 1});
  for (const Row &r : rows) {
    total += r.us * r.times;
    floor += r.floor * r.times;
  }
  printf("Llama-1B int4 projections per step, best Cols each: gemv %.1f us, "
         "read floor %.1f us (x%.2f)\n",
         total, floor, total / floor);
  return bad;
}

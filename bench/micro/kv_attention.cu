// Microbenchmark: the fused decode attention kernel (kiln-fuse-kv-attention:
// the query roped on the fly, the new key roped and appended with the value,
// kiln::kvAttentionSplitWith over a bf16 cache) for the decode shapes
// bench_decode.sh runs, at every block shape kiln could choose: W warps a
// block and Steps key steps a warp (a chunk of W x Steps x keys-per-step
// cache slots a block). Cache of T = 1024 slots, the step at slot 512 (513
// live keys, as kiln-bench --ctx 512). Each launch is timed alone between
// CUDA events after a 256 MiB memset that pushes the cache out of L2 (in a
// step, 2.5 GB of weights pass between two reads of one layer's cache);
// the median of 41 launches is printed, with the blocks that work.
// Every shape's output must agree with W = 4, Steps = 4's (the shape kiln
// used before) within 1/128 of the largest |output| (bf16 outputs, sums in
// another order); the exit status is 1 when one does not.
// At batch 8 also kiln.kv_attention alone (aloneBody) under kiln's bound
// and register budgets of 3, 2 and 1 blocks an SM (session 14).
// Shapes W x Steps: 4 x 4, 8 x 2, 8 x 4, 16 x 1, 16 x 2 with all the kv
// head's query heads in a block, 8 x 2 and 4 x 4 with one (heads 1), 8 x 2
// with two; merged in a thread block cluster (Cluster: 8 x 2 and 4 x 4 with
// a head a block and 8 x 4 with one or all at batch 1; 8 x 2, 8 x 4 and
// 16 x 2 with all at every batch; D = 64 only, where those are at most 16
// chunks; a cluster of 16 needs the non-portable size attribute, set here);
// with any argument also 4 x 2, 4 x 1 and 8 x 1. The cache is
// read before the (here immediate) PDL wait, as kiln emits it where kv_pos
// is a step input.
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/kv_attention.cu -o /tmp/kva && /tmp/kva
#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using bf = __nv_bfloat16;

constexpr int64_t T = 1024, Ctx = 512;
constexpr int64_t PartFloats = int64_t(8) << 20;
__device__ float gPart[PartFloats];
__device__ unsigned gDone[4096];

template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH, bool Cluster>
__global__ void __launch_bounds__(32 * W)
    __cluster_dims__(Cluster ? (T + kiln::kvSplitChunk<D, bf, W, Steps> - 1) /
                                   kiln::kvSplitChunk<D, bf, W, Steps>
                             : 1,
                     1, 1)
    fused(const bf *q, const bf *k, const bf *v, const float *cs,
          const float *sn, const int64_t *pos, bf *kc, bf *vc, bf *out) {
  kiln::kvAttentionSplitWith<B, Hq, Hkv, 1, T, D, W, Steps, GH, true,
                             Cluster>(
      kiln::KvRotaryQuery<Hq, 1, D, D, 1, false, bf, float>{q, cs, sn}, kc,
      vc, pos, out, 1.0f / sqrtf((float)D),
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, gPart, gDone,
      kiln::KvAppendRow<Hkv, D, true, D, 1, false, bf, float>{k, v, cs, sn});
}

// kiln.kv_attention alone (the step's kernel from 2 rows on:
// kiln-fuse-kv-attention fuses at one row only), as kiln emits it
// (__launch_bounds__(32 W), MinBlocks 0) or with a register budget of
// MinBlocks blocks an SM: session 14 found ptxas giving Llama-1B's batch-8
// shape (8 x 2, all heads) 64 registers and a few bytes of spills under
// kiln's bound, 72 registers and none under (256, 3) (nvcc -Xptxas -v);
// not yet timed on a GPU.
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH>
__device__ __forceinline__ void aloneBody(const bf *q, const bf *kc,
                                          const bf *vc, const int64_t *pos,
                                          bf *out) {
  kiln::kvAttentionSplit<B, Hq, Hkv, 1, T, D, W, Steps, GH, true, false>(
      q, kc, vc, pos, out, 1.0f / sqrtf((float)D),
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, gPart,
      gDone);
}
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH>
__global__ void __launch_bounds__(32 * W)
    alone(const bf *q, const bf *kc, const bf *vc, const int64_t *pos,
          bf *out) {
  aloneBody<B, Hq, Hkv, D, W, Steps, GH>(q, kc, vc, pos, out);
}
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH, int MinBlocks>
__global__ void __launch_bounds__(32 * W, MinBlocks)
    aloneMin(const bf *q, const bf *kc, const bf *vc, const int64_t *pos,
             bf *out) {
  aloneBody<B, Hq, Hkv, D, W, Steps, GH>(q, kc, vc, pos, out);
}

struct Buffers {
  bf *q, *k, *v, *kc, *vc, *out;
  float *cs, *sn;
  int64_t *pos;
  char *flush;
};

constexpr size_t FlushBytes = size_t(256) << 20;

/// What one shape measured: its launch times in us (41 launches after a
/// warm-up, each after a 256 MiB memset that pushes the cache out of L2)
/// and its outputs against the reference.
struct Measured {
  double median, min, max, maxDiff, maxRef;
  bool ok;
};

/// Times `launch` (one kernel launch) between CUDA events into `r`, then
/// compares the `n` outputs in m.out with `ref` (filled from them when
/// empty): within 1/128 of the largest |ref|, else `bad` is set. Returns 1
/// on a CUDA error (CK), else 0.
template <typename Launch>
int measure(Buffers &m, Launch launch, size_t n, std::vector<float> &ref,
            bool &bad, Measured &r) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  std::vector<double> us;
  for (int r = 0; r < 42; ++r) {
    CK(cudaMemsetAsync(m.flush, r & 0xff, FlushBytes));
    CK(cudaEventRecord(a));
    launch();
    CK(cudaGetLastError());
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    if (r > 0)
      us.push_back(ms * 1000.0);
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  std::sort(us.begin(), us.end());
  std::vector<bf> out(n);
  CK(cudaMemcpy(out.data(), m.out, out.size() * sizeof(bf),
                cudaMemcpyDeviceToHost));
  if (ref.empty())
    for (bf x : out)
      ref.push_back((float)x);
  double maxRef = 0, maxDiff = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    maxRef = std::max(maxRef, (double)std::fabs(ref[i]));
    maxDiff = std::max(maxDiff, (double)std::fabs((float)out[i] - ref[i]));
  }
  bool ok = maxDiff <= maxRef / 128;
  bad |= !ok;
  r = {us[us.size() / 2], us.front(), us.back(), maxDiff, maxRef, ok};
  return 0;
}

template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH = Hq / Hkv, bool Cluster = false>
int timeShape(const char *name, Buffers &m, std::vector<float> &ref,
              bool &bad) {
  constexpr int64_t Chunk = kiln::kvSplitChunk<D, bf, W, Steps>;
  constexpr int64_t Splits = (T + Chunk - 1) / Chunk;
  constexpr int64_t Sets = Hq / Hkv / GH;
  constexpr int64_t Blocks = B * Hkv * Sets * Splits;
  static_assert(B * Hq * Splits * (2 + D) <= PartFloats, "part");
  constexpr int64_t Live = B * Hkv * Sets * ((Ctx + 1 + Chunk - 1) / Chunk);
  auto kernel = fused<B, Hq, Hkv, D, W, Steps, GH, Cluster>;
  if (Cluster && Splits > 8) // 16 blocks: a non-portable cluster size
    CK(cudaFuncSetAttribute(kernel,
                            cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
  Measured r;
  if (measure(
          m,
          [&] {
            kernel<<<Blocks, 32 * W>>>(m.q, m.k, m.v, m.cs, m.sn, m.pos, m.kc,
                                       m.vc, m.out);
          },
          B * Hq * D, ref, bad, r))
    return 1;
  printf("%-22s W %2d Steps %d heads %d%s chunk %3lld working blocks %4lld "
         "threads %3d: median %6.2f us (min %6.2f, max %6.2f); max |diff| "
         "%.3g of %.3g %s\n",
         name, W, Steps, GH, Cluster ? " cluster" : "", (long long)Chunk,
         (long long)Live, 32 * W, r.median, r.min, r.max, r.maxDiff, r.maxRef,
         r.ok ? "ok" : "WRONG");
  return 0;
}

// Times alone<...> (MinBlocks 0) or aloneMin<..., MinBlocks> like
// timeShape, against the first variant's output (`ref`), and prints the
// kernel's registers.
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps,
          int GH, int MinBlocks>
int timeAlone(const char *name, Buffers &m, std::vector<float> &ref,
              bool &bad) {
  constexpr int64_t Chunk = kiln::kvSplitChunk<D, bf, W, Steps>;
  constexpr int64_t Splits = (T + Chunk - 1) / Chunk;
  constexpr int64_t Blocks = B * Hkv * (Hq / Hkv / GH) * Splits;
  auto kernel = MinBlocks == 0 ? alone<B, Hq, Hkv, D, W, Steps, GH>
                               : aloneMin<B, Hq, Hkv, D, W, Steps, GH,
                                          MinBlocks == 0 ? 1 : MinBlocks>;
  cudaFuncAttributes attr;
  CK(cudaFuncGetAttributes(&attr, kernel));
  Measured r;
  if (measure(
          m, [&] { kernel<<<Blocks, 32 * W>>>(m.q, m.kc, m.vc, m.pos, m.out); },
          B * Hq * D, ref, bad, r))
    return 1;
  printf("%-22s alone W %2d Steps %d heads %d chunk %3lld min blocks %d: "
         "%3d registers, %4lld "
         "local bytes: median %6.2f us (min %6.2f, max %6.2f); max |diff| "
         "%.3g of %.3g %s\n",
         name, W, Steps, GH, (long long)Chunk, MinBlocks, attr.numRegs,
         (long long)attr.localSizeBytes, r.median, r.min, r.max, r.maxDiff,
         r.maxRef, r.ok ? "ok" : "WRONG");
  return 0;
}

template <int64_t B, int64_t Hq, int64_t Hkv, int64_t D>
int sweep(const char *name, Buffers &m, bool &bad, int argc) {
  std::vector<float> ref;
  // Fresh inputs and cache for each shape: the same for every variant
  // (the append writes the same row to the same slot each launch).
  fill<<<1024, 256>>>(m.q, B * Hq * D, 1.0f, 1);
  fill<<<1024, 256>>>(m.k, B * Hkv * D, 1.0f, 2);
  fill<<<1024, 256>>>(m.v, B * Hkv * D, 1.0f, 3);
  fill<<<1024, 256>>>(m.kc, B * Hkv * T * D, 1.0f, 4);
  fill<<<1024, 256>>>(m.vc, B * Hkv * T * D, 1.0f, 5);
  std::vector<float> tab(D / 2);
  for (int64_t j = 0; j < D / 2; ++j)
    tab[j] = std::cos(0.1f * j);
  CK(cudaMemcpy(m.cs, tab.data(), tab.size() * 4, cudaMemcpyHostToDevice));
  for (int64_t j = 0; j < D / 2; ++j)
    tab[j] = std::sin(0.1f * j);
  CK(cudaMemcpy(m.sn, tab.data(), tab.size() * 4, cudaMemcpyHostToDevice));
  std::vector<int64_t> pos(B, Ctx);
  CK(cudaMemcpy(m.pos, pos.data(), B * 8, cudaMemcpyHostToDevice));
  int rc = timeShape<B, Hq, Hkv, D, 4, 4>(name, m, ref, bad);
  rc |= timeShape<B, Hq, Hkv, D, 8, 2>(name, m, ref, bad);
  rc |= timeShape<B, Hq, Hkv, D, 8, 4>(name, m, ref, bad);
  rc |= timeShape<B, Hq, Hkv, D, 16, 1>(name, m, ref, bad);
  rc |= timeShape<B, Hq, Hkv, D, 16, 2>(name, m, ref, bad);
  // A block per query head (more, shorter blocks), and per two.
  rc |= timeShape<B, Hq, Hkv, D, 8, 2, 1>(name, m, ref, bad);
  rc |= timeShape<B, Hq, Hkv, D, 4, 4, 1>(name, m, ref, bad);
  if constexpr ((Hq / Hkv) % 2 == 0)
    rc |= timeShape<B, Hq, Hkv, D, 8, 2, 2>(name, m, ref, bad);
  // The merge in a cluster of the group's blocks (distributed shared
  // memory) instead of global partials and a counter: kiln's shapes, and
  // 8 x 4 (8 chunks of 128 slots: a portable cluster).
  // (D = 64 only: at D = 128 these shapes are 32 chunks.)
  if constexpr (B == 1 && D == 64) {
    rc |= timeShape<B, Hq, Hkv, D, 8, 2, 1, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 4, 4, 1, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 4, 1, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 4, 1>(name, m, ref, bad);
  }
  if constexpr (D == 64) {
    rc |= timeShape<B, Hq, Hkv, D, 8, 2, Hq / Hkv, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 4, Hq / Hkv, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 16, 2, Hq / Hkv, true>(name, m, ref, bad);
  }
  // Fewer, longer chunks (session 11): 8 warps of 9, 16 and 17 steps
  // (chunks of 288, 512 and 544 slots: 2, 2 and 1 of them live at 513
  // keys), all heads a block and one, and in a cluster (4 and 2 blocks).
  if constexpr (D == 64) {
    rc |= timeShape<B, Hq, Hkv, D, 8, 9>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 16>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 17>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 9, 1>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 17, 1>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 9, Hq / Hkv, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 16, Hq / Hkv, true>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 9, 1, true>(name, m, ref, bad);
  }
  // The attention alone from 2 rows on (kiln's shape there, 8 x 2 with all
  // the kv head's query heads a block), kiln's bound against register
  // budgets of 3, 2 and 1 blocks an SM. The cache now holds the rows the
  // fused variants appended; every alone variant reads the same.
  if constexpr (B > 1) {
    std::vector<float> aloneRef;
    rc |= timeAlone<B, Hq, Hkv, D, 8, 2, Hq / Hkv, 0>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 8, 2, Hq / Hkv, 3>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 8, 2, Hq / Hkv, 2>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 8, 2, Hq / Hkv, 1>(name, m, aloneRef, bad);
    // Other block shapes alone (session 15): longer chunks (8 x 4, 16 x 2:
    // 128 slots; 8 x 9: 288), shorter (4 x 2: 32), and a block per query
    // head (8 x 2, heads 1), each under kiln's bound.
    rc |= timeAlone<B, Hq, Hkv, D, 8, 4, Hq / Hkv, 0>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 16, 2, Hq / Hkv, 0>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 8, 9, Hq / Hkv, 0>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 4, 2, Hq / Hkv, 0>(name, m, aloneRef, bad);
    rc |= timeAlone<B, Hq, Hkv, D, 8, 2, 1, 0>(name, m, aloneRef, bad);
  }
  if (argc > 1) { // the first call's other shapes
    rc |= timeShape<B, Hq, Hkv, D, 4, 2>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 4, 1>(name, m, ref, bad);
    rc |= timeShape<B, Hq, Hkv, D, 8, 1>(name, m, ref, bad);
  }
  return rc;
}

int main(int argc, char **) {
  Buffers m;
  constexpr int64_t MaxB = 8, MaxH = 32, MaxD = 128;
  CK(cudaMalloc(&m.q, MaxB * MaxH * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.k, MaxB * MaxH * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.v, MaxB * MaxH * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.out, MaxB * MaxH * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.kc, MaxB * 8 * T * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.vc, MaxB * 8 * T * MaxD * sizeof(bf)));
  CK(cudaMalloc(&m.cs, MaxD * 4));
  CK(cudaMalloc(&m.sn, MaxD * 4));
  CK(cudaMalloc(&m.pos, MaxB * 8));
  CK(cudaMalloc(&m.flush, FlushBytes));
  cudaDeviceProp p;
  CK(cudaGetDeviceProperties(&p, 0));
  printf("%s, %d SMs; T %lld, ctx %lld (%lld live keys)\n", p.name,
         p.multiProcessorCount, (long long)T, (long long)Ctx,
         (long long)Ctx + 1);
  bool bad = false;
  int rc = sweep<1, 32, 8, 64>("llama1b b1", m, bad, argc);
  rc |= sweep<1, 14, 2, 64>("qwen05b b1", m, bad, argc);
  rc |= sweep<8, 32, 8, 64>("llama1b b8", m, bad, argc);
  rc |= sweep<8, 14, 2, 64>("qwen05b b8", m, bad, argc);
  rc |= sweep<1, 32, 8, 128>("llama8b b1", m, bad, argc);
  printf("kv_attention micro: %s\n", rc ? "CUDA error" : bad ? "WRONG" : "ok");
  return rc || bad;
}

// Microbenchmark: where the batch-1 fused decode attention's time goes.
// The kernel of bench/micro/kv_attention.cu (kiln-fuse-kv-attention's
// rotaries + append + kvAttentionSplitWith, merged in a cluster) at the
// block shapes kiln emits for Llama-1B (32 query heads, 8 kv heads, all 4
// of a kv head's query heads a block, 8 warps x 4 steps, clusters of 8)
// and Qwen2.5-0.5B (14 and 2, a head a block), T = 1024 slots, the step
// at slot 512. KILN_KV_PROBE(i) records %globaltimer (ns) from thread 0 of
// each block at the end of phase i:
//   0 pos read, the block found live   1 cache rows issued, PDL wait passed
//   2 scores in shared memory          3 softmax done
//   4 weighted values in shared memory 5 first cluster barrier passed
//   6 this block's slice merged        7 second cluster barrier passed
// (Session 18's experiment, commit 711034a, reverted: 2 scores and each
// warp's max, 3 each warp's softmax, 5 slices sent and the one cluster
// barrier passed, 6 merged.)
// For each phase: the least, median and largest over the live blocks of
// the time since the earliest block's phase 0, in us. Three ways each:
// after a 256 MiB memset that pushes the cache out of L2 (as in a step),
// again at once (cache in L2), and flushed behind a 384-block launch with
// programmatic dependent launch (times since that launch's last block
// ended). The launch's own time between CUDA events beside it (with the
// probes' memsets and, behind, the launch before).
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a -I codegen/kernels bench/micro/kv_attention_phases.cu -o /tmp/kvp && /tmp/kvp
#include <cstdint>

constexpr int kProbes = 8, kMaxBlocks = 1024;
__device__ unsigned long long gProbe[kMaxBlocks][kProbes];
__device__ __forceinline__ void kvProbe(int i) {
  if (threadIdx.x == 0) {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    gProbe[blockIdx.x][i] = t;
  }
}
#define KILN_KV_PROBE(i) kvProbe(i)

#include "kiln_kernels.cuh"
#include "micro_common.cuh"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using bf = __nv_bfloat16;

constexpr int64_t T = 1024, Ctx = 512;
__device__ float gPart[1 << 20];
__device__ unsigned gDone[4096];

// The launch before the attention in the "behind" runs: 384 blocks of 256
// threads (Llama-1B's q/k/v GEMV at batch 1) that each spin for SpinNs,
// then pass the PDL gate (pdlEnter) and spin again, and record when the
// last one ends. gEnd[0]: the latest block end.
__device__ unsigned long long gEnd[1];
constexpr unsigned long long SpinNs = 3000;
__device__ __forceinline__ unsigned long long now() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__global__ void __launch_bounds__(256) before() {
  unsigned long long t0 = now();
  while (now() - t0 < SpinNs)
    ;
  kiln::pdlEnter();
  t0 = now();
  while (now() - t0 < SpinNs)
    ;
  __syncthreads();
  if (threadIdx.x == 0)
    atomicMax(&gEnd[0], now());
}

// The fused kernel's body: one cache row, rotaries, append and attention,
// merged in a cluster (Cluster) or through global memory.
template <int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps, int GH,
          bool Cluster>
__device__ __forceinline__ void body(const bf *q, const bf *k, const bf *v,
                                     const float *cs, const float *sn,
                                     const int64_t *pos, bf *kc, bf *vc,
                                     bf *out) {
  kiln::kvAttentionSplitWith<1, Hq, Hkv, 1, T, D, W, Steps, GH, true,
                             Cluster>(
      kiln::KvRotaryQuery<Hq, 1, D, D, 1, false, bf, float>{q, cs, sn}, kc,
      vc, pos, out, 1.0f / sqrtf((float)D),
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, gPart, gDone,
      kiln::KvAppendRow<Hkv, D, true, D, 1, false, bf, float>{k, v, cs, sn});
}

// Without cluster dims: the merge through global memory.
template <int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps, int GH>
__global__ void __launch_bounds__(32 * W)
    flat(const bf *q, const bf *k, const bf *v, const float *cs,
         const float *sn, const int64_t *pos, bf *kc, bf *vc, bf *out) {
  body<Hq, Hkv, D, W, Steps, GH, false>(q, k, v, cs, sn, pos, kc, vc, out);
}

// A cluster of the group's chunks, as kiln emits it at batch 1.
template <int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps, int GH>
__global__ void __launch_bounds__(32 * W)
    __cluster_dims__((T + kiln::kvSplitChunk<D, bf, W, Steps> - 1) /
                         kiln::kvSplitChunk<D, bf, W, Steps>,
                     1, 1)
        fused(const bf *q, const bf *k, const bf *v, const float *cs,
              const float *sn, const int64_t *pos, bf *kc, bf *vc, bf *out) {
  body<Hq, Hkv, D, W, Steps, GH, true>(q, k, v, cs, sn, pos, kc, vc, out);
}

template <int64_t Hq, int64_t Hkv, int64_t D, int W, int Steps, int GH,
          bool Cluster = true>
int phases(const char *name) {
  constexpr int64_t Chunk = kiln::kvSplitChunk<D, bf, W, Steps>;
  constexpr int64_t Splits = (T + Chunk - 1) / Chunk;
  constexpr int64_t Blocks = Hkv * (Hq / Hkv / GH) * Splits;
  constexpr int64_t LiveSplits = (Ctx + 1 + Chunk - 1) / Chunk;
  static_assert(Blocks <= kMaxBlocks, "probe slots");
  bf *q, *k, *v, *kc, *vc, *out;
  float *cs, *sn;
  int64_t *pos;
  char *flush;
  constexpr size_t FlushBytes = size_t(256) << 20;
  CK(cudaMalloc(&q, Hq * D * sizeof(bf)));
  CK(cudaMalloc(&k, Hkv * D * sizeof(bf)));
  CK(cudaMalloc(&v, Hkv * D * sizeof(bf)));
  CK(cudaMalloc(&out, Hq * D * sizeof(bf)));
  CK(cudaMalloc(&kc, Hkv * T * D * sizeof(bf)));
  CK(cudaMalloc(&vc, Hkv * T * D * sizeof(bf)));
  CK(cudaMalloc(&cs, D * 4));
  CK(cudaMalloc(&sn, D * 4));
  CK(cudaMalloc(&pos, 8));
  CK(cudaMalloc(&flush, FlushBytes));
  fill<<<256, 256>>>(q, Hq * D, 1.0f, 1);
  fill<<<256, 256>>>(k, Hkv * D, 1.0f, 2);
  fill<<<256, 256>>>(v, Hkv * D, 1.0f, 3);
  fill<<<1024, 256>>>(kc, Hkv * T * D, 1.0f, 4);
  fill<<<1024, 256>>>(vc, Hkv * T * D, 1.0f, 5);
  std::vector<float> tab(D / 2);
  for (int64_t j = 0; j < D / 2; ++j)
    tab[j] = std::cos(0.1f * j);
  CK(cudaMemcpy(cs, tab.data(), tab.size() * 4, cudaMemcpyHostToDevice));
  for (int64_t j = 0; j < D / 2; ++j)
    tab[j] = std::sin(0.1f * j);
  CK(cudaMemcpy(sn, tab.data(), tab.size() * 4, cudaMemcpyHostToDevice));
  int64_t p = Ctx;
  CK(cudaMemcpy(pos, &p, 8, cudaMemcpyHostToDevice));
  auto kernel = Cluster ? fused<Hq, Hkv, D, W, Steps, GH>
                        : flat<Hq, Hkv, D, W, Steps, GH>;
  unsigned long long *endAt;
  CK(cudaGetSymbolAddress((void **)&endAt, gEnd));
  unsigned long long *probeAt;
  CK(cudaGetSymbolAddress((void **)&probeAt, gProbe));
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  // warm 0: cache flushed; 1: in L2; 2: flushed, behind before<<<384,
  // 256>>> with programmatic dependent launch (times since its last block
  // ended, negative: earlier).
  for (int warm = 0; warm < 3; ++warm) {
    // phase[i] over the live blocks and runs; launch times between events.
    std::vector<double> at[kProbes], us;
    for (int r = 0; r < 21; ++r) {
      if (warm != 1)
        CK(cudaMemsetAsync(flush, r & 0xff, FlushBytes));
      CK(cudaMemsetAsync(probeAt, 0, sizeof(gProbe)));
      CK(cudaMemsetAsync(endAt, 0, sizeof(gEnd)));
      CK(cudaEventRecord(a));
      if (warm == 2) {
        before<<<384, 256>>>();
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = dim3(Blocks);
        cfg.blockDim = dim3(32 * W);
        cudaLaunchAttribute attr[1];
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = attr;
        cfg.numAttrs = 1;
        CK(cudaLaunchKernelEx(&cfg, kernel, (const bf *)q, (const bf *)k,
                              (const bf *)v, (const float *)cs,
                              (const float *)sn, (const int64_t *)pos, kc, vc,
                              out));
      } else {
        kernel<<<Blocks, 32 * W>>>(q, k, v, cs, sn, pos, kc, vc, out);
      }
      CK(cudaGetLastError());
      CK(cudaEventRecord(b));
      CK(cudaEventSynchronize(b));
      float ms;
      CK(cudaEventElapsedTime(&ms, a, b));
      std::vector<unsigned long long> probe(kMaxBlocks * kProbes);
      CK(cudaMemcpyFromSymbol(probe.data(), gProbe,
                              probe.size() * sizeof(unsigned long long)));
      if (r == 0)
        continue;
      us.push_back(ms * 1000.0);
      unsigned long long t0 = ~0ull;
      for (int64_t blk = 0; blk < Blocks; ++blk)
        if (probe[blk * kProbes] != 0)
          t0 = std::min(t0, probe[blk * kProbes]);
      if (warm == 2)
        CK(cudaMemcpy(&t0, endAt, 8, cudaMemcpyDeviceToHost));
      for (int64_t blk = 0; blk < Blocks; ++blk) {
        if (blk % Splits >= LiveSplits)
          continue;
        for (int i = 0; i < kProbes; ++i)
          if (unsigned long long t = probe[blk * kProbes + i])
            at[i].push_back(((double)t - (double)t0) / 1000.0);
      }
    }
    std::sort(us.begin(), us.end());
    printf("%s (%lld blocks, %lld live; %s): launch between events median "
           "%.2f us\n",
           name, (long long)Blocks, (long long)(Blocks / Splits * LiveSplits),
           warm == 1   ? "cache in L2"
           : warm == 2 ? "flushed, behind a PDL launch: from its end"
                       : "cache flushed from L2",
           us[us.size() / 2]);
    for (int i = 0; i < kProbes; ++i) {
      if (at[i].empty())
        continue;
      std::sort(at[i].begin(), at[i].end());
      printf("  phase %d done: min %6.3f, median %6.3f us, max %6.3f us\n",
             i, at[i].front(), at[i][at[i].size() / 2], at[i].back());
    }
  }
  CK(cudaFree(q));
  CK(cudaFree(k));
  CK(cudaFree(v));
  CK(cudaFree(out));
  CK(cudaFree(kc));
  CK(cudaFree(vc));
  CK(cudaFree(cs));
  CK(cudaFree(sn));
  CK(cudaFree(pos));
  CK(cudaFree(flush));
  return 0;
}

int main() {
  cudaDeviceProp p;
  CK(cudaGetDeviceProperties(&p, 0));
  printf("%s, %d SMs; T %lld, ctx %lld\n", p.name, p.multiProcessorCount,
         (long long)T, (long long)Ctx);
  int rc = phases<32, 8, 64, 8, 4, 4>("llama1b b1 (8 x 4, 4 heads a block)");
  rc |= phases<32, 8, 64, 8, 4, 2>("llama1b b1 (8 x 4, 2 heads a block)");
  rc |= phases<14, 2, 64, 8, 4, 1>("qwen05b b1 (8 x 4, a head a block)");
  rc |= phases<32, 8, 64, 8, 4, 4, false>(
      "llama1b b1 (8 x 4, 4 heads a block, no cluster)");
  printf("kv_attention phases: %s\n", rc ? "CUDA error" : "ok");
  return rc;
}

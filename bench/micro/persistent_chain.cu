// Microbenchmark: what a launch boundary costs in a decode step's chain of
// GEMVs, against one persistent kernel that runs the same chain with a grid
// barrier between products (the question before a persistent layer kernel:
// bench/RESULTS.md, session 16).
//
// The chain is the products of a decoder's layers at batch 1, without the
// attention and norms: per layer q/k/v (K = H, N = Nqkv), o (K = H, N = H,
// plus the residual), gate/up (two rows a column, SiLU(g) x u, N = I) and
// down (K = I, N = H, plus the residual), each layer's own bf16 weights (so
// every step streams them from memory, as a model does), f32 activations.
// Every variant computes each output column with the same device function
// (a warp a column, 16-byte weight loads, the lanes' sums reduced in one
// order), so their results must be bit-identical; the exit status is 1 when
// they are not, or on a CUDA error.
//
// Variants, each one step timed as a CUDA graph replay (median of 51 after
// 10 warm-up replays):
//   launches      a kernel a product, plain stream order;
//   launches+PDL  the same with programmatic dependent launch: each warp
//                 loads its column's first tile of weights into registers,
//                 then griddepcontrol.wait / launch_dependents (kiln's
//                 emitted GEMVs do this);
//   persistent    one kernel, grid = the blocks that fit at once
//                 (cooperative launch), a grid barrier (a counter and a
//                 generation word) after each product; with `+pre` each
//                 warp loads its next column's first tile before arriving.
// Shapes: Qwen2.5-0.5B (H 896, q/k/v 1152, I 4864, 24 layers) and
// Llama-3.2-1B (H 2048, q/k/v 3072, I 8192, 16 layers).
// Build and run on the GPU machine:
//   nvcc -std=c++17 -O3 -arch=sm_90a bench/micro/persistent_chain.cu -o /tmp/pc && /tmp/pc
#include "micro_common.cuh"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

using bf = __nv_bfloat16;

constexpr int Pre = 4; // 16-byte chunks a lane loads ahead, per weight row

struct Op {
  const bf *w;     // [N, K], or [2N, K] with gated (gate rows, then up)
  const float *x;  // [K]
  const float *res; // [N] or null
  float *y;        // [N]
  int K, N, gated;
};

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float dot8(int4 w, const float *x) {
  const bf *e = reinterpret_cast<const bf *>(&w);
  float4 a = reinterpret_cast<const float4 *>(x)[0];
  float4 b = reinterpret_cast<const float4 *>(x)[1];
  return (float)e[0] * a.x + (float)e[1] * a.y + (float)e[2] * a.z +
         (float)e[3] * a.w + (float)e[4] * b.x + (float)e[5] * b.y +
         (float)e[6] * b.z + (float)e[7] * b.w;
}

// Row r (0: the product's, or gate; 1: up) of column n, in 16-byte chunks.
__device__ __forceinline__ const int4 *weightRow(const Op &op, int n, int r) {
  return reinterpret_cast<const int4 *>(op.w +
                                        ((int64_t)n + r * op.N) * op.K);
}

// The first Pre chunks of this lane in row(s) of column n.
__device__ __forceinline__ void loadFirst(const Op &op, int n, int lane,
                                          int4 (&pre)[2][Pre]) {
  int chunks = op.K / 8;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (r == 1 && !op.gated)
      break;
    const int4 *row = weightRow(op, n, r);
#pragma unroll
    for (int j = 0; j < Pre; ++j) {
      int c = lane + 32 * j;
      pre[r][j] = c < chunks ? __ldg(row + c) : make_int4(0, 0, 0, 0);
    }
  }
}

// Column n of op, the first Pre chunks a lane from pre.
__device__ __forceinline__ void column(const Op &op, int n, int lane,
                                       const int4 (&pre)[2][Pre]) {
  int chunks = op.K / 8;
  float s[2] = {0.0f, 0.0f};
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (r == 1 && !op.gated)
      break;
    const int4 *row = weightRow(op, n, r);
#pragma unroll
    for (int j = 0; j < Pre; ++j) {
      int c = lane + 32 * j;
      if (c < chunks)
        s[r] += dot8(pre[r][j], op.x + 8 * c);
    }
    for (int c = lane + 32 * Pre; c < chunks; c += 32)
      s[r] += dot8(__ldg(row + c), op.x + 8 * c);
    s[r] = warpSum(s[r]);
  }
  if (lane == 0) {
    float v = s[0];
    if (op.gated)
      v = v / (1.0f + __expf(-v)) * s[1];
    if (op.res)
      v += op.res[n];
    op.y[n] = v;
  }
}

__device__ __forceinline__ void gdcWait() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
}
__device__ __forceinline__ void gdcLaunch() {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}

// A kernel a product: warp (blockIdx.x * 8 + warp) takes column n = that.
template <bool Pdl>
__global__ void __launch_bounds__(256) opKernel(Op op) {
  int lane = threadIdx.x & 31;
  int n = blockIdx.x * 8 + (threadIdx.x >> 5);
  int4 pre[2][Pre];
  if (n < op.N)
    loadFirst(op, n, lane, pre);
  if (Pdl) {
    gdcWait();
    gdcLaunch();
  }
  if (n < op.N)
    column(op, n, lane, pre);
}

struct Barrier {
  unsigned count, gen;
};

__device__ __forceinline__ unsigned ldAcquire(const unsigned *p) {
  unsigned v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void gridBarrier(Barrier *b) {
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned gen = ldAcquire(&b->gen);
    __threadfence();
    if (atomicAdd(&b->count, 1u) == gridDim.x - 1) {
      b->count = 0;
      __threadfence();
      atomicAdd(&b->gen, 1u);
    } else {
      while (ldAcquire(&b->gen) == gen) {
      }
    }
  }
  __syncthreads();
}

// The whole chain in one kernel: warp g of the grid takes columns g, g +
// warps, ... of each product; a grid barrier after each. With Ahead, the
// warp loads its first column's first tile of the next product before the
// barrier (weights are never written).
template <bool Ahead>
__global__ void __launch_bounds__(256) chainKernel(const Op *ops, int count,
                                                   Barrier *bar) {
  int lane = threadIdx.x & 31;
  int g = blockIdx.x * 8 + (threadIdx.x >> 5), warps = gridDim.x * 8;
  int4 pre[2][Pre];
  if (Ahead && g < ops[0].N)
    loadFirst(ops[0], g, lane, pre);
  for (int i = 0; i < count; ++i) {
    const Op op = ops[i];
    for (int n = g; n < op.N; n += warps) {
      if (!Ahead || n != g)
        loadFirst(op, n, lane, pre);
      column(op, n, lane, pre);
    }
    if (i + 1 < count) {
      if (Ahead && g < ops[i + 1].N)
        loadFirst(ops[i + 1], g, lane, pre);
      gridBarrier(bar);
    }
  }
}

struct Shape {
  const char *name;
  int H, Nqkv, I, layers;
};

int median(std::vector<double> &v, double &out) {
  std::sort(v.begin(), v.end());
  out = v[v.size() / 2];
  return 0;
}

// Median us of 51 replays of `graph` after 10.
int timeGraph(cudaGraphExec_t exec, cudaStream_t st, cudaEvent_t a,
              cudaEvent_t b, double &us) {
  for (int i = 0; i < 10; ++i)
    CK(cudaGraphLaunch(exec, st));
  std::vector<double> t;
  for (int i = 0; i < 51; ++i) {
    CK(cudaEventRecord(a, st));
    CK(cudaGraphLaunch(exec, st));
    CK(cudaEventRecord(b, st));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1000.0);
  }
  return median(t, us);
}

int runShape(const Shape &s, cudaEvent_t a, cudaEvent_t b, int &bad) {
  cudaStream_t st;
  CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  int64_t perLayer = (int64_t)s.Nqkv * s.H + (int64_t)s.H * s.H +
                     2 * (int64_t)s.I * s.H + (int64_t)s.H * s.I;
  int64_t total = perLayer * s.layers;
  bf *w;
  CK(cudaMalloc(&w, total * sizeof(bf)));
  fill<<<4096, 256>>>(w, total, 0.02f, 7u);
  float *x0, *xs, *q, *h, *act;
  CK(cudaMalloc(&x0, s.H * sizeof(float)));
  CK(cudaMalloc(&xs, s.H * sizeof(float)));
  CK(cudaMalloc(&q, s.Nqkv * sizeof(float)));
  CK(cudaMalloc(&h, s.H * sizeof(float)));
  CK(cudaMalloc(&act, s.I * sizeof(float)));
  std::vector<float> hx(s.H);
  for (int i = 0; i < s.H; ++i)
    hx[i] = 0.01f * (float)((i * 37) % 101 - 50);
  CK(cudaMemcpy(x0, hx.data(), s.H * sizeof(float), cudaMemcpyHostToDevice));
  std::vector<Op> ops;
  const bf *p = w;
  for (int l = 0; l < s.layers; ++l) {
    ops.push_back({p, xs, nullptr, q, s.H, s.Nqkv, 0});
    p += (int64_t)s.Nqkv * s.H;
    ops.push_back({p, q, xs, h, s.H, s.H, 0});
    p += (int64_t)s.H * s.H;
    ops.push_back({p, h, nullptr, act, s.H, s.I, 1});
    p += 2 * (int64_t)s.I * s.H;
    ops.push_back({p, act, h, xs, s.I, s.H, 0});
    p += (int64_t)s.H * s.I;
  }
  Op *dops;
  CK(cudaMalloc(&dops, ops.size() * sizeof(Op)));
  CK(cudaMemcpy(dops, ops.data(), ops.size() * sizeof(Op),
                cudaMemcpyHostToDevice));
  Barrier *bar;
  CK(cudaMalloc(&bar, sizeof(Barrier)));
  CK(cudaMemset(bar, 0, sizeof(Barrier)));
  CK(cudaDeviceSynchronize());

  // The copy rate of the step's bytes (1 GiB-class copies of the weights).
  double copyUs;
  int64_t half = total / 2;
  CK(cudaEventRecord(a));
  for (int i = 0; i < 20; ++i)
    CK(cudaMemcpyAsync(w + half, w, half * sizeof(bf),
                       cudaMemcpyDeviceToDevice));
  CK(cudaEventRecord(b));
  CK(cudaEventSynchronize(b));
  float cms;
  CK(cudaEventElapsedTime(&cms, a, b));
  copyUs = cms * 1000.0 / 20;
  double gbs = 2.0 * half * sizeof(bf) / copyUs / 1e3;
  fill<<<4096, 256>>>(w, total, 0.02f, 7u); // the copy overwrote half
  CK(cudaDeviceSynchronize());
  double floorUs = total * sizeof(bf) / gbs / 1e3;
  printf("%s: %d layers, %zu products, %.1f MB of weights; copy %.0f GB/s, "
         "floor %.1f us\n",
         s.name, s.layers, ops.size(), total * 2 / 1e6, gbs, floorUs);

  std::vector<float> ref(s.H), out(s.H);
  int dev;
  CK(cudaGetDevice(&dev));
  int sms;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const char *names[] = {"launches", "launches+PDL", "persistent",
                         "persistent+pre"};
  for (int v = 0; v < 4; ++v) {
    cudaGraph_t graph;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
    CK(cudaMemcpyAsync(xs, x0, s.H * sizeof(float), cudaMemcpyDeviceToDevice,
                       st));
    int blocks = 0;
    if (v < 2) {
      for (const Op &op : ops) {
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = dim3((op.N + 7) / 8);
        cfg.blockDim = dim3(256);
        cfg.stream = st;
        cudaLaunchAttribute attr[1];
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = attr;
        cfg.numAttrs = v == 1 ? 1 : 0;
        if (v == 1)
          CK(cudaLaunchKernelEx(&cfg, opKernel<true>, op));
        else
          CK(cudaLaunchKernelEx(&cfg, opKernel<false>, op));
      }
    } else {
      auto kern = v == 3 ? chainKernel<true> : chainKernel<false>;
      int per;
      CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per, kern, 256, 0));
      blocks = per * sms;
      int count = (int)ops.size();
      // Every block resident at once (the barrier needs it): a
      // cooperative launch, which a graph captures.
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(blocks);
      cfg.blockDim = dim3(256);
      cfg.stream = st;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeCooperative;
      attr[0].val.cooperative = 1;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      CK(cudaLaunchKernelEx(&cfg, kern, (const Op *)dops, count, bar));
    }
    CK(cudaStreamEndCapture(st, &graph));
    cudaGraphExec_t exec;
    CK(cudaGraphInstantiate(&exec, graph, 0));
    double us;
    if (timeGraph(exec, st, a, b, us))
      return 1;
    CK(cudaMemcpy(out.data(), xs, s.H * sizeof(float),
                  cudaMemcpyDeviceToHost));
    if (v == 0)
      ref = out;
    bool same = memcmp(ref.data(), out.data(), s.H * sizeof(float)) == 0;
    bool finite = true;
    for (float f : out)
      finite = finite && std::isfinite(f);
    if (!same || !finite)
      bad = 1;
    printf("%s %-15s %9.1f us  %5.2fx floor  %6.2f us a product beyond the "
           "floor%s\n",
           s.name, names[v], us, us / floorUs,
           (us - floorUs) / ops.size(), same && finite ? "" : "  MISMATCH");
    if (blocks)
      printf("%s %-15s grid %d blocks of 256 threads\n", s.name, names[v],
             blocks);
    CK(cudaGraphExecDestroy(exec));
    CK(cudaGraphDestroy(graph));
  }
  CK(cudaFree(w));
  CK(cudaFree(x0));
  CK(cudaFree(xs));
  CK(cudaFree(q));
  CK(cudaFree(h));
  CK(cudaFree(act));
  CK(cudaFree(dops));
  CK(cudaFree(bar));
  CK(cudaStreamDestroy(st));
  return 0;
}

int main() {
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  printf("%s, %d SMs\n", prop.name, prop.multiProcessorCount);
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  int bad = 0;
  Shape shapes[] = {{"qwen05b", 896, 1152, 4864, 24},
                    {"llama1b", 2048, 3072, 8192, 16}};
  for (const Shape &s : shapes)
    if (runShape(s, a, b, bad))
      return 1;
  printf(bad ? "persistent_chain: MISMATCH between variants\n"
             : "persistent_chain: all variants bit-identical\n");
  return bad;
}

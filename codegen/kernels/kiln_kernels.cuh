//===- kiln_kernels.cuh - device templates behind kiln's generated kernels ===//
//
// Every `extern "C" __global__` kernel that kiln-compile emits is a thin shell
// over one template here: the shell bakes every shape in as template
// arguments and passes index maps as lambdas whose arithmetic is all
// compile-time constants. This header compiles on its own
// (kiln_kernels_test.cu instantiates every template) with nvcc -std=c++17.
//
// Conventions: element counts and offsets are int64_t; loops are grid-stride;
// block reductions use blockDim.x threads, a power of two >= 32 and <= 1024;
// sums and dot products accumulate in Acc<T>::type: fp32 for f32 (and f16,
// bf16), f64 only for f64 tensors, int64 for integers. Double precision is
// the reference backend's, not the GPU's.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_KERNELS_CUH
#define KILN_KERNELS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include <type_traits>

namespace kiln {

//===----------------------------------------------------------------------===//
// Scalar operations
//===----------------------------------------------------------------------===//

namespace op {

__device__ __forceinline__ float exp_(float x) { return expf(x); }
__device__ __forceinline__ double exp_(double x) { return exp(x); }
__device__ __forceinline__ float log_(float x) { return logf(x); }
__device__ __forceinline__ double log_(double x) { return log(x); }
__device__ __forceinline__ float sqrt_(float x) { return sqrtf(x); }
__device__ __forceinline__ double sqrt_(double x) { return sqrt(x); }
__device__ __forceinline__ float rsqrt_(float x) { return 1.0f / sqrtf(x); }
__device__ __forceinline__ double rsqrt_(double x) { return 1.0 / sqrt(x); }
__device__ __forceinline__ float tanh_(float x) { return tanhf(x); }
__device__ __forceinline__ double tanh_(double x) { return tanh(x); }
__device__ __forceinline__ float erf_(float x) { return erff(x); }
__device__ __forceinline__ double erf_(double x) { return erf(x); }
__device__ __forceinline__ float sin_(float x) { return sinf(x); }
__device__ __forceinline__ double sin_(double x) { return sin(x); }
__device__ __forceinline__ float cos_(float x) { return cosf(x); }
__device__ __forceinline__ double cos_(double x) { return cos(x); }
__device__ __forceinline__ float pow_(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double pow_(double x, double y) { return pow(x, y); }

/// Integer power by squaring; negative exponents give 0 except for |x| = 1.
template <typename T> __device__ __forceinline__ T pow_(T x, T y) {
  if (y < 0)
    return x == 1 ? T(1) : (x == T(-1) ? ((y & 1) ? T(-1) : T(1)) : T(0));
  T r = 1;
  while (y) {
    if (y & 1)
      r *= x;
    x *= x;
    y >>= 1;
  }
  return r;
}

template <typename T> __device__ __forceinline__ T neg(T x) { return -x; }
template <typename T> __device__ __forceinline__ T abs_(T x) {
  return x < T(0) ? -x : x;
}
template <typename T> __device__ __forceinline__ T reciprocal(T x) {
  return T(1) / x;
}
/// The type the transcendental maps below compute in: float for the 16-bit
/// types (CUDA's bf16/f16 math would round every step, and mixing them with
/// the float results of exp_ or tanh_ is ambiguous), the type itself
/// otherwise. Each rounds once, to T, at the end - as the reference backend
/// computes a 16-bit op (in f32, one rounding).
template <typename T> struct MathT { using type = T; };
template <> struct MathT<__nv_bfloat16> { using type = float; };
template <> struct MathT<__half> { using type = float; };

template <typename T> __device__ __forceinline__ T sigmoid(T x) {
  using C = typename MathT<T>::type;
  return T(C(1) / (C(1) + exp_(-C(x))));
}
template <typename T> __device__ __forceinline__ T silu(T x) {
  using C = typename MathT<T>::type;
  const C c = C(x);
  return T(c * (C(1) / (C(1) + exp_(-c))));
}
template <typename T> __device__ __forceinline__ T softplus(T x) {
  // log(1 + exp(x)), stable for large |x|.
  using C = typename MathT<T>::type;
  const C c = C(x);
  return T(c > C(20) ? c : log_(C(1) + exp_(c)));
}
template <typename T> __device__ __forceinline__ T gelu_erf(T x) {
  using C = typename MathT<T>::type;
  const C c = C(x);
  return T(C(0.5) * c * (C(1) + erf_(c * C(0.70710678118654752440))));
}
template <typename T> __device__ __forceinline__ T gelu_tanh(T x) {
  using C = typename MathT<T>::type;
  const C c = C(x);
  const C k = C(0.79788456080286535588); // sqrt(2 / pi)
  return T(C(0.5) * c * (C(1) + tanh_(k * (c + C(0.044715) * c * c * c))));
}

template <typename T> __device__ __forceinline__ T add(T a, T b) { return a + b; }
template <typename T> __device__ __forceinline__ T sub(T a, T b) { return a - b; }
template <typename T> __device__ __forceinline__ T mul(T a, T b) { return a * b; }
/// Division; integer division truncates, integer division by zero gives 0.
template <typename T> __device__ __forceinline__ T div(T a, T b) {
  return a / b;
}
__device__ __forceinline__ int64_t div(int64_t a, int64_t b) {
  return b == 0 ? 0 : a / b;
}
__device__ __forceinline__ int32_t div(int32_t a, int32_t b) {
  return b == 0 ? 0 : a / b;
}
template <typename T> __device__ __forceinline__ T max_(T a, T b) {
  return a != a ? a : (b != b ? b : (a > b ? a : b)); // NaN propagates
}
template <typename T> __device__ __forceinline__ T min_(T a, T b) {
  return a != a ? a : (b != b ? b : (a < b ? a : b));
}

// Further math (KilnIndexOps.td): float and double overloads.
#define KILN_UNARY_MATH(NAME, FN)                                              \
  __device__ __forceinline__ float NAME(float x) { return FN##f(x); }          \
  __device__ __forceinline__ double NAME(double x) { return FN(x); }
KILN_UNARY_MATH(tan_, tan)
KILN_UNARY_MATH(asin_, asin)
KILN_UNARY_MATH(acos_, acos)
KILN_UNARY_MATH(atan_, atan)
KILN_UNARY_MATH(sinh_, sinh)
KILN_UNARY_MATH(cosh_, cosh)
KILN_UNARY_MATH(asinh_, asinh)
KILN_UNARY_MATH(acosh_, acosh)
KILN_UNARY_MATH(atanh_, atanh)
KILN_UNARY_MATH(floor_, floor)
KILN_UNARY_MATH(ceil_, ceil)
KILN_UNARY_MATH(round_, rint) // halves to even
#undef KILN_UNARY_MATH
/// -1, 0 or 1; NaN stays NaN.
template <typename T> __device__ __forceinline__ T sign_(T x) {
  return x != x ? x : T((T(0) < x) - (x < T(0)));
}
/// ONNX BitShift-28 on integers: a shift by a negative amount or by the
/// width or more gives 0 (and -1 for a right shift of a negative signed
/// value); a left shift drops the bits past the width; a signed right shift
/// is arithmetic.
template <typename T> __device__ __forceinline__ T shl(T a, T b) {
  constexpr long long W = sizeof(T) * 8;
  if ((long long)b < 0 || (long long)b >= W)
    return T(0);
  return (T)((unsigned long long)(long long)a << (long long)b);
}
template <typename T> __device__ __forceinline__ T shr(T a, T b) {
  constexpr long long W = sizeof(T) * 8;
  if ((long long)b < 0 || (long long)b >= W)
    return (long long)a < 0 ? T(-1) : T(0);
  return (T)((long long)a >> (long long)b);
}
/// Truncated remainder (the result has a's sign); integer b == 0 gives 0.
__device__ __forceinline__ float fmod_(float a, float b) { return fmodf(a, b); }
__device__ __forceinline__ double fmod_(double a, double b) { return fmod(a, b); }
template <typename T> __device__ __forceinline__ T fmod_(T a, T b) {
  return (b == 0 || b == T(-1)) ? T(0) : T(a % b);
}
/// Floored remainder (the result has b's sign).
template <typename T> __device__ __forceinline__ T mod_(T a, T b) {
  T r = fmod_(a, b);
  return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? T(r + b) : r;
}

/// Conversion with kiln.cast semantics: float to int truncates, anything to
/// bool is `x != 0`.
template <typename To, typename From> __device__ __forceinline__ To cast(From x) {
  return static_cast<To>(x);
}
template <> __device__ __forceinline__ bool cast<bool, float>(float x) {
  return x != 0.0f;
}
template <> __device__ __forceinline__ bool cast<bool, double>(double x) {
  return x != 0.0;
}

/// Lowest value of a type, the identity of max.
template <typename T> __device__ __forceinline__ T lowest();
template <> __device__ __forceinline__ float lowest<float>() { return -INFINITY; }
template <> __device__ __forceinline__ double lowest<double>() { return -INFINITY; }
template <> __device__ __forceinline__ __half lowest<__half>() {
  return __float2half(-INFINITY);
}
template <> __device__ __forceinline__ __nv_bfloat16 lowest<__nv_bfloat16>() {
  return __float2bfloat16(-INFINITY);
}
template <> __device__ __forceinline__ int64_t lowest<int64_t>() {
  return INT64_MIN;
}
template <> __device__ __forceinline__ int32_t lowest<int32_t>() {
  return INT32_MIN;
}
template <> __device__ __forceinline__ int8_t lowest<int8_t>() { return -128; }
template <> __device__ __forceinline__ uint8_t lowest<uint8_t>() { return 0; }

} // namespace op

/// False for every T, but only once T is known: a static_assert on it fires
/// when a template is instantiated, not when it is defined.
template <typename T> inline constexpr bool kDependentFalse = false;

/// Programmatic dependent launch (sm_90 and later; docs/runtime.md). Every
/// generated kernel calls pdlEnter() before it touches memory that another
/// launch writes or reads: it waits until the launch before it on the
/// stream has completed and its writes are visible (griddepcontrol.wait,
/// which returns at once when the kernel was not launched with PDL), then
/// lets the launch after it start its blocks (griddepcontrol.
/// launch_dependents), which run up to their own pdlEnter() - reading only
/// weights, which no launch writes - while this kernel finishes. Since
/// every kernel waits, launches stay ordered transitively. Below sm_90 both
/// are nothing, and the runtime launches such artifacts without PDL.
__device__ __forceinline__ void pdlEnter() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

/// Whether this compilation has thread block clusters (sm_90 and later; the
/// host pass counts as having them). A kernel that merges in a cluster is
/// declared with KILN_CLUSTER_DIMS(n): `__cluster_dims__(n, 1, 1)` where
/// there are clusters and nothing below sm_90, where the kernel merges
/// through global memory instead (kvAttentionSplitWith), so one emitted
/// source builds for every --arch.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define KILN_CLUSTER_DIMS(n)
inline constexpr bool kClusterArch = false;
#else
#define KILN_CLUSTER_DIMS(n) __cluster_dims__(n, 1, 1)
inline constexpr bool kClusterArch = true;
#endif

/// Thread block clusters (sm_90 and later): clusterSync() is a barrier of
/// every thread of every block of the calling block's cluster, with the
/// shared-memory writes before it visible to the cluster's blocks after it
/// (barrier.cluster.arrive.release / wait.acquire); clusterPeer(p, rank)
/// is the generic address of the shared variable `p` in the cluster's
/// block `rank` (mapa), readable until that block passes its next
/// clusterSync(). Only for kernels launched with cluster dims (kiln emits
/// `__cluster_dims__`); below sm_90 they trap.
__device__ __forceinline__ void clusterSync() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("barrier.cluster.arrive.release.aligned;\n\t"
               "barrier.cluster.wait.acquire.aligned;" ::: "memory");
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}
template <typename T>
__device__ __forceinline__ const T *clusterPeer(const T *p, unsigned rank) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const T *r;
  asm("mapa.u64 %0, %1, %2;" : "=l"(r) : "l"(p), "r"(rank));
  return r;
#else
  (void)rank;
#if defined(__CUDA_ARCH__)
  __trap();
#endif
  return p;
#endif
}

/// Asks L2 for `bytes` bytes at `p` (a weight), one 128-byte line per lane
/// of the calling warp at a time, without waiting for them: a GEMV kernel
/// does it for its first weight rows before pdlEnter() and its prologue,
/// so the rows stream in while the launch before it finishes.
__device__ __forceinline__ void prefetchL2(const void *p, int64_t bytes) {
  const char *c = static_cast<const char *>(p);
  for (int64_t o = (int64_t)(threadIdx.x & 31) * 128; o < bytes; o += 32 * 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(c + o));
}

/// prefetchL2 for gemvMmaPartials' rows: the 4 lanes of a lane group share
/// their row `p` (each group its own), lane t of the group asking for the
/// 128-byte lines t, t + 4, ... of its `bytes` bytes.
__device__ __forceinline__ void prefetchL2Rows(const void *p, int64_t bytes) {
  const char *c = static_cast<const char *>(p);
  for (int64_t o = (int64_t)(threadIdx.x & 3) * 128; o < bytes; o += 4 * 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(c + o));
}

/// Asks L2 for `bytes` bytes at `p` (weights a later launch reads;
/// kiln.launch's prefetch), spread over every thread of the grid: thread t
/// of T takes the 128-byte lines t, t + T, ..., so the lines go out in
/// address order from the first blocks on. Issued before the kernel waits
/// for the launch before it, it keeps DRAM busy while this kernel (one
/// that streams no weights, such as decode attention) runs.
__device__ __forceinline__ void prefetchL2Grid(const void *p, int64_t bytes) {
  const char *c = static_cast<const char *>(p);
  const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int64_t n = (int64_t)gridDim.x * blockDim.x;
  for (int64_t o = t * 128; o < bytes; o += n * 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(c + o));
}

/// Accumulator type of sums and dot products over elements of T. Every
/// element type a kernel may reduce has its own entry; any other type is a
/// compile error, never a silent default.
///  - f32, f16, bf16: fp32 (as cuBLAS and PyTorch accumulate).
///  - f64: f64 (the tensor's own precision).
///  - i8, ui8, i32, i64: int64, wrapping. ONNX ReduceSum/ReduceMean keep the
///    element type; a sum that wraps at 64 bits and is cast to T equals the
///    sum wrapped at T's width, and a mean divides the exact sum before the
///    cast (truncating, as the reference backend does).
template <typename T> struct Acc {
  static_assert(kDependentFalse<T>,
                "kiln::Acc: no accumulator for this element type");
};
template <> struct Acc<float> { using type = float; };
template <> struct Acc<__half> { using type = float; };
template <> struct Acc<__nv_bfloat16> { using type = float; };
template <> struct Acc<double> { using type = double; };
template <> struct Acc<int64_t> { using type = int64_t; };
template <> struct Acc<int32_t> { using type = int64_t; };
template <> struct Acc<int8_t> { using type = int64_t; };
template <> struct Acc<uint8_t> { using type = int64_t; };

//===----------------------------------------------------------------------===//
// Block reductions
//===----------------------------------------------------------------------===//

// __shfl_xor_sync has no 8-bit overload: int8_t/uint8_t go through int, and
// the result is cast back to T.
template <typename T> __device__ __forceinline__ T warpSum(T v) {
  for (int o = 16; o > 0; o >>= 1)
    v += (T)__shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <typename T> __device__ __forceinline__ T warpMax(T v) {
  for (int o = 16; o > 0; o >>= 1)
    v = op::max_(v, (T)__shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// Sum over the block; every thread gets the result. Uses 32 * sizeof(T)
/// bytes of static shared memory.
template <typename T> __device__ T blockSum(T v) {
  __shared__ T partial[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warpSum(v);
  __syncthreads(); // partial[] may still be read by a previous call
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? partial[lane] : T(0);
  return warpSum(v);
}

/// Max over the block; every thread gets the result.
template <typename T> __device__ T blockMax(T v) {
  __shared__ T partial[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warpMax(v);
  __syncthreads();
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  int warps = (blockDim.x + 31) >> 5;
  v = lane < warps ? partial[lane] : op::lowest<T>();
  return warpMax(v);
}

//===----------------------------------------------------------------------===//
// Elementwise and data movement
//===----------------------------------------------------------------------===//

/// Grid-stride loop over N output elements: out[i] = f(i).
template <int64_t N, typename Out, typename F>
__device__ __forceinline__ void forEach(Out *__restrict__ out, F f) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N;
       i += (int64_t)gridDim.x * blockDim.x)
    out[i] = f(i);
}

/// out[i] = in[map(i)]: reshape (identity map), transpose, slice, expand.
template <int64_t N, typename T, typename Map>
__device__ __forceinline__ void mapCopy(const T *__restrict__ in,
                                        T *__restrict__ out, Map map) {
  forEach<N>(out, [&](int64_t i) { return in[map(i)]; });
}

/// Gather along one axis: data viewed as [Outer, Dim, Inner], Count indices.
/// Negative indices count from the end; out-of-range ones yield zero.
template <int64_t Outer, int64_t Dim, int64_t Count, int64_t Inner, typename T,
          typename I>
__device__ void gather(const T *__restrict__ data, const I *__restrict__ idx,
                       T *__restrict__ out) {
  forEach<Outer * Count * Inner>(out, [&](int64_t i) {
    int64_t inner = i % Inner, rest = i / Inner;
    int64_t c = rest % Count, outer = rest / Count;
    int64_t j = (int64_t)idx[c];
    if (j < 0)
      j += Dim;
    if (j < 0 || j >= Dim)
      return T(0);
    return data[(outer * Dim + j) * Inner + inner];
  });
}

/// Keeps the upper or lower triangle of each trailing Rows x Cols matrix.
template <int64_t N, int64_t Rows, int64_t Cols, bool Upper, int64_t Diagonal,
          typename T>
__device__ void trilu(const T *__restrict__ in, T *__restrict__ out) {
  forEach<N>(out, [&](int64_t i) {
    int64_t c = i % Cols, r = (i / Cols) % Rows;
    bool keep = Upper ? (c - r >= Diagonal) : (c - r <= Diagonal);
    return keep ? in[i] : T(0);
  });
}

/// ScatterND, second half (the first is a copy of data into out): Count
/// index tuples of depth Q address slices of Slice elements; `offset(tuple)`
/// maps a tuple (pointer to Q indices, already wrapped) to its element offset.
template <int64_t Count, int64_t Q, int64_t Slice, typename T, typename I,
          typename Offset>
__device__ void scatterND(const I *__restrict__ idx, const T *__restrict__ upd,
                          T *__restrict__ out, Offset offset) {
  for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
       u < Count * Slice; u += (int64_t)gridDim.x * blockDim.x) {
    int64_t k = u / Slice, within = u % Slice;
    int64_t off = offset(idx + k * Q);
    if (off >= 0)
      out[off + within] = upd[u];
  }
}

//===----------------------------------------------------------------------===//
// Reductions and normalisation (one block per output row)
//===----------------------------------------------------------------------===//

/// Kind of a reduction.
enum class Reduce { Sum, Mean, Max };

/// One block per output element `blockIdx.x`; `in(o, r)` is the input offset
/// of reduced element r (of Count) for output o.
template <Reduce R, int64_t Outputs, int64_t Count, typename T, typename Map>
__device__ void reduce(const T *__restrict__ in, T *__restrict__ out, Map map) {
  using A = typename Acc<T>::type;
  for (int64_t o = blockIdx.x; o < Outputs; o += gridDim.x) {
    if (R == Reduce::Max) {
      T m = op::lowest<T>();
      for (int64_t r = threadIdx.x; r < Count; r += blockDim.x)
        m = op::max_(m, in[map(o, r)]);
      m = blockMax(m);
      if (threadIdx.x == 0)
        out[o] = m;
    } else {
      A s = 0;
      for (int64_t r = threadIdx.x; r < Count; r += blockDim.x)
        s += (A)in[map(o, r)];
      s = blockSum(s);
      if (threadIdx.x == 0)
        out[o] = R == Reduce::Mean ? (T)(s / (A)(Count ? Count : 1)) : (T)s;
    }
  }
}

/// Softmax over Len elements at stride Inner; one block per (outer, inner).
template <int64_t Rows, int64_t Len, int64_t Inner, typename T>
__device__ void softmax(const T *__restrict__ in, T *__restrict__ out) {
  using A = typename Acc<T>::type;
  for (int64_t row = blockIdx.x; row < Rows; row += gridDim.x) {
    int64_t base = (row / Inner) * Len * Inner + row % Inner;
    T m = op::lowest<T>();
    for (int64_t j = threadIdx.x; j < Len; j += blockDim.x)
      m = op::max_(m, in[base + j * Inner]);
    m = blockMax(m);
    A s = 0;
    for (int64_t j = threadIdx.x; j < Len; j += blockDim.x)
      s += (A)op::exp_((A)in[base + j * Inner] - (A)m);
    s = blockSum(s);
    for (int64_t j = threadIdx.x; j < Len; j += blockDim.x)
      out[base + j * Inner] =
          (T)((A)op::exp_((A)in[base + j * Inner] - (A)m) / s);
  }
}

/// LayerNorm (Rms = false) or RMSNorm (Rms = true) of one row of Cols
/// contiguous elements, x to y, by the whole block (every thread must call
/// it); `scaleAt(j)` / `biasAt(j)` give the parameter offsets (bias may be
/// null). y may be shared memory: kiln-gemv's GEMV kernels normalise their
/// input rows into it (the prologue), with the arithmetic of kiln.rms_norm's
/// own kernel.
template <bool Rms, int64_t Cols, bool Round = false, typename T, typename Y,
          typename SMap, typename BMap>
__device__ void normRow(const T *__restrict__ x, const T *__restrict__ scale,
                        const T *__restrict__ bias, Y *y, float epsilon,
                        SMap scaleAt, BMap biasAt) {
  using A = typename Acc<T>::type;
  A mean = 0;
  if (!Rms) {
    A s = 0;
    for (int64_t j = threadIdx.x; j < Cols; j += blockDim.x)
      s += (A)x[j];
    mean = blockSum(s) / (A)Cols;
  }
  // Two passes: the variance sums squared deviations from the mean.
  A q = 0;
  for (int64_t j = threadIdx.x; j < Cols; j += blockDim.x) {
    A d = (A)x[j] - mean;
    q += d * d;
  }
  A inv = A(1) / op::sqrt_(blockSum(q) / (A)Cols + (A)epsilon);
  for (int64_t j = threadIdx.x; j < Cols; j += blockDim.x) {
    A n = ((A)x[j] - mean) * inv;
    if constexpr (Round) // kiln.rms_norm's round_normalized
      n = (A)(T)n;
    A v = n * (A)scale[scaleAt(j)];
    if (bias)
      v += (A)bias[biasAt(j)];
    y[j] = (T)v;
  }
}

/// LayerNorm (Rms = false) or RMSNorm (Rms = true) over Cols contiguous
/// elements per row, one block per row (normRow). Round: the normalised
/// value is rounded to T before the scale multiplies it (kiln.rms_norm's
/// round_normalized).
template <bool Rms, int64_t Rows, int64_t Cols, bool Round = false,
          typename T, typename SMap, typename BMap>
__device__ void norm(const T *__restrict__ in, const T *__restrict__ scale,
                     const T *__restrict__ bias, T *__restrict__ out,
                     float epsilon, SMap scaleAt, BMap biasAt) {
  for (int64_t row = blockIdx.x; row < Rows; row += gridDim.x)
    normRow<Rms, Cols, Round>(in + row * Cols, scale, bias,
                              out + row * Cols, epsilon, scaleAt, biasAt);
}

//===----------------------------------------------------------------------===//
// Linear algebra and transformer blocks
//===----------------------------------------------------------------------===//

/// Generic batched matmul: one thread per output element of [Batch, M, N];
/// `aAt(b, m, k)`, `bAt(b, k, n)` give operand offsets; optional bias[N].
template <int64_t Batch, int64_t M, int64_t N, int64_t K, typename T,
          typename AMap, typename BMap>
__device__ void matmul(const T *__restrict__ a, const T *__restrict__ b,
                       const T *__restrict__ bias, T *__restrict__ out,
                       AMap aAt, BMap bAt) {
  using A = typename Acc<T>::type;
  forEach<Batch * M * N>(out, [&](int64_t i) {
    int64_t n = i % N, m = (i / N) % M, bt = i / (M * N);
    A s = bias ? (A)bias[n] : A(0);
    for (int64_t k = 0; k < K; ++k)
      s += (A)a[aAt(bt, m, k)] * (A)b[bAt(bt, k, n)];
    return (T)s;
  });
}

/// Sixteen bytes of T: the vector of kiln's weight-streaming GEMV loads.
template <typename T> struct alignas(16) Vec16 {
  static constexpr int N = 16 / sizeof(T);
  T e[N];
};

/// gemvDots' rows of x read from memory (global, or the shared memory a
/// block's norm prologue filled), through the cache: x is small and every
/// warp reads it.
template <int64_t M, int64_t K, typename T> struct GemvX {
  static constexpr int Vec = Vec16<T>::N;
  const T *x;
  __device__ __forceinline__ void begin() {}
  __device__ __forceinline__ void load(int64_t m, int64_t c,
                                       float (&f)[Vec]) {
    Vec16<T> v = reinterpret_cast<const Vec16<T> *>(x + m * K)[c];
#pragma unroll
    for (int e = 0; e < Vec; ++e)
      f[e] = (float)v.e[e];
  }
  /// Row m's part of what finish() needs (nothing for plain rows).
  __device__ __forceinline__ float partial(int64_t) { return 0.0f; }
  __device__ __forceinline__ float finish(int64_t, float) { return 1.0f; }
  /// load() of a row chosen at run time (gemvMmaPartials: each lane loads the
  /// row of its lane group); returns the chunk's part of what finish()
  /// needs, summed by the caller (nothing here).
  __device__ __forceinline__ float loadOwn(int64_t m, int64_t c,
                                           float (&f)[Vec]) {
    load(m, c, f);
    return 0.0f;
  }
};

/// gemvDots' rows of x as RMSNorm(x) * scale (scale[K], contiguous) folded
/// into the dot products, for kiln-gemv's RMSNorm prologue: dot(w, x *
/// scale) * rsqrt(mean(x^2) + epsilon), the sum of squares accumulated
/// from the same x loads and finished by the warp sum, so no warp waits
/// for a block barrier or a normalised row before its weights stream
/// (bench/micro/gemv_prologue.cu: the gate/up kernel 26.0 -> 20.2 us on an
/// H200, where the dots alone take 19.8). The normalised row is never
/// rounded to T: the sums see it in f32 (docs/precision.md).
template <int64_t M, int64_t K, typename T> struct GemvRmsX {
  static constexpr int Vec = Vec16<T>::N;
  const T *x, *scale;
  float epsilon;
  float sq[M];
  __device__ __forceinline__ void begin() {
#pragma unroll
    for (int64_t m = 0; m < M; ++m)
      sq[m] = 0.0f;
  }
  __device__ __forceinline__ void load(int64_t m, int64_t c,
                                       float (&f)[Vec]) {
    Vec16<T> v = reinterpret_cast<const Vec16<T> *>(x + m * K)[c];
    Vec16<T> g = reinterpret_cast<const Vec16<T> *>(scale)[c];
#pragma unroll
    for (int e = 0; e < Vec; ++e) {
      float xf = (float)v.e[e];
      sq[m] += xf * xf;
      f[e] = xf * (float)g.e[e];
    }
  }
  /// Row m's sum of squares over the chunks this warp loaded (warp-summed).
  __device__ __forceinline__ float partial(int64_t m) {
    return warpSum(sq[m]);
  }
  /// What row m's dots are multiplied by, from the sum of squares over all
  /// of K (the partials of every warp that shares the row): its rsqrt.
  __device__ __forceinline__ float finish(int64_t, float sumSq) {
    return 1.0f / sqrtf(sumSq / (float)K + epsilon);
  }
  /// load() of a row chosen at run time (gemvMmaPartials): returns the chunk's
  /// sum of squares instead of adding it to sq[m], which a run-time m
  /// would put in local memory.
  __device__ __forceinline__ float loadOwn(int64_t m, int64_t c,
                                           float (&f)[Vec]) {
    Vec16<T> v = reinterpret_cast<const Vec16<T> *>(x + m * K)[c];
    Vec16<T> g = reinterpret_cast<const Vec16<T> *>(scale)[c];
    float s = 0.0f;
#pragma unroll
    for (int e = 0; e < Vec; ++e) {
      float xf = (float)v.e[e];
      s += xf * xf;
      f[e] = xf * (float)g.e[e];
    }
    return s;
  }
};

/// Loads per lane and row of one tile of gemvPartialDots (L rows at once),
/// and steps per tile of gemvMmaPartials: 8, or 4 from 3 rows on, so
/// registers stay bounded. kiln::gemvTile (LaunchConfig.h) is the host's
/// copy of the rule.
template <int L> inline constexpr int kGemvTile = L <= 2 ? 8 : 4;

/// The first tile of gemvPartialDots' loads of `rows` (K elements of T a
/// row, from element 0), into pre[l * kGemvTile<L> + j] (lane's load j of
/// row l): a GEMV kernel issues them before its PDL wait (weights are
/// never written), so they stream in while the launch before it finishes,
/// and passes `pre` to the dots of that column (the default;
/// kiln-compile --gemv-preload=false asks L2 for the rows instead).
template <int64_t K, int L, typename T>
__device__ __forceinline__ void gemvFirstTile(const T *const (&rows)[L],
                                              int4 *pre) {
  constexpr int64_t Chunks = K / Vec16<T>::N;
  constexpr int Tile = kGemvTile<L>;
  int lane = threadIdx.x & 31;
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int j = 0; j < Tile; ++j) {
      int64_t c = lane + 32 * j;
      pre[l * Tile + j] =
          c < Chunks ? __ldg(reinterpret_cast<const int4 *>(rows[l]) + c)
                     : make_int4(0, 0, 0, 0);
    }
}

/// The staged GEMV (kiln-compile --gemv-stages=N, kiln.gemv_stages;
/// docs/codegen.md): each warp keeps a ring of N slots in shared memory,
/// one a column it computes, and copies the weight rows of the column N
/// ahead of the one it computes into it (cp.async, 16 bytes a lane,
/// through L2 only), so a warp has N columns' rows in flight instead of
/// the one its registers hold, and a block loops over its columns instead
/// of the grid running in waves. gemvStageRows copies the warp's slice of
/// L rows (K elements of T each, from rows[l]) into dst[l * K ...]: lane
/// `lane` copies the 16-byte chunks lane, lane + 32, ..., which are the
/// chunks gemvPartialDots has that lane read, so each lane reads only what
/// it copied itself. cpAsyncCommit closes the copies issued since the last
/// one into a group; cpAsyncWait<N> returns when at most N of the calling
/// thread's groups are still in flight.
template <int64_t K, int L, typename T>
__device__ __forceinline__ void gemvStageRows(const T *const (&rows)[L],
                                              T *dst) {
  constexpr int64_t Chunks = K / Vec16<T>::N;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll 4
    for (int64_t c = lane; c < Chunks; c += 32) {
      const unsigned to = static_cast<unsigned>(
          __cvta_generic_to_shared(reinterpret_cast<int4 *>(dst + l * K) + c));
      const void *from = reinterpret_cast<const int4 *>(rows[l]) + c;
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(to),
                   "l"(__cvta_generic_to_global(from))
                   : "memory");
    }
}
__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}
template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

/// The partial dot products of one warp in a weight-streaming GEMV for
/// decode: acc[l][m] = sum_k x[m, first + k] * rows[l][k] over K elements
/// (rows[l] points at the slice's first element of a row of a weight stored
/// [N, K'], 16-byte aligned; `first` is the slice's offset in x's rows, in
/// elements) for L weight rows and M rows of x (a GemvX, or a GemvRmsX that
/// folds an RMSNorm in). The lanes read the rows in 16-byte vectors (Vec
/// elements of T; K % Vec == 0), every load of a tile issued before the
/// sums use it, sum in f32, and end with a warp sum: every lane gets every
/// partial. x.finish() is not applied (gemvDots and gemvSplitDots do).
/// With `pre` (gemvFirstTile of the same rows) the first tile comes from
/// there instead of memory; with `fromShared` (a constant in every caller)
/// the rows are a staged GEMV's slots in shared memory (gemvStageRows).
template <int64_t M, int64_t K, int L, typename T, typename XRows,
          typename = decltype(&XRows::finish)>
__device__ __forceinline__ void gemvPartialDots(XRows &x,
                                                const T *const (&rows)[L],
                                                float (&acc)[L][M],
                                                int64_t first,
                                                const int4 *pre = nullptr,
                                                bool fromShared = false) {
  using V = Vec16<T>;
  constexpr int Vec = V::N;
  static_assert(K % Vec == 0, "gemv: K must be a multiple of the vector");
  constexpr int64_t Chunks = K / Vec; // 16-byte chunks per row
  // Loads in flight per lane: a tile of each row, so registers stay bounded
  // for long rows (K = 8192 is 32 chunks per lane).
  constexpr int64_t Tile = kGemvTile<L>;
  // Rows that are whole tiles (K = 2048 and 8192 in bf16) need no bounds
  // test, so every load of a tile is issued before the first sum.
  constexpr bool Whole = Chunks % (32 * Tile) == 0;
  int lane = threadIdx.x & 31;
  x.begin();
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int64_t m = 0; m < M; ++m)
      acc[l][m] = 0.0f;
  for (int64_t base = 0; base < Chunks; base += 32 * Tile) {
    int4 wv[L][Tile];
#pragma unroll
    for (int l = 0; l < L; ++l)
#pragma unroll
      for (int64_t j = 0; j < Tile; ++j) {
        int64_t c = base + lane + 32 * j;
        // Weights are read once per step: the read-only path, not kept in L1.
        // The first tile may have been loaded already (gemvFirstTile).
        // A staged GEMV's rows are in shared memory (gemvStageRows).
        const int4 *row = reinterpret_cast<const int4 *>(rows[l]);
        wv[l][j] = pre && base == 0           ? pre[l * Tile + j]
                   : !(Whole || c < Chunks) ? make_int4(0, 0, 0, 0)
                   : fromShared             ? row[c]
                                            : __ldg(row + c);
      }
#pragma unroll
    for (int64_t j = 0; j < Tile; ++j) {
      int64_t c = base + lane + 32 * j;
      if (!Whole && c >= Chunks)
        break;
#pragma unroll
      for (int64_t m = 0; m < M; ++m) {
        float xf[Vec];
        x.load(m, first / Vec + c, xf);
#pragma unroll
        for (int l = 0; l < L; ++l) {
          V w = *reinterpret_cast<const V *>(&wv[l][j]);
#pragma unroll
          for (int e = 0; e < Vec; ++e)
            acc[l][m] += xf[e] * (float)w.e[e];
        }
      }
    }
  }
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int64_t m = 0; m < M; ++m)
      acc[l][m] = warpSum(acc[l][m]);
}

/// The dot products of one warp over whole rows of K elements:
/// gemvPartialDots from element 0, then x.finish(): every lane gets every
/// result.
template <int64_t M, int64_t K, int L, typename T, typename XRows,
          typename = decltype(&XRows::finish)>
__device__ __forceinline__ void gemvDots(XRows &x, const T *const (&rows)[L],
                                         float (&acc)[L][M],
                                         const int4 *pre = nullptr,
                                         bool fromShared = false) {
  gemvPartialDots<M, K, L>(x, rows, acc, 0, pre, fromShared);
#pragma unroll
  for (int64_t m = 0; m < M; ++m) {
    float f = x.finish(m, x.partial(m));
#pragma unroll
    for (int l = 0; l < L; ++l)
      acc[l][m] *= f;
  }
}

/// Split-K GEMV dots: S warps of one block (warps S * j ... S * j + S - 1,
/// j = warp / S) share an output column, warp `slice` = warp % S taking
/// elements [slice * K / S, (slice + 1) * K / S) of every row, so a long row
/// (K = 8192 in the down projection) is S shorter load chains in flight at
/// once instead of one chain of K / (32 * Vec * Tile) round trips. `rows`
/// point at the slice's first element. The partials meet in `part` (shared,
/// Stride >= (L + 1) * M floats per warp of the block: groups of other L in
/// one kernel share it) behind a named barrier of the
/// S warps (id 1 + j; id 0 stays __syncthreads'), and warp slice 0 adds them
/// in slice order - the same order on every run, so results are
/// reproducible - and applies x.finish() with the sums of squares added the
/// same way. Only slice 0's acc holds the results; all S warps must call
/// it (they have one column, so they take the same branches).
template <int S, int64_t Stride, int64_t M, int64_t K, int L, typename T,
          typename XRows>
__device__ __forceinline__ void gemvSplitDots(XRows &x,
                                              const T *const (&rows)[L],
                                              float (&acc)[L][M],
                                              float *part,
                                              const int4 *pre = nullptr,
                                              bool fromShared = false) {
  static_assert(S >= 1 && 8 % S == 0, "gemv: S divides the block's 8 warps");
  static_assert(K % S == 0, "gemv: S divides K");
  static_assert(Stride >= (L + 1) * M, "gemv: a warp's partials fit");
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31,
            slice = warp % S;
  gemvPartialDots<M, K / S, L>(x, rows, acc, slice * (K / S), pre,
                               fromShared);
  float sq[M];
#pragma unroll
  for (int64_t m = 0; m < M; ++m)
    sq[m] = x.partial(m);
  if constexpr (S > 1) {
    float *mine = part + warp * Stride;
    if (lane == 0) {
#pragma unroll
      for (int64_t m = 0; m < M; ++m) {
#pragma unroll
        for (int l = 0; l < L; ++l)
          mine[l * M + m] = acc[l][m];
        mine[L * M + m] = sq[m];
      }
    }
    const int id = 1 + warp / S;
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(32 * S) : "memory");
    if (slice == 0)
      for (int s = 1; s < S; ++s) {
        const float *theirs = mine + s * Stride;
#pragma unroll
        for (int64_t m = 0; m < M; ++m) {
#pragma unroll
          for (int l = 0; l < L; ++l)
            acc[l][m] += theirs[l * M + m];
          sq[m] += theirs[L * M + m];
        }
      }
    // The next column's partials must not overwrite these before slice 0
    // has read them.
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(32 * S) : "memory");
  }
#pragma unroll
  for (int64_t m = 0; m < M; ++m) {
    float f = x.finish(m, sq[m]);
#pragma unroll
    for (int l = 0; l < L; ++l)
      acc[l][m] *= f;
  }
}

/// gemvMmaPartials' warps per output tile of 8 columns for K-element rows of
/// 16-bit T and L weights: the fewest (a power of two, at most 8) that make
/// each warp's slice of its 8 rows one tile of loads (Tile steps of 32
/// elements a row), halved until 32 x S divides K. kiln::gemvSplitK
/// (LaunchConfig) computes the same for the fused kernels.
template <int64_t K, int L> __host__ __device__ constexpr int gemvMmaSplit() {
  constexpr int64_t tile = 32 * kGemvTile<L>;
  int s = 1;
  while (s < 8 && s * tile < K)
    s *= 2;
  while (s > 1 && K % (32 * s) != 0)
    s /= 2;
  return s;
}

/// Floats of gemvMmaPartials' shared partials per warp, for L weights.
template <int L> inline constexpr int64_t kGemvMmaStride = L * 64 + 8;

/// One m16n8k16 tensor-core product with f32 accumulation: d += a * b
/// (a: 16 x 16, four registers of two 16-bit elements; b: 16 x 8, two).
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], uint32_t a0,
                                         uint32_t a1, uint32_t a2,
                                         uint32_t a3, uint32_t b0,
                                         uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (std::is_same_v<T, __nv_bfloat16>)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  else if constexpr (std::is_same_v<T, __half>)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  else
    static_assert(kDependentFalse<T>, "mma16816: bf16 or f16 only");
#else
  static_assert(kDependentFalse<T>,
                "kiln's GEMV of 2 to 8 rows uses mma.sync: sm_80 or later");
#endif
}

/// Two 16-bit T of f[i], f[i + 1] (rounded to nearest even) in one register,
/// f[i] in the low half, as mma's operands hold them.
template <typename T>
__device__ __forceinline__ uint32_t packPair(float lo, float hi) {
  T a = (T)lo, b = (T)hi;
  uint16_t ua, ub;
  memcpy(&ua, &a, 2);
  memcpy(&ub, &b, 2);
  return (uint32_t)ua | ((uint32_t)ub << 16);
}

/// A weight load of gemvMmaPartials: 16 bytes through the read-only path,
/// with L2 asked to fetch Hint bytes around it (0: no hint; 128 or 256). A
/// load instruction of the tiles reads 64 bytes of each of 8 rows, and the
/// next one the next 64: bench/micro/gemv_mma.cu (H200, Llama-1B gate/up at
/// 8 rows) took 24.1 us without a hint, 21.1 with 128 bytes (the default),
/// 24.6 with 256; the 1-row kernel takes 20.4.
template <int Hint>
__device__ __forceinline__ int4 ldgWeight(const int4 *p) {
  int4 v;
  if constexpr (Hint == 128)
    asm volatile("ld.global.nc.L2::128B.v4.s32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  else if constexpr (Hint == 256)
    asm volatile("ld.global.nc.L2::256B.v4.s32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  else
    v = __ldg(p);
  return v;
}

/// One round of gemvMmaPartials' weight loads for the calling lane (g, t):
/// Tile steps from step `base` of its slice of each of the L rows (`rows[l]`
/// at the slice's first element; K / S elements a slice), 16 bytes of step s
/// at element 32 s + 8 t, zeros past the slice, into dst[l * Tile + j].
template <int S, int64_t K, int L, int Hint = 128, typename T>
__device__ __forceinline__ void gemvMmaLoadRound(const T *const (&rows)[L],
                                                 int64_t base, int4 *dst) {
  constexpr int64_t KS = K / S;
  constexpr int64_t Steps = (KS + 31) / 32;
  constexpr int64_t Tile = kGemvTile<L>;
  constexpr bool Whole = KS % 32 == 0 && Steps % Tile == 0;
  const int t = threadIdx.x & 3;
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int64_t j = 0; j < Tile; ++j) {
      int64_t s = base + j;
      dst[l * Tile + j] =
          Whole || s * 32 + t * 8 < KS
              ? ldgWeight<Hint>(reinterpret_cast<const int4 *>(rows[l]) +
                                s * 4 + t)
              : make_int4(0, 0, 0, 0);
    }
}

/// gemvMmaPartials' first round of weight loads into `pre` (L x
/// kGemvTile<L> int4 a lane), for a kernel to issue before its PDL wait
/// (weights are never written) and pass to gemvMmaPartials after it.
template <int S, int64_t K, int L, int Hint = 128, typename T>
__device__ __forceinline__ void gemvMmaFirstRound(const T *const (&rows)[L],
                                                  int4 *pre) {
  gemvMmaLoadRound<S, K, L, Hint>(rows, 0, pre);
}

/// Tensor-core GEMV for decode steps of 2 to 8 rows of x (bf16/f16), in
/// three calls that all S warps of a tile make: gemvMmaPartials, then
/// gemvMmaResult for the outputs the thread stores, then gemvMmaDone.
///
/// A tile is 8 output columns (weight rows n0 .. n0 + 7) for L weights,
/// shared by S warps of the block (warps S * j ... S * j + S - 1, j = warp
/// / S), warp `slice` = warp % S over elements [slice * K / S, (slice + 1)
/// * K / S) of the rows. Each mma.m16n8k16 takes the tile's 8 weight rows
/// as its B operand (k16 x n8) and x's rows as A (m16 x k16; rows M..15
/// zero), so one weight load serves every row of x - the CUDA-core kernel
/// (gemvDots) reads x again per row and was slower than cuBLASLt at 8 rows.
///
/// Lane (g, t) = (lane / 4, lane % 4) loads 16 bytes (8 elements) of weight
/// row n0 + g and of x row g (zeros for g >= M) at element 32 s + 8 t of
/// the slice for each step s. The product's k order is ours to choose as
/// long as A and B agree: the pairs (0, 1), (2, 3) of those 8 elements are
/// mma k pairs (2t, 2t + 1), (2t + 8, 2t + 9) of one mma, and (4, 5), (6,
/// 7) the same of a second, which is exactly what the fragments' lane
/// layout puts in lane (g, t). `rows[l]` points at this lane's weight row
/// (n0 + g, or any valid row where n0 + g is past the weight: its results
/// are not used) at the slice's first element. x rows are rounded to T
/// first: for a GemvRmsX that is x * scale, before the rsqrt; the
/// CUDA-core path keeps it in f32 (docs/precision.md).
///
/// The accumulators give lane (g, t) rows g of x at columns n0 + 2t and n0
/// + 2t + 1; gemvMmaPartials writes them, with each row's sum of squares
/// over the slice (GemvRmsX), to `part` (shared, Stride >=
/// kGemvMmaStride<L> floats per warp of the block: one Stride for every
/// tile of a kernel, since a block's tiles may belong to groups of other
/// L) and meets the tile's other warps at a named barrier (id 1 + j).
///
/// Ahead (chosen by kiln::gemvMmaAhead on the host for kiln-gemv's
/// kernels: by default where a slice is two or more whole rounds;
/// kiln-compile --gemv-mma-ahead[=false] for every kernel or none): each
/// round of Tile steps issues the next round's weight loads before its own
/// mma, so a warp keeps two rounds in flight instead of one (session 16's
/// Nsight Compute profile of the batch-8 GEMVs found their warps waiting on
/// weight loads with 2-4 warps a scheduler; session 17: Llama-1B's batch-8
/// down 14.17 -> 13.09 us alone, bench/micro/gemv_mma_narrow.cu). The same
/// products in the same order: the results are bit-identical.
///
/// With `pre` (kiln-compile --gemv-mma-preload, kiln.gemv_mma_preload), the
/// warp's first round of weight loads was issued before the kernel's PDL
/// wait (gemvMmaFirstRound into pre[l * Tile + j]) and is taken from there
/// instead of loaded again: the same values, so the same results.
template <int S, int64_t Stride, int64_t M, int64_t K, int L, int Hint = 128,
          bool Ahead = false, typename T, typename XRows>
__device__ __forceinline__ void gemvMmaPartials(XRows &x,
                                                const T *const (&rows)[L],
                                                float *part,
                                                const int4 *pre = nullptr) {
  static_assert(sizeof(T) == 2, "gemvMma: 16-bit weights");
  static_assert(M >= 1 && M <= 8, "gemvMma: at most 8 rows of x");
  static_assert(S >= 1 && 8 % S == 0, "gemvMma: S divides 8 warps");
  constexpr int Vec = Vec16<T>::N;
  static_assert(Vec == 8, "gemvMma: 8 elements a 16-byte load");
  static_assert(K % Vec == 0 && (S == 1 || K % (32 * S) == 0),
                "gemvMma: 8 divides K, and 32 x S where S > 1");
  static_assert(Stride >= kGemvMmaStride<L>, "gemvMma: a warp's partials fit");
  constexpr int64_t KS = K / S;               // elements of a warp's slice
  constexpr int64_t Steps = (KS + 31) / 32;   // 4 lanes x 8 elements a step
  constexpr int64_t Tile = kGemvTile<L>;
  // Slices of whole tiles of whole steps need no bounds test.
  constexpr bool Whole = KS % 32 == 0 && Steps % Tile == 0;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31,
            slice = warp % S;
  const int g = lane >> 2, t = lane & 3;
  const int64_t first = slice * KS; // the slice's first element in x
  float d[L][4];
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int i = 0; i < 4; ++i)
      d[l][i] = 0.0f;
  float sq = 0.0f;
  // The round of Tile steps from `base`: weights are read once per step,
  // through the read-only path.
  auto loadRound = [&](int64_t base, int4 (&dst)[L][Tile]) {
    gemvMmaLoadRound<S, K, L, Hint>(rows, base, &dst[0][0]);
  };
  // The first round from `pre` where the kernel preloaded it.
  auto firstRound = [&](int4 (&dst)[L][Tile]) {
    if (pre) {
#pragma unroll
      for (int l = 0; l < L; ++l)
#pragma unroll
        for (int64_t j = 0; j < Tile; ++j)
          dst[l][j] = pre[l * Tile + j];
    } else {
      loadRound(0, dst);
    }
  };
  int4 next[L][Ahead ? Tile : 1];
  if constexpr (Ahead)
    firstRound(next);
  for (int64_t base = 0; base < Steps; base += Tile) {
    int4 wv[L][Tile];
    if constexpr (Ahead) {
#pragma unroll
      for (int l = 0; l < L; ++l)
#pragma unroll
        for (int64_t j = 0; j < Tile; ++j)
          wv[l][j] = next[l][j];
      if (base + Tile < Steps)
        loadRound(base + Tile, next);
    } else if (base == 0) {
      firstRound(wv);
    } else {
      loadRound(base, wv);
    }
#pragma unroll
    for (int64_t j = 0; j < Tile; ++j) {
      int64_t s = base + j;
      if (!Whole && s >= Steps)
        break;
      float f[Vec];
      if (g < M && (Whole || s * 32 + t * 8 < KS)) {
        sq += x.loadOwn(g, (first + s * 32) / Vec + t, f);
      } else {
#pragma unroll
        for (int e = 0; e < Vec; ++e)
          f[e] = 0.0f;
      }
      uint32_t a0 = packPair<T>(f[0], f[1]), a1 = packPair<T>(f[2], f[3]),
               a2 = packPair<T>(f[4], f[5]), a3 = packPair<T>(f[6], f[7]);
#pragma unroll
      for (int l = 0; l < L; ++l) {
        const int4 w = wv[l][j];
        mma16816<T>(d[l], a0, 0u, a1, 0u, (uint32_t)w.x, (uint32_t)w.y);
        mma16816<T>(d[l], a2, 0u, a3, 0u, (uint32_t)w.z, (uint32_t)w.w);
      }
    }
  }
  // Row g's sum of squares over this warp's slice: the 4 lanes of group g.
  sq += __shfl_xor_sync(0xffffffffu, sq, 1);
  sq += __shfl_xor_sync(0xffffffffu, sq, 2);
  float *mine = part + warp * Stride;
#pragma unroll
  for (int l = 0; l < L; ++l) {
    mine[l * 64 + g * 8 + 2 * t] = d[l][0];
    mine[l * 64 + g * 8 + 2 * t + 1] = d[l][1];
  }
  if (t == 0)
    mine[L * 64 + g] = sq;
  if constexpr (S > 1)
    asm volatile("bar.sync %0, %1;" ::"r"(1 + warp / S), "r"(32 * S)
                 : "memory");
  else
    __syncwarp();
}

/// Output o (row o / 8 of x, column n0 + o % 8) of the tile gemvMmaPartials
/// left in `part`: acc[l] = the sum of the S slices' partials in slice
/// order (reproducible), times x.finish() of the row's sum of squares. Any
/// thread of the tile's S warps may ask for any o < 8 M; the emitted kernels
/// give thread (slice, lane) the outputs slice * 32 + lane + 32 S i, so the
/// S x 32 threads share the tile's 8 M outputs.
template <int S, int64_t Stride, int64_t M, int L, typename XRows>
__device__ __forceinline__ void gemvMmaResult(XRows &x, const float *part,
                                              int o, float (&acc)[L][1]) {
  const int warp = threadIdx.x >> 5;
  const float *tile0 = part + (warp - warp % S) * Stride;
  const int m = o >> 3, c = o & 7;
  float ss = 0.0f;
#pragma unroll
  for (int l = 0; l < L; ++l)
    acc[l][0] = 0.0f;
#pragma unroll
  for (int s = 0; s < S; ++s) {
#pragma unroll
    for (int l = 0; l < L; ++l)
      acc[l][0] += tile0[s * Stride + l * 64 + m * 8 + c];
    ss += tile0[s * Stride + L * 64 + m];
  }
  float f = x.finish(m, ss);
#pragma unroll
  for (int l = 0; l < L; ++l)
    acc[l][0] *= f;
}

/// The end of a tile: the next tile's partials must not overwrite these
/// before every thread has read its results.
template <int S> __device__ __forceinline__ void gemvMmaDone() {
  if constexpr (S > 1)
    asm volatile("bar.sync %0, %1;" ::"r"(1 + (int)(threadIdx.x >> 5) / S),
                 "r"(32 * S)
                 : "memory");
  else
    __syncwarp();
}

/// gemvDots over rows of x in memory.
template <int64_t M, int64_t K, int L, typename T>
__device__ __forceinline__ void gemvDots(const T *x,
                                         const T *const (&rows)[L],
                                         float (&acc)[L][M],
                                         const int4 *pre = nullptr,
                                         bool fromShared = false) {
  GemvX<M, K, T> rowsOfX{x};
  gemvDots<M, K, L>(rowsOfX, rows, acc, pre, fromShared);
}

/// Weight-streaming matrix-vector product for decode (M rows, M small):
/// out[m, n] = sum_k x[m, k] * w[n, k] (+ bias[n]), w stored [N, K]. One warp
/// per output column n (grid-stride over columns) computes gemvDots of the
/// row w[n, :]. kiln-gemv's fused kernels (a GEMV with an epilogue, or
/// several GEMVs of one input) are generated around gemvDots instead
/// (codegen/EmitLinalg.cpp).
template <int64_t M, int64_t N, int64_t K, typename T>
__device__ void gemv(const T *__restrict__ x, const T *__restrict__ w,
                     const T *__restrict__ bias, T *__restrict__ out) {
  if constexpr (M > 1 && sizeof(T) == 2) {
    // 2 to 8 rows (16-bit T): tiles of 8 columns on the tensor cores, S =
    // gemvMmaSplit warps a tile (kiln::chooseLaunchDims sizes the grid).
    constexpr int S = gemvMmaSplit<K, 1>();
    __shared__ float part[8 * kGemvMmaStride<1>];
    GemvX<M, K, T> xr{x};
    const int lane = threadIdx.x & 31, slice = (threadIdx.x >> 5) % S;
    const int64_t step = (((int64_t)gridDim.x * blockDim.x) >> 5) / S;
    for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / S;
         c < (N + 7) / 8; c += step) {
      const int64_t n0 = c * 8, nr = n0 + (lane >> 2) < N ? n0 + (lane >> 2)
                                                          : N - 1;
      const T *rows[1] = {w + nr * K + slice * (K / S)};
      gemvMmaPartials<S, kGemvMmaStride<1>, M, K, 1>(xr, rows, part);
      for (int o = slice * 32 + lane; o < 8 * M; o += 32 * S) {
        const int64_t n = n0 + (o & 7);
        if (n < N) {
          float acc[1][1];
          gemvMmaResult<S, kGemvMmaStride<1>, M, 1>(xr, part, o, acc);
          out[(o >> 3) * N + n] =
              (T)(bias ? acc[0][0] + (float)bias[n] : acc[0][0]);
        }
      }
      gemvMmaDone<S>();
    }
    return;
  }
  int lane = threadIdx.x & 31;
  int64_t warpId = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
  int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  for (int64_t n = warpId; n < N; n += warps) {
    const T *rows[1] = {w + n * K};
    float acc[1][M];
    gemvDots<M, K, 1>(x, rows, acc);
    if (lane == 0)
#pragma unroll
      for (int64_t m = 0; m < M; ++m)
        out[m * N + n] = (T)(bias ? acc[0][m] + (float)bias[n] : acc[0][m]);
  }
}

/// Scaled dot-product attention, one block per query row (b, h, s) of
/// q[B, Hq, S, D]; k[B, Hkv, T, D], v[B, Hkv, T, Dv]; out[B, Hq, S, Dv].
/// `bias(b, h, s, t)` is the additive mask (0 or -inf for boolean masks).
/// Fully masked rows produce zeros.
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t S, int64_t T, int64_t D,
          int64_t Dv, bool Causal, typename E, typename Bias>
__device__ void attention(const E *__restrict__ q, const E *__restrict__ k,
                          const E *__restrict__ v, E *__restrict__ out,
                          float scale, Bias bias) {
  using A = typename Acc<E>::type;
  __shared__ float p[T > 0 ? T : 1];
  for (int64_t row = blockIdx.x; row < B * Hq * S; row += gridDim.x) {
    int64_t s = row % S, h = (row / S) % Hq, b = row / (S * Hq);
    int64_t kvh = h / (Hq / Hkv);
    const E *qr = q + row * D;
    const E *kb = k + (b * Hkv + kvh) * T * D;
    const E *vb = v + (b * Hkv + kvh) * T * Dv;
    float m = -INFINITY;
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) {
      float sc;
      if (Causal && t > s + (T - S)) {
        sc = -INFINITY;
      } else {
        A dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += (A)qr[d] * (A)kb[t * D + d];
        sc = (float)dot * scale + bias(b, h, s, t);
      }
      p[t] = sc;
      m = fmaxf(m, sc);
    }
    m = blockMax(m);
    A sum = 0;
    for (int64_t t = threadIdx.x; t < T; t += blockDim.x) {
      float e = m == -INFINITY ? 0.0f : expf(p[t] - m);
      p[t] = e;
      sum += (A)e;
    }
    sum = blockSum(sum);
    __syncthreads();
    A inv = sum > A(0) ? A(1) / sum : A(0);
    for (int64_t d = threadIdx.x; d < Dv; d += blockDim.x) {
      A acc = 0;
      for (int64_t t = 0; t < T; ++t)
        acc += (A)p[t] * (A)vb[t * Dv + d];
      out[row * Dv + d] = (E)(acc * inv);
    }
    __syncthreads();
  }
}

//===----------------------------------------------------------------------===//
// KV cache (docs/kv-cache.md)
//===----------------------------------------------------------------------===//

/// Element i of a [B, H, S, D] operand x: x[i] (Row 0: dense), or read in
/// place from the columns of a merged product [B, S, Row] (kiln-merge-gemms'
/// head split, the pointer at the operand's first column): element (b, h,
/// s, d) at (b * S + s) * Row + h * D + d.
template <int64_t H, int64_t S, int64_t D, int64_t Row, typename E>
__device__ __forceinline__ E headAt(const E *__restrict__ x, int64_t i) {
  if (Row == 0)
    return x[i];
  int64_t d = i % D, s = (i / D) % S, h = (i / (D * S)) % H,
          b = i / (D * S * H);
  return x[(b * S + s) * Row + h * D + d];
}

/// kiln.kv_append's element i of [B, H, S, D]: `key` (the key's element i)
/// and v's (headAt) at slot pos[b] + s of the key and value blocks kc/vc
/// [B, H, T, D]; nothing where the slot is outside [0, T).
template <int64_t H, int64_t S, int64_t T, int64_t D, int64_t VRow,
          typename E, typename I>
__device__ __forceinline__ void
kvAppendAt(E key, const E *__restrict__ v, const I *__restrict__ pos,
           E *__restrict__ kc, E *__restrict__ vc, int64_t i) {
  int64_t d = i % D, s = (i / D) % S, h = (i / (D * S)) % H,
          b = i / (D * S * H);
  int64_t slot = (int64_t)pos[b] + s;
  if (slot < 0 || slot >= T)
    return;
  int64_t at = ((b * H + h) * T + slot) * D + d;
  kc[at] = key;
  vc[at] = headAt<H, S, D, VRow>(v, i);
}

/// kiln.kv_append: writes k/v[B, H, S, D] at slot pos[b] + s of kc/vc, the
/// layer's key and value blocks [B, H, T, D] (rows 0..B-1 of the persistent
/// cache), in place; slots outside [0, T) are skipped. One thread per new
/// element (of the key and of the value), grid-stride: nothing else of the
/// cache is read, written, zeroed or copied. Positions are int32 or int64.
/// KRow / VRow (0: k / v dense): k / v read in place from the columns of a
/// merged product [B, S, KRow] (kiln-merge-gemms' head split, the pointer
/// at the first column): element (b, h, s, d) at (b * S + s) * KRow + h *
/// D + d.
template <int64_t B, int64_t H, int64_t S, int64_t T, int64_t D,
          int64_t KRow = 0, int64_t VRow = 0, typename E, typename I>
__device__ void kvAppend(const E *__restrict__ k, const E *__restrict__ v,
                         const I *__restrict__ pos, E *__restrict__ kc,
                         E *__restrict__ vc) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
       i < B * H * S * D; i += (int64_t)gridDim.x * blockDim.x)
    kvAppendAt<H, S, T, D, VRow>(headAt<H, S, D, KRow>(k, i), v, pos, kc, vc,
                                 i);
}

/// One block's part of a kv_attention query row, for kvAttention (the
/// kernel of one block per row; kvAttentionSplit has its own grouped-query
/// loop): keys [begin, end) of the row's kv head (kb, vb), warp w
/// taking keys in groups of 8, begin + 8w .. begin + 8w + 7, then 8W further
/// on (W warps); its lanes split the
/// head dims, the dot product is a warp sum, and each warp keeps an online
/// softmax (running max, rescaled sum and weighted values) in A. The warps
/// are then merged in warp order through shared memory, so the result does
/// not depend on timing. On return (every thread of the block calls it)
/// `merged` (Dv values, shared) holds the block's weighted values relative
/// to blockMax, and blockMax / blockSum its max and rescaled sum (-inf and
/// 0 when no key is left). `bias(t)` is the mask of key t. warpMaxes,
/// warpSums (32 each) and merged are the caller's shared arrays.
template <int64_t D, int64_t Dv, typename A, typename E, typename BiasAt>
__device__ void kvAttentionBlock(const E *__restrict__ qr,
                                 const E *__restrict__ kb,
                                 const E *__restrict__ vb, int64_t begin,
                                 int64_t end, float scale, BiasAt bias,
                                 A *warpMaxes, A *warpSums, A *merged,
                                 A &blockMax, A &blockSum) {
  constexpr int64_t QL = (D + 31) / 32, VL = (Dv + 31) / 32;
  const A ninf = -INFINITY;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int warps = blockDim.x >> 5;
  A qv[QL], o[VL];
#pragma unroll
  for (int64_t j = 0; j < QL; ++j)
    qv[j] = lane + 32 * j < D ? (A)qr[lane + 32 * j] : A(0);
#pragma unroll
  for (int64_t j = 0; j < VL; ++j)
    o[j] = A(0);
  A m = ninf, l = A(0);
  // Each warp takes its keys G at a time: the K and V rows of all G keys are
  // loaded before any of them is used (one memory round trip per group,
  // not per key), the G dots are warp sums side by side, and the online
  // softmax is updated once per group. Every lane of a warp holds the same
  // dots (butterfly sums) and biases, so the branches are uniform in the
  // warp.
  constexpr int G = 8;
  for (int64_t t0 = begin + (int64_t)warp * G; t0 < end;
       t0 += (int64_t)warps * G) {
    E kr[G][QL], vr[G][VL];
#pragma unroll
    for (int g = 0; g < G; ++g) {
      int64_t t = t0 + g;
#pragma unroll
      for (int64_t j = 0; j < QL; ++j)
        kr[g][j] = t < end && lane + 32 * j < D ? kb[t * D + lane + 32 * j]
                                               : (E)0.0f;
#pragma unroll
      for (int64_t j = 0; j < VL; ++j)
        vr[g][j] = t < end && lane + 32 * j < Dv
                       ? vb[t * Dv + lane + 32 * j]
                       : (E)0.0f;
    }
    A sc[G];
    A groupMax = ninf;
#pragma unroll
    for (int g = 0; g < G; ++g) {
      A dot = A(0);
#pragma unroll
      for (int64_t j = 0; j < QL; ++j)
        dot += qv[j] * (A)kr[g][j];
      sc[g] = dot;
    }
#pragma unroll
    for (int g = 0; g < G; ++g)
      sc[g] = warpSum(sc[g]);
#pragma unroll
    for (int g = 0; g < G; ++g) {
      int64_t t = t0 + g;
      sc[g] = t < end ? sc[g] * (A)scale + (A)bias(t) : ninf;
      groupMax = sc[g] > groupMax ? sc[g] : groupMax;
    }
    if (groupMax == ninf)
      continue;
    A mNew = groupMax > m ? groupMax : m;
    A rescale = op::exp_(m - mNew); // 0 while m is -inf
    l = l * rescale;
#pragma unroll
    for (int64_t j = 0; j < VL; ++j)
      o[j] = o[j] * rescale;
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (sc[g] == ninf)
        continue;
      A p = op::exp_(sc[g] - mNew);
      l += p;
#pragma unroll
      for (int64_t j = 0; j < VL; ++j)
        o[j] += p * (A)vr[g][j];
    }
    m = mNew;
  }
  if (lane == 0) {
    warpMaxes[warp] = m;
    warpSums[warp] = l;
  }
  __syncthreads();
  blockMax = ninf;
  blockSum = A(0);
  for (int w = 0; w < warps; ++w)
    blockMax = warpMaxes[w] > blockMax ? warpMaxes[w] : blockMax;
  for (int w = 0; w < warps; ++w)
    if (warpMaxes[w] != ninf)
      blockSum += warpSums[w] * op::exp_(warpMaxes[w] - blockMax);
  A mine = m == ninf ? A(0) : op::exp_(m - blockMax);
  for (int w = 0; w < warps; ++w) {
    if (warp == w) {
#pragma unroll
      for (int64_t j = 0; j < VL; ++j)
        if (lane + 32 * j < Dv)
          merged[lane + 32 * j] =
              (w == 0 ? A(0) : merged[lane + 32 * j]) + o[j] * mine;
    }
    __syncthreads();
  }
}

/// kiln.kv_attention over the cache: q[B, Hq, S, D], kc[B, Hkv, T, D],
/// vc[B, Hkv, T, Dv], pos[B] (int32 or int64), out[B, Hq, S, Dv]. One block
/// per query row (b, h, s), looping over the rows past gridDim.x. The row's
/// query sits at slot pos[b] + s and attends keys t <= pos[b] + s (t < T),
/// so the work follows the cache's current length, not T: kvAttentionBlock
/// over keys [0, len) in Acc<E>. Query head h reads kv head
/// h / (Hq / Hkv); `bias(b, h, s, t)` is the mask (additive; 0 or -inf for a
/// boolean mask), indexed by cache slot. A row with no key left gives zeros.
/// blockDim.x must be a multiple of 32 (row kernels use a power of two of
/// [32, 1024]).
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t S, int64_t T, int64_t D,
          int64_t Dv, typename E, typename I, typename Bias>
__device__ void kvAttention(const E *__restrict__ q, const E *__restrict__ kc,
                            const E *__restrict__ vc, const I *__restrict__ pos,
                            E *__restrict__ out, float scale, Bias bias) {
  using A = typename Acc<E>::type;
  __shared__ A warpMaxes[32], warpSums[32];
  __shared__ A merged[Dv > 0 ? Dv : 1];
  for (int64_t row = blockIdx.x; row < B * Hq * S; row += gridDim.x) {
    int64_t s = row % S, h = (row / S) % Hq, b = row / (S * Hq);
    int64_t kvh = h / (Hq / Hkv);
    int64_t last = (int64_t)pos[b] + s;
    int64_t len = last < 0 ? 0 : (last < T ? last + 1 : T);
    A rowMax, rowSum;
    kvAttentionBlock<D, Dv>(
        q + row * D, kc + (b * Hkv + kvh) * T * D,
        vc + (b * Hkv + kvh) * T * Dv, 0, len, scale,
        [&](int64_t t) { return bias(b, h, s, t); }, warpMaxes, warpSums,
        merged, rowMax, rowSum);
    A inv = rowSum > A(0) ? A(1) / rowSum : A(0);
    for (int64_t d = threadIdx.x; d < Dv; d += blockDim.x)
      out[row * Dv + d] = (E)(merged[d] * inv);
    __syncthreads(); // the next row reuses the shared arrays
  }
}

/// kvAttentionSplitWith's `waited` hook that does nothing.
struct KvNothing {
  __device__ void operator()() const {}
};

/// A measurement hook of kvAttentionSplitWith (bench/micro/kv_attention_phases.cu
/// defines it before including this header to time the kernel's phases):
/// KILN_KV_PROBE(i) marks the end of phase i. Nothing by default.
#ifndef KILN_KV_PROBE
#define KILN_KV_PROBE(i)
#endif

/// Keys per block of kvAttentionSplit for head dim D of E, W warps and
/// Steps steps per warp: each step a warp takes 32 / (lanes per key) keys,
/// a lane holding one 16-byte piece of a key's K and V row.
/// kiln::kvAttentionChunk (LaunchConfig) computes the same.
template <int64_t D, typename E, int W, int Steps>
inline constexpr int64_t kvSplitChunk = W * Steps * (32 / (D * sizeof(E) / 16));

/// Chunks whose merge weights kvAttentionSplitWith keeps in shared memory;
/// the weights of later chunks (caches of more than 256 chunks) are
/// recomputed from the partial results.
inline constexpr int64_t kvSplitMergeCap = 256;

/// kiln.kv_attention split over the key length (flash decoding) with the
/// grouped-query heads together, for decode steps: q[B, Hq, S, D],
/// kc/vc[B, Hkv, T, D], pos[B], out[B, Hq, S, D]. The Hq / Hkv query heads
/// of a kv head are served GH at a time: block blockIdx.x = group * Splits
/// + split (with SplitMajor, split * groups + group: every group's first
/// chunks first, so the blocks resident while an Early kernel waits are
/// live ones), group = (b, kv head, head set, s), takes the G = GH query heads
/// of its head set at query s over cache slots [split * Chunk, (split + 1)
/// * Chunk) of the live keys (t <= pos[b] + s, t < T), Chunk =
/// kvSplitChunk<D, E, W, Steps>; blocks past the live keys return at once.
/// With GH below Hq / Hkv a key is read by each head set's block (the
/// repeats mostly from L2): more, shorter blocks for a step with few rows.
/// Its W warps (blockDim.x == 32 * W) load the chunk's K and V rows once,
/// in 16-byte pieces (D * sizeof(E) / 16 lanes per key, a power of two up
/// to 32), before any use; each K row is dotted with all G queries (a sum
/// over the key's lanes), the scores go to shared memory, each head's
/// softmax over the chunk is taken there (max, exp, sum), and the weighted
/// V rows are summed per lane, then over the warp's keys and the W warps in
/// a fixed order. A group with one live chunk writes its output directly;
/// otherwise each block writes (max, sum, weighted values) per head to
/// `part` ([groups][Splits][G][2 + D] floats), and the block that finishes
/// the group's live chunks last (a counter per group in `done`,
/// incremented after a fence) merges them: a warp per head takes the
/// chunks' maxima and sums a chunk per lane (the head's max, each chunk's
/// weight exp(m_k - max) into shared memory, the weighted sum of the
/// chunks' sums), then each thread sums its output element's weighted
/// values over the chunks in split order, its loads issued together. It
/// writes the output and resets the counter, so the next launch (or graph
/// replay) starts clean. With Cluster (the kernel declared with
/// KILN_CLUSTER_DIMS(Splits), Splits <= 16, on sm_90 and later) the group's
/// Splits blocks are one cluster and merge there instead: each keeps its
/// (max, sum, weighted values) per head in shared memory, and after a
/// cluster barrier each live block merges its slice of the group's G x D
/// outputs from all live blocks through distributed shared memory, in
/// split order; the blocks past the live keys only meet the others at the
/// two barriers. No partials, fence or counter. `part` ([B * Hq * S *
/// Splits * (2 + D)] floats) and `done` ([B * Hkv * S * Hq / Hkv / GH]) are the kernel's own
/// __device__ arrays. A row with no live key gives zeros. `bias(b, h, s,
/// t)` is the mask. Same results as kvAttention up to summation order.
///
/// Early (programmatic dependent launch; the emitter sets it where pos is
/// a step input, which no launch writes): the kernel calls pdlEnter()
/// itself, after reading pos and issuing the loads of the cache slots
/// before pos[b] - written by earlier steps only - so they stream in while
/// the launch before it (the q/k/v projection) finishes; slots from pos[b]
/// on (this step's new rows), the query, the mask and every write come
/// after. Without Early the caller has waited already. Every block waits
/// before it returns, so launches stay ordered transitively.
///
/// With Early, `waited()` runs in every block right after its pdlEnter()
/// (kiln-prefetch-weights' at-quiet lists: the kernel asks L2 for later
/// launches' weights once the launch before it has finished; KvNothing by
/// default).
///
/// The query and the append are hooks (kiln-fuse-kv-attention's kernels):
/// `query.load<G>(b, h0, s, piece, f)` gives the 16-byte piece `piece` of
/// query rows (b, h0 .. h0 + G - 1, s) as floats (KvQuery: q as it is;
/// KvRotaryQuery: roped and rounded to E first). With an append
/// (`kWrites`; S == 1), the slot pos[b] is not read from the cache: the
/// lanes that hold it take its pieces from `append.row(b, kvh, piece, k,
/// v)` (the new key, roped, and value) and store them there, so the cache
/// holds the new row for the next step. No other block reads that slot, so
/// no block waits for another. kc and vc are not __restrict__: the lanes
/// write them.
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t S, int64_t T, int64_t D,
          int W, int Steps, int GH, bool Early, bool Cluster = false,
          bool SplitMajor = false, typename E, typename I, typename Bias,
          typename Query, typename Append, typename Waited = KvNothing>
__device__ void kvAttentionSplitWith(Query query, E *kc, E *vc,
                                     const I *__restrict__ pos,
                                     E *__restrict__ out, float scale,
                                     Bias bias, float *__restrict__ part,
                                     unsigned *__restrict__ done,
                                     Append append, Waited waited = {}) {
  using V = Vec16<E>;
  constexpr int Vec = V::N;
  static_assert(D % Vec == 0, "kvAttentionSplit: D must fill 16-byte pieces");
  constexpr int LK = D / Vec; // lanes per key
  static_assert(LK >= 1 && LK <= 32 && (LK & (LK - 1)) == 0,
                "kvAttentionSplit: a key must span a power of two of lanes");
  static_assert(W >= 1 && W <= 32 && Steps >= 1, "kvAttentionSplit: shape");
  constexpr int KW = 32 / LK;         // keys per warp step
  constexpr int Chunk = (int)kvSplitChunk<D, E, W, Steps>;
  static_assert(Chunk == W * Steps * KW, "kvAttentionSplit: chunk");
  constexpr int64_t Splits = (T + Chunk - 1) / Chunk;
  constexpr int GF = (int)(Hq / Hkv); // query heads of a kv head
  static_assert(GH >= 1 && GF % GH == 0,
                "kvAttentionSplit: head sets must divide the group");
  constexpr int G = GH, Sets = GF / GH;
  constexpr int Stride = G * (2 + (int)D); // floats of one chunk's part
  constexpr int Cap =
      (int)(Splits < kvSplitMergeCap ? Splits : kvSplitMergeCap);
  const float ninf = -INFINITY;
  __shared__ float sc[G][Chunk];
  __shared__ float red[W][G][D];
  __shared__ float headMax[G], headSum[G];
  __shared__ float weight[G][Cap];
  __shared__ bool last;
  // Merging in the cluster: asked for, and the target has clusters.
  constexpr bool InCluster = Cluster && kClusterArch;
  static_assert(!Cluster || Splits <= 16,
                "kvAttentionSplit: a cluster holds at most 16 blocks");
  // With InCluster: this block's weighted values, which the cluster's
  // blocks read (clusterPeer) to merge.
  __shared__ float vals[InCluster ? G : 1][InCluster ? D : 1];
  static_assert(!(Cluster && SplitMajor),
                "kvAttentionSplit: a cluster is a group's consecutive blocks");
  constexpr int64_t Groups = B * Hkv * Sets * S;
  int64_t group = SplitMajor ? blockIdx.x % Groups : blockIdx.x / Splits;
  int split = (int)(SplitMajor ? blockIdx.x / Groups : blockIdx.x % Splits);
  if (group >= Groups || split >= Splits) {
    if (Early) {
      pdlEnter();
      waited();
    }
    return;
  }
  int64_t s = group % S, set = (group / S) % Sets,
          kvh = (group / (S * Sets)) % Hkv, b = group / (S * Sets * Hkv);
  int64_t h0 = kvh * GF + set * GH; // this block's first query head
  int64_t firstNew = (int64_t)pos[b], lastKey = firstNew + s;
  int len = lastKey < 0 ? 0 : (lastKey < T ? (int)lastKey + 1 : (int)T);
  int live = (len + Chunk - 1) / Chunk;
  int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  auto outAt = [&](int g, int d) {
    return ((b * Hq + h0 + g) * S + s) * D + d;
  };
  if (live == 0 || split >= live) {
    if (Early) {
      pdlEnter();
      waited();
    }
    if (live == 0 && split == 0) // no key: zeros, from the first block
      for (int i = tid; i < G * D; i += blockDim.x)
        out[outAt(i / D, i % D)] = (E)0.0f;
    // In a cluster with more than one live chunk, the blocks past the live
    // keys meet the others at the cluster's two barriers, and do nothing
    // else: the merge reads and is spread over the live blocks only.
    if (InCluster && live > 1) {
      clusterSync();
      clusterSync();
    }
    return;
  }
  KILN_KV_PROBE(0);
  int begin = split * Chunk;
  static_assert(!Append::kWrites || S == 1,
                "kvAttentionSplit: an append needs one query position");
  int sub = lane / LK, piece = lane % LK;
  // This lane's keys: step j takes key begin + (j * W + warp) * KW + sub.
  // The new slot (t == lastKey, with an append) is not read: the lanes
  // holding it compute its pieces, and the first head set's block writes
  // them to the cache.
  V kr[Steps], vr[Steps];
  E *kb = kc + (b * Hkv + kvh) * T * D, *vb = vc + (b * Hkv + kvh) * T * D;
  // Slots before pos[b] are older steps' rows: with Early, loaded before
  // waiting for the launch before this one.
  auto old = [&](int t) { return Early && t < firstNew && t < len; };
  if constexpr (Early) {
#pragma unroll
    for (int j = 0; j < Steps; ++j) {
      int t = begin + (j * W + warp) * KW + sub;
      if (old(t)) {
        kr[j] = reinterpret_cast<const V *>(kb + (int64_t)t * D)[piece];
        vr[j] = reinterpret_cast<const V *>(vb + (int64_t)t * D)[piece];
      }
    }
    pdlEnter();
    waited();
  }
  KILN_KV_PROBE(1);
#pragma unroll
  for (int j = 0; j < Steps; ++j) {
    int t = begin + (j * W + warp) * KW + sub;
    if (old(t))
      continue;
    if (Append::kWrites && t == lastKey && t < len) {
      append.row(b, kvh, piece, kr[j], vr[j]);
      if (set == 0) {
        reinterpret_cast<V *>(kb + (int64_t)t * D)[piece] = kr[j];
        reinterpret_cast<V *>(vb + (int64_t)t * D)[piece] = vr[j];
      }
    } else if (t < len) {
      kr[j] = reinterpret_cast<const V *>(kb + (int64_t)t * D)[piece];
      vr[j] = reinterpret_cast<const V *>(vb + (int64_t)t * D)[piece];
    } else {
      kr[j] = V{};
      vr[j] = V{};
    }
  }
  float qf[G][Vec];
  query.template load<G>(b, h0, s, piece, qf);
  // Scores: the G dots of each key, summed over the key's LK lanes.
#pragma unroll
  for (int j = 0; j < Steps; ++j) {
    int slot = (j * W + warp) * KW + sub, t = begin + slot;
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float dot = 0.0f;
#pragma unroll
      for (int e = 0; e < Vec; ++e)
        dot += qf[g][e] * (float)kr[j].e[e];
#pragma unroll
      for (int o = LK / 2; o > 0; o >>= 1)
        dot += __shfl_xor_sync(0xffffffffu, dot, o);
      if (piece == 0)
        sc[g][slot] = t < len ? dot * scale + (float)bias(b, h0 + g, s, t)
                              : ninf;
    }
  }
  __syncthreads();
  KILN_KV_PROBE(2);
  // Each head's softmax over the chunk, a warp per head.
  for (int g = warp; g < G; g += W) {
    float m = ninf;
    for (int i = lane; i < Chunk; i += 32)
      m = sc[g][i] > m ? sc[g][i] : m;
    m = warpMax(m);
    float l = 0.0f;
    for (int i = lane; i < Chunk; i += 32) {
      float p = sc[g][i] == ninf ? 0.0f : op::exp_(sc[g][i] - m);
      sc[g][i] = p;
      l += p;
    }
    l = warpSum(l);
    if (lane == 0) {
      headMax[g] = m;
      headSum[g] = l;
    }
  }
  __syncthreads();
  KILN_KV_PROBE(3);
  // Weighted values: this lane's piece of each of its keys' V rows.
  float o[G][Vec];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < Vec; ++e)
      o[g][e] = 0.0f;
#pragma unroll
  for (int j = 0; j < Steps; ++j) {
    int slot = (j * W + warp) * KW + sub;
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float p = sc[g][slot]; // 0 past the live keys
#pragma unroll
      for (int e = 0; e < Vec; ++e)
        o[g][e] += p * (float)vr[j].e[e];
    }
  }
  // Over the warp's keys (lanes of one piece), then over the W warps.
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int e = 0; e < Vec; ++e) {
      float v = o[g][e];
#pragma unroll
      for (int x = LK; x < 32; x <<= 1)
        v += __shfl_xor_sync(0xffffffffu, v, x);
      if (sub == 0)
        red[warp][g][piece * Vec + e] = v;
    }
  __syncthreads();
  KILN_KV_PROBE(4);
  if constexpr (InCluster) {
    if (live > 1) {
      // The cluster is the group's Splits blocks (rank = split). Each block
      // publishes its (max, sum, weighted values) in its shared memory, and
      // after the barrier merges a slice of the G x D outputs from all of
      // them, in rank order: no global partials, fence or counter.
      for (int i = tid; i < G * D; i += blockDim.x) {
        float v = 0.0f;
#pragma unroll
        for (int w = 0; w < W; ++w)
          v += red[w][i / D][i % D];
        vals[i / D][i % D] = v;
      }
      clusterSync();
      KILN_KV_PROBE(5);
      // Block `split` of the `live` ones merges outputs [split * per, ...).
      int per = (G * (int)D + live - 1) / live;
      int hi = (split + 1) * per < G * (int)D ? (split + 1) * per : G * (int)D;
      for (int i = split * per + tid; i < hi; i += blockDim.x) {
        int g = i / D, d = i % D;
        float mk[Splits], sk[Splits], vk[Splits];
#pragma unroll
        for (int k = 0; k < (int)Splits; ++k) {
          mk[k] = k < live ? *clusterPeer(&headMax[g], k) : ninf;
          sk[k] = k < live ? *clusterPeer(&headSum[g], k) : 0.0f;
          vk[k] = k < live ? *clusterPeer(&vals[g][d], k) : 0.0f;
        }
        float m = ninf;
#pragma unroll
        for (int k = 0; k < (int)Splits; ++k)
          m = mk[k] > m ? mk[k] : m;
        float l = 0.0f, acc = 0.0f;
#pragma unroll
        for (int k = 0; k < (int)Splits; ++k) {
          float wk = mk[k] == ninf ? 0.0f : op::exp_(mk[k] - m);
          l += wk * sk[k];
          acc += wk * vk[k];
        }
        out[outAt(g, d)] = (E)(l > 0.0f ? acc / l : 0.0f);
      }
      KILN_KV_PROBE(6);
      clusterSync(); // the peers' shared arrays live until all have read
      KILN_KV_PROBE(7);
      return;
    }
  }
  float *mine = part + (group * Splits + split) * Stride;
  for (int i = tid; i < G * D; i += blockDim.x) {
    int g = i / D, d = i % D;
    float v = 0.0f;
#pragma unroll
    for (int w = 0; w < W; ++w)
      v += red[w][g][d];
    if (live == 1) {
      float l = headSum[g];
      out[outAt(g, d)] = (E)(l > 0.0f ? v / l : 0.0f);
    } else {
      mine[g * (2 + D) + 2 + d] = v;
    }
  }
  if (live == 1)
    return;
  if (tid < G) {
    mine[tid * (2 + D)] = headMax[tid];
    mine[tid * (2 + D) + 1] = headSum[tid];
  }
  // Publish, then count: the last block of the group merges.
  __threadfence();
  __syncthreads();
  if (tid == 0)
    last = atomicAdd(&done[group], 1u) == (unsigned)(live - 1);
  __syncthreads();
  if (!last)
    return;
  __threadfence();
  const float *groupPart = part + group * Splits * Stride;
  // A warp per head: its max over the chunks, each chunk's weight
  // exp(m_k - max) (0 for a chunk with no live key), and the weighted sum
  // of the chunks' sums, a chunk per lane.
  for (int g = warp; g < G; g += W) {
    const float *pg = groupPart + g * (2 + D);
    float m = ninf;
    for (int k = lane; k < live; k += 32) {
      float mk = __ldcg(pg + (int64_t)k * Stride);
      m = mk > m ? mk : m;
    }
    m = warpMax(m);
    float l = 0.0f;
    for (int k = lane; k < live; k += 32) {
      float mk = __ldcg(pg + (int64_t)k * Stride);
      float sk = __ldcg(pg + (int64_t)k * Stride + 1);
      float wk = mk == ninf ? 0.0f : op::exp_(mk - m);
      if (k < Cap)
        weight[g][k] = wk;
      l += sk * wk;
    }
    l = warpSum(l);
    if (lane == 0) {
      headMax[g] = m;
      headSum[g] = l;
    }
  }
  __syncthreads();
  for (int i = tid; i < G * D; i += blockDim.x) {
    int g = i / D, d = i % D;
    const float *pg = groupPart + g * (2 + D);
    float acc = 0.0f;
#pragma unroll 8
    for (int k = 0; k < live; ++k) {
      float wk;
      if (k < Cap) {
        wk = weight[g][k];
      } else {
        float mk = __ldcg(pg + (int64_t)k * Stride);
        wk = mk == ninf ? 0.0f : op::exp_(mk - headMax[g]);
      }
      acc += wk * __ldcg(pg + (int64_t)k * Stride + 2 + d);
    }
    float l = headSum[g];
    out[outAt(g, d)] = (E)(l > 0.0f ? acc / l : 0.0f);
  }
  if (tid == 0)
    done[group] = 0;
}

/// kvAttentionSplitWith's query as it is: q[B, H, S, D]; load<G> gives
/// piece `piece` of query rows (b, h0 .. h0 + G - 1, s) as floats.
template <int64_t H, int64_t S, int64_t D, typename E> struct KvQuery {
  const E *q;
  template <int64_t G>
  __device__ __forceinline__ void load(int64_t b, int64_t h0, int64_t s,
                                       int piece,
                                       float (&f)[G][Vec16<E>::N]) const {
#pragma unroll
    for (int64_t g = 0; g < G; ++g) {
      Vec16<E> v = reinterpret_cast<const Vec16<E> *>(
          q + ((b * H + h0 + g) * S + s) * D)[piece];
#pragma unroll
      for (int e = 0; e < Vec16<E>::N; ++e)
        f[g][e] = (float)v.e[e];
    }
  }
};

/// The cos / sin values (rows of R/2 for one position) of the elements of
/// 16-byte piece `piece` of a roped row, as kiln::rotary indexes them:
/// rotate-half element d uses j = d mod R/2, interleaved j = d / 2 (dims
/// from R on get 1 and 0, unused).
template <int64_t R, bool Interleaved, typename E, typename C>
__device__ __forceinline__ void
ropeTables(const C *cosRow, const C *sinRow, int piece,
           typename Acc<E>::type (&c)[Vec16<E>::N],
           typename Acc<E>::type (&sn)[Vec16<E>::N]) {
  using A = typename Acc<E>::type;
  constexpr int64_t half = R / 2;
#pragma unroll
  for (int e = 0; e < Vec16<E>::N; ++e) {
    int64_t d = (int64_t)piece * Vec16<E>::N + e;
    int64_t j = Interleaved ? d / 2 : (d < half ? d : d - half);
    c[e] = d < R ? (A)cosRow[j] : A(1);
    sn[e] = d < R ? (A)sinRow[j] : A(0);
  }
}

/// Piece `piece` of row x (D elements of E) roped as kiln::rotary ropes it
/// (the same expressions, in Acc<E>, rounded to E once), with the piece's
/// cos / sin from ropeTables; dims from R on are copied. Rotate-half pairs
/// element d with d +- R/2: the same element of piece `piece` +- R/2 / Vec
/// (R/2 fills whole pieces; kiln::analyzeKvAttentionKernel checks it).
/// Interleaved pairs stay in the piece.
template <int64_t R, bool Interleaved, typename E>
__device__ __forceinline__ Vec16<E>
ropePiece(const E *x, int piece,
          const typename Acc<E>::type (&c)[Vec16<E>::N],
          const typename Acc<E>::type (&sn)[Vec16<E>::N]) {
  using A = typename Acc<E>::type;
  constexpr int Vec = Vec16<E>::N;
  constexpr int64_t half = R / 2;
  const Vec16<E> *pieces = reinterpret_cast<const Vec16<E> *>(x);
  Vec16<E> v = pieces[piece], out = v;
  int64_t d0 = (int64_t)piece * Vec;
  if (d0 >= R)
    return v;
  Vec16<E> p = v;
  if (!Interleaved)
    p = pieces[d0 < half ? piece + half / Vec : piece - half / Vec];
#pragma unroll
  for (int e = 0; e < Vec; ++e) {
    int64_t d = d0 + e;
    if (d >= R)
      continue;
    A xi = (A)v.e[e];
    if (Interleaved) {
      A xp = (A)v.e[e ^ 1];
      out.e[e] = (E)((d & 1) ? xi * c[e] + xp * sn[e] : xi * c[e] - xp * sn[e]);
    } else {
      A xp = (A)p.e[e];
      out.e[e] = (E)(d < half ? xi * c[e] - xp * sn[e] : xi * c[e] + xp * sn[e]);
    }
  }
  return out;
}

/// kvAttentionSplitWith's query roped on the fly: rotary of x[B, H, S, D]
/// with cos / sin [CB, S, R/2] (CB = B or 1), the values of kiln.rotary's
/// kernel; the piece's cos / sin are read once for the G heads.
template <int64_t H, int64_t S, int64_t D, int64_t R, int64_t CB,
          bool Interleaved, typename E, typename C>
struct KvRotaryQuery {
  const E *x;
  const C *cosv, *sinv;
  template <int64_t G>
  __device__ __forceinline__ void load(int64_t b, int64_t h0, int64_t s,
                                       int piece,
                                       float (&f)[G][Vec16<E>::N]) const {
    typename Acc<E>::type c[Vec16<E>::N], sn[Vec16<E>::N];
    int64_t t = ((CB == 1 ? 0 : b) * S + s) * (R / 2);
    ropeTables<R, Interleaved, E>(cosv + t, sinv + t, piece, c, sn);
#pragma unroll
    for (int64_t g = 0; g < G; ++g) {
      Vec16<E> v = ropePiece<R, Interleaved>(
          x + ((b * H + h0 + g) * S + s) * D, piece, c, sn);
#pragma unroll
      for (int e = 0; e < Vec16<E>::N; ++e)
        f[g][e] = (float)v.e[e];
    }
  }
};

/// No append: the caches are read as they are.
struct KvNoAppend {
  static constexpr bool kWrites = false;
  template <typename E>
  __device__ void row(int64_t, int64_t, int, Vec16<E> &, Vec16<E> &) const {}
};

/// kiln.kv_append of one new row, k/v[B, H, 1, D] (the key roped with cos /
/// sin [CB, 1, R/2] when Rope): `row` gives piece `piece` of (b, h)'s new
/// key and value, the values kiln::kvAppend (and, for the key,
/// kiln::rotary) writes; the lanes of kvAttentionSplitWith that hold the
/// new slot store them there and use them.
template <int64_t H, int64_t D, bool Rope, int64_t R, int64_t CB,
          bool Interleaved, typename E, typename C>
struct KvAppendRow {
  static constexpr bool kWrites = true;
  const E *k, *v;
  const C *cosv, *sinv;
  __device__ __forceinline__ void row(int64_t b, int64_t h, int piece,
                                      Vec16<E> &kp, Vec16<E> &vp) const {
    const E *krow = k + (b * H + h) * D, *vrow = v + (b * H + h) * D;
    if constexpr (Rope) {
      typename Acc<E>::type c[Vec16<E>::N], sn[Vec16<E>::N];
      int64_t t = (CB == 1 ? 0 : b) * (R / 2);
      ropeTables<R, Interleaved, E>(cosv + t, sinv + t, piece, c, sn);
      kp = ropePiece<R, Interleaved>(krow, piece, c, sn);
    } else {
      kp = reinterpret_cast<const Vec16<E> *>(krow)[piece];
    }
    vp = reinterpret_cast<const Vec16<E> *>(vrow)[piece];
  }
};

/// kiln.kv_attention alone: kvAttentionSplitWith with the query as it is
/// and no append.
template <int64_t B, int64_t Hq, int64_t Hkv, int64_t S, int64_t T, int64_t D,
          int W, int Steps, int GH, bool Early, bool Cluster = false,
          bool SplitMajor = false, typename E, typename I, typename Bias>
__device__ void kvAttentionSplit(const E *q, const E *kc, const E *vc,
                                 const I *pos, E *out, float scale, Bias bias,
                                 float *part, unsigned *done) {
  kvAttentionSplitWith<B, Hq, Hkv, S, T, D, W, Steps, GH, Early, Cluster,
                       SplitMajor>(
      KvQuery<Hq, S, D, E>{q}, const_cast<E *>(kc), const_cast<E *>(vc), pos,
      out, scale, bias, part, done, KvNoAppend{});
}

/// Element i of kiln.rotary (below) of x[B, H, S, D], as rotary computes
/// it: in Acc<T>, rounded once.
template <int64_t H, int64_t S, int64_t D, int64_t R, int64_t CB,
          bool Interleaved, bool Full, int64_t XRow, typename T, typename C>
__device__ __forceinline__ T rotaryAt(const T *__restrict__ x,
                                      const C *__restrict__ cosv,
                                      const C *__restrict__ sinv, int64_t i) {
  using A = typename Acc<T>::type;
  int64_t d = i % D, s = (i / D) % S, b = i / (D * S * H);
  // This element's row of x: xr[d] is element i.
  const T *xr =
      XRow ? x + (b * S + s) * XRow + ((i / (D * S)) % H) * D : x + (i - d);
  if (d >= R)
    return xr[d];
  int64_t cb = CB == 1 ? 0 : b;
  int64_t half = R / 2;
  int64_t width = Full ? R : half;
  int64_t j = Full ? d : Interleaved ? d / 2 : (d < half ? d : d - half);
  A c = (A)cosv[(cb * S + s) * width + j],
    sn = (A)sinv[(cb * S + s) * width + j];
  A xi = (A)xr[d];
  if (Interleaved)
    return (T)((d & 1) ? xi * c + (A)xr[d - 1] * sn
                       : xi * c - (A)xr[d + 1] * sn);
  return (T)(d < half ? xi * c - (A)xr[d + half] * sn
                      : xi * c + (A)xr[d - half] * sn);
}

/// Rotary embedding of x[B, H, S, D] with cos/sin[CB, S, R/2] (CB = B or 1;
/// with Full, cos/sin[CB, S, R]: an entry per element, kiln.rotary's
/// full_tables), computed in Acc<T> (f32 for 16-bit data) and rounded once;
/// the tables may be f32 beside 16-bit data (C). XRow (0: x dense): x read
/// in place from the columns of a merged product [B, S, XRow]
/// (kiln-merge-gemms' head split, the pointer at the first column): row
/// (b, h, s) of x at (b * S + s) * XRow + h * D.
template <int64_t B, int64_t H, int64_t S, int64_t D, int64_t R, int64_t CB,
          bool Interleaved, typename T, typename C, bool Full = false,
          int64_t XRow = 0>
__device__ void rotary(const T *__restrict__ x, const C *__restrict__ cosv,
                       const C *__restrict__ sinv, T *__restrict__ out) {
  forEach<B * H * S * D>(out, [&](int64_t i) {
    return rotaryAt<H, S, D, R, CB, Interleaved, Full, XRow>(x, cosv, sinv,
                                                             i);
  });
}

//===----------------------------------------------------------------------===//
// Quantised weights (kiln.matmul_nbits)
//===----------------------------------------------------------------------===//

/// kiln.matmul_nbits, one thread per output element: out[m, n] = sum_k
/// x[m, k] * (q[n, k] - zero(n, k / BS)) * scale[n * Blocks + k / BS]
/// (+ bias[n]), the Bits-bit q (4 or 8) read from the packed weight
/// [N, Blocks, BS * Bits / 8] (low bits first) and dequantised on the fly,
/// accumulated in Acc<T>::type. `zero(n, j)` is the caller's: 2^(Bits-1), a
/// packed value or a float zero point.
template <int64_t M, int64_t N, int64_t K, int64_t BS, int Bits, typename T,
          typename Zero, typename Bias>
__device__ void matmulNBits(const T *__restrict__ x,
                            const uint8_t *__restrict__ w,
                            const T *__restrict__ scales, T *__restrict__ out,
                            Zero zero, Bias bias) {
  static_assert(Bits == 4 || Bits == 8, "4- or 8-bit weights");
  using A = typename Acc<T>::type;
  constexpr int64_t Blocks = K / BS, Blob = BS * Bits / 8;
  forEach<M * N>(out, [&](int64_t i) {
    int64_t m = i / N, n = i % N;
    const T *row = x + m * K;
    const uint8_t *wn = w + n * Blocks * Blob;
    A acc = 0;
    for (int64_t j = 0; j < Blocks; ++j) {
      A scale = scales[n * Blocks + j], zp = zero(n, j);
      for (int64_t p = 0; p < BS; ++p) {
        int q;
        if (Bits == 8) {
          q = wn[j * Blob + p];
        } else {
          uint8_t byte = wn[j * Blob + p / 2];
          q = (p & 1) ? (byte >> 4) : (byte & 15);
        }
        acc += (A)row[j * BS + p] * (((A)q - zp) * scale);
      }
    }
    return (T)(acc + (A)bias(n));
  });
}

/// The dot products of one warp with L packed Bits-bit weight rows (4 or 8;
/// kiln.matmul_nbits' layout: a row is K / BS blocks of BS * Bits / 8
/// bytes, low bits first) for M rows of x (a GemvX, or a GemvRmsX that
/// folds an RMSNorm in): acc[l][m] = sum_k x[m, k] * (q_l[k] - zero(l, k /
/// BS)) * scales[l][k / BS], then x.finish() - every lane gets every result.
/// `scales[l]` points at row l's K / BS scales, `zero(l, j)` returns row
/// l's zero point of block j as a float. The lanes load the 16-byte pieces
/// (32 4-bit or 16 8-bit weights each) of all L rows, a tile of each,
/// before using any (the read-only path: each weight byte is read once per
/// step). Each scale group (the piece when a block holds whole pieces,
/// else a 32-bit word) is summed as sum x * (q - zero) and then multiplied
/// by its scale, in f32: the same products as (q - zero) * scale per
/// weight, grouped. q - zero costs no int-to-float conversion: q's bits
/// or'ed into the mantissa of 2^23 make the float 2^23 + q, from which 2^23
/// + zero is subtracted (exact for an integer zero point, IntZero) or 2^23
/// and then the zero point. Each x element is loaded once per warp (x.load,
/// through the cache), for all L rows, and each weight dequantised again
/// for each row of x: at 8 rows that was faster than dequantising once and
/// reading x again per weight row (bench/RESULTS.md, session 14: a
/// Llama-1B int4 step at batch 8, 2.67 against 2.96 ms). The packed row is
/// K * Bits / 8 bytes, a multiple of 16 (kiln::isNBitsGemv decides).
template <int64_t M, int64_t K, int64_t BS, int Bits, int L,
          bool IntZero = true, typename XRows, typename S, typename Zero>
__device__ __forceinline__ void nbitsDots(XRows &x,
                                          const uint8_t *const (&rows)[L],
                                          const S *const (&scales)[L],
                                          Zero zero, float (&acc)[L][M]) {
  static_assert(Bits == 4 || Bits == 8, "4- or 8-bit weights");
  constexpr int64_t RowBytes = K * Bits / 8;
  static_assert(K % BS == 0 && RowBytes % 16 == 0,
                "nbitsDots: whole blocks in 16-byte pieces");
  constexpr int PerPiece = 128 / Bits, PerWord = 32 / Bits;
  static_assert(BS % PerWord == 0, "a 32-bit word lies in one block");
  // Weights that share a scale within a piece.
  constexpr int Group = BS % PerPiece == 0 ? PerPiece : PerWord;
  constexpr int64_t Pieces = RowBytes / 16;
  // Pieces each lane loads per row and tile: all of a short row's.
  constexpr int Tile = Pieces >= 32 * 4 ? 4 : int((Pieces + 31) / 32);
  constexpr int XVec = XRows::Vec; // x elements per 16-byte load
  static_assert(PerPiece % XVec == 0 && Group % XVec == 0,
                "whole x vectors per scale group");
  constexpr unsigned Mask = (1u << Bits) - 1;
  constexpr float Magic = 8388608.0f; // 2^23
  const int lane = threadIdx.x & 31;
  x.begin();
#pragma unroll
  for (int l = 0; l < L; ++l)
#pragma unroll
    for (int64_t m = 0; m < M; ++m)
      acc[l][m] = 0.0f;
  for (int64_t base = 0; base < Pieces; base += 32 * Tile) {
    int4 wv[L][Tile];
#pragma unroll
    for (int l = 0; l < L; ++l)
#pragma unroll
      for (int j = 0; j < Tile; ++j) {
        int64_t c = base + lane + 32 * j;
        wv[l][j] = c < Pieces
                       ? __ldg(reinterpret_cast<const int4 *>(rows[l]) + c)
                       : make_int4(0, 0, 0, 0);
      }
#pragma unroll
    for (int j = 0; j < Tile; ++j) {
      int64_t c = base + lane + 32 * j;
      if (c >= Pieces)
        break;
      int64_t k0 = c * PerPiece;
#pragma unroll
      for (int g = 0; g < PerPiece / Group; ++g) {
        int64_t blk = (k0 + g * Group) / BS;
        float scale[L], zb[L], zp[L];
#pragma unroll
        for (int l = 0; l < L; ++l) {
          scale[l] = (float)scales[l][blk];
          zp[l] = (float)zero(l, blk);
          zb[l] = Magic + zp[l];
        }
#pragma unroll
        for (int64_t m = 0; m < M; ++m) {
          float xf[Group];
#pragma unroll
          for (int v = 0; v < Group / XVec; ++v) {
            float f[XVec];
            x.load(m, (k0 + g * Group) / XVec + v, f);
#pragma unroll
            for (int e = 0; e < XVec; ++e)
              xf[v * XVec + e] = f[e];
          }
#pragma unroll
          for (int l = 0; l < L; ++l) {
            const unsigned words[4] = {unsigned(wv[l][j].x),
                                       unsigned(wv[l][j].y),
                                       unsigned(wv[l][j].z),
                                       unsigned(wv[l][j].w)};
            float part = 0.0f;
#pragma unroll
            for (int e = 0; e < Group; ++e) {
              int i = g * Group + e;
              unsigned q =
                  (words[i / PerWord] >> (Bits * (i % PerWord))) & Mask;
              float f = __uint_as_float(0x4B000000u | q);
              float dq = IntZero ? f - zb[l] : (f - Magic) - zp[l];
              part = fmaf(xf[e], dq, part);
            }
            acc[l][m] = fmaf(part, scale[l], acc[l][m]);
          }
        }
      }
    }
  }
#pragma unroll
  for (int64_t m = 0; m < M; ++m) {
    float f = x.finish(m, x.partial(m));
#pragma unroll
    for (int l = 0; l < L; ++l)
      acc[l][m] = warpSum(acc[l][m]) * f;
  }
}

/// kiln.matmul_nbits for decode (M rows of x, at most kNBitsGemvMaxRows):
/// the same sum as matmulNBits, weight-streaming (nbitsDots). Each warp
/// computes Cols adjacent output columns (kiln::nbitsGemvColumns: a packed
/// row is a quarter of a bf16 one, so one column alone keeps too few bytes
/// in flight), its lanes loading a tile of all Cols packed rows before
/// using any; lane 0 writes out[m, n] = sum + bias(n), rounded to T. Warps
/// loop over column groups for any grid (bench/micro/nbits_gemv.cu times
/// it on Llama-1B's int4 projections). kiln-gemv's GEMV kernels call
/// nbitsDots themselves, with their prologues and epilogues.
template <int64_t M, int64_t N, int64_t K, int64_t BS, int Bits,
          int Cols = 1, bool IntZero = true, typename T, typename Zero,
          typename Bias>
__device__ void matmulNBitsGemv(const T *__restrict__ x,
                                const uint8_t *__restrict__ w,
                                const T *__restrict__ scales,
                                T *__restrict__ out, Zero zero, Bias bias) {
  constexpr int64_t Blocks = K / BS, RowBytes = K * Bits / 8;
  const int lane = threadIdx.x & 31;
  const int64_t warp = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  GemvX<M, K, T> xr{x};
  for (int64_t n0 = warp * Cols; n0 < N; n0 += warps * Cols) {
    // Columns past N read row n0 (always valid); their sums are not stored.
    const uint8_t *rows[Cols];
    const T *scl[Cols];
#pragma unroll
    for (int col = 0; col < Cols; ++col) {
      int64_t n = n0 + col < N ? n0 + col : n0;
      rows[col] = w + n * RowBytes;
      scl[col] = scales + n * Blocks;
    }
    float acc[Cols][M];
    nbitsDots<M, K, BS, Bits, Cols, IntZero>(
        xr, rows, scl,
        [&](int col, int64_t j) {
          return (float)zero(n0 + col < N ? n0 + col : n0, j);
        },
        acc);
    if (lane == 0)
#pragma unroll
      for (int col = 0; col < Cols; ++col)
#pragma unroll
        for (int64_t m = 0; m < M; ++m)
          if (n0 + col < N)
            out[m * N + n0 + col] = (T)(acc[col][m] + (float)bias(n0 + col));
  }
}

} // namespace kiln

#endif // KILN_KERNELS_CUH

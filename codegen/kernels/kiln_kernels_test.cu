//===- kiln_kernels_test.cu - instantiate every kiln device template ------===//
//
// Compiled on its own by nvcc in CI (test/Codegen/kernels-nvcc.test) so a
// broken template in kiln_kernels.cuh is caught without generating a model.
// Each kernel mirrors what the emitter generates for one op kind, for every
// element type the emitter instantiates it with. With -DKILN_TEST_UNKNOWN_ACC
// it also reduces an element type kiln has no accumulator for, which must
// not compile.
//
//===----------------------------------------------------------------------===//

#include "kiln_kernels.cuh"

#include <type_traits>

// The accumulator of every element type: fp32 for f32/f16/bf16, f64 only for
// f64, int64 for integers.
template <typename T, typename A>
inline constexpr bool kAccIs =
    std::is_same<typename kiln::Acc<T>::type, A>::value;
static_assert(kAccIs<float, float>, "f32 accumulates in f32");
static_assert(kAccIs<__half, float>, "f16 accumulates in f32");
static_assert(kAccIs<__nv_bfloat16, float>, "bf16 accumulates in f32");
static_assert(kAccIs<double, double>, "f64 accumulates in f64");
static_assert(kAccIs<int64_t, int64_t>, "i64 accumulates in i64");
static_assert(kAccIs<int32_t, int64_t>, "i32 accumulates in i64");
static_assert(kAccIs<int8_t, int64_t>, "i8 accumulates in i64");
static_assert(kAccIs<uint8_t, int64_t>, "ui8 accumulates in i64");

extern "C" __global__ void t_binary_f32(const float *a, const float *b,
                                        float *out) {
  kiln::forEach<24>(out, [&](int64_t i) {
    return kiln::op::add(a[i], b[i % 4]) * kiln::op::pow_(a[i], 2.0f);
  });
}

extern "C" __global__ void t_unary_all(const float *a, const double *d,
                                       const int64_t *l, const int32_t *w,
                                       float *o, double *od, int64_t *ol,
                                       int32_t *ow, bool *ob) {
  kiln::forEach<8>(o, [&](int64_t i) {
    float x = a[i];
    return kiln::op::gelu_erf(x) + kiln::op::gelu_tanh(x) +
           kiln::op::silu(x) + kiln::op::softplus(x) + kiln::op::rsqrt_(x) +
           kiln::op::reciprocal(x) + kiln::op::abs_(x) + kiln::op::sin_(x) +
           kiln::op::cos_(x) + kiln::op::log_(x) + kiln::op::erf_(x) +
           kiln::op::max_(x, 1.0f) + kiln::op::min_(x, 1.0f);
  });
  kiln::forEach<8>(od, [&](int64_t i) {
    return kiln::op::sigmoid(d[i]) + kiln::op::tanh_(d[i]);
  });
  kiln::forEach<8>(ol, [&](int64_t i) {
    return kiln::op::div(l[i], l[7 - i]) + kiln::op::pow_(l[i], int64_t(3)) +
           kiln::op::neg(l[i]);
  });
  kiln::forEach<8>(ow, [&](int64_t i) {
    return kiln::op::cast<int32_t>(a[i]) + kiln::op::div(w[i], 3);
  });
  kiln::forEach<8>(ob, [&](int64_t i) {
    return kiln::op::cast<bool>(a[i]) && !kiln::op::cast<bool>(l[i]);
  });
}

extern "C" __global__ void t_data_movement(const float *x, const int64_t *ids,
                                           const int32_t *ids32, float *out,
                                           float *out2, float *out3) {
  kiln::mapCopy<64>(x, out, [](int64_t i) { return (i % 8) * 8 + i / 8; });
  kiln::gather<1, 16, 4, 4>(x, ids, out2);
  kiln::gather<2, 8, 2, 1>(x, ids32, out2);
  kiln::trilu<64, 8, 8, true, 1>(x, out3);
  kiln::scatterND<2, 1, 8>(ids, x, out3, [](const int64_t *t) {
    int64_t j = t[0] < 0 ? t[0] + 8 : t[0];
    return j * 8;
  });
}

/// Sum, mean and max of one element type, as kiln.reduce_* emits them.
template <typename T> __device__ void reduceAll(const T *x, T *out) {
  auto map = [](int64_t o, int64_t r) { return o * 16 + r; };
  kiln::reduce<kiln::Reduce::Sum, 4, 16>(x, out, map);
  kiln::reduce<kiln::Reduce::Mean, 4, 16>(x, out, map);
  kiln::reduce<kiln::Reduce::Max, 4, 16>(x, out, map);
}

extern "C" __global__ void t_reduce_norm(const float *x, const float *g,
                                         const double *xd, const int64_t *l,
                                         const int32_t *w, const int8_t *c,
                                         const uint8_t *u, float *out,
                                         double *outd, int64_t *outl,
                                         int32_t *outw, int8_t *outc,
                                         uint8_t *outu) {
  reduceAll(x, out);
  reduceAll(xd, outd);
  reduceAll(l, outl);
  reduceAll(w, outw);
  reduceAll(c, outc);
  reduceAll(u, outu);
  kiln::softmax<8, 16, 4>(x, out);
  kiln::softmax<8, 16, 4>(xd, outd);
  auto same = [](int64_t j) { return j; };
  kiln::norm<false, 4, 16>(x, g, g, out, 1e-5f, same, same);
  kiln::norm<true, 4, 16>(x, g, (const float *)nullptr, out, 1e-6f, same,
                          same);
  kiln::norm<false, 4, 16>(xd, xd, xd, outd, 1e-5f, same, same);
}

#ifdef KILN_TEST_UNKNOWN_ACC
// int16_t is no kiln element type: Acc<int16_t> must be a compile error.
extern "C" __global__ void t_unknown_acc(const int16_t *x, int16_t *out) {
  kiln::reduce<kiln::Reduce::Sum, 4, 16>(
      x, out, [](int64_t o, int64_t r) { return o * 16 + r; });
}
#endif

extern "C" __global__ void t_linalg(const float *q, const float *k,
                                    const float *v, const bool *mask,
                                    const double *a, double *o, float *out) {
  auto aAt = [](int64_t b, int64_t m, int64_t kk) {
    return (b * 4 + m) * 16 + kk;
  };
  auto bAt = [](int64_t b, int64_t kk, int64_t n) { return kk * 8 + n; };
  kiln::matmul<2, 4, 8, 16>(a, a, (const double *)nullptr, o, aAt, bAt);
  kiln::matmul<2, 4, 8, 16>(q, k, v, out, aAt, bAt);
  kiln::attention<1, 4, 2, 8, 8, 16, 16, true>(
      q, k, v, out, 0.25f,
      [&](int64_t b, int64_t h, int64_t s, int64_t t) {
        return mask[s * 8 + t] ? 0.0f : -INFINITY;
      });
  kiln::attention<1, 4, 2, 8, 8, 16, 16, false>(
      a, a, a, o, 0.25f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  kiln::rotary<1, 4, 8, 16, 16, 1, false>(q, k, v, out);
  kiln::rotary<1, 4, 8, 16, 8, 1, true>(q, k, v, out);
}

/// kiln.matmul_nbits as the emitter instantiates it: no zero points, packed
/// uint8 zero points, float zero points with a bias, 8-bit weights.
extern "C" __global__ void t_matmul_nbits(const float *x, const uint8_t *w,
                                          const float *s, const uint8_t *zp,
                                          const float *zf, float *out) {
  kiln::matmulNBits<2, 8, 64, 32, 4>(
      x, w, s, out, [](int64_t, int64_t) { return 8.0f; },
      [](int64_t) { return 0.0f; });
  kiln::matmulNBits<2, 8, 64, 16, 4>(
      x, w, s, out,
      [&](int64_t n, int64_t j) {
        return (float)((zp[n * 2 + j / 2] >> ((j & 1) * 4)) & 15);
      },
      [](int64_t) { return 0.0f; });
  kiln::matmulNBits<2, 8, 64, 32, 4>(
      x, w, s, out, [&](int64_t n, int64_t j) { return zf[n * 2 + j]; },
      [&](int64_t n) { return s[n]; });
  kiln::matmulNBits<2, 8, 64, 32, 8>(
      x, w, s, out, [&](int64_t n, int64_t j) { return (float)zp[n * 2 + j]; },
      [](int64_t) { return 0.0f; });
}

/// The KV cache kernels as the emitter instantiates them: append with int64
/// and int32 positions (f32, f64), attention with a boolean mask, an
/// additive mask, none, GQA, a prefill (S > 1) and a head dim that is not a
/// multiple of 32.
extern "C" __global__ void t_kv_cache(const float *k, const float *v,
                                      const int64_t *pos, const int32_t *pos32,
                                      const bool *mask, const float *amask,
                                      const double *kd, float *kc, float *vc,
                                      double *kcd, double *vcd, float *out,
                                      double *outd) {
  kiln::kvAppend<2, 2, 1, 64, 16>(k, v, pos, kc, vc);
  kiln::kvAppend<2, 2, 3, 64, 16>(k, v, pos32, kc, vc);
  kiln::kvAppend<2, 2, 1, 64, 16>(kd, kd, pos, kcd, vcd);
  kiln::kvAttention<2, 4, 2, 1, 64, 16, 16>(
      k, kc, vc, pos, out, 0.25f,
      [&](int64_t c0, int64_t c1, int64_t c2, int64_t c3) -> float {
        return mask[c0 * 64 + c3] ? 0.0f : -INFINITY;
      });
  kiln::kvAttention<2, 4, 2, 3, 64, 16, 16>(
      k, kc, vc, pos32, out, 0.25f,
      [&](int64_t c0, int64_t, int64_t c2, int64_t c3) -> float {
        return amask[(c0 * 3 + c2) * 64 + c3];
      });
  kiln::kvAttention<1, 8, 1, 1, 128, 80, 80>(
      k, kc, vc, pos, out, 0.125f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  kiln::kvAttention<2, 4, 2, 1, 64, 16, 16>(
      kd, kcd, vcd, pos, outd, 0.25f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
}

#ifdef KILN_TEST_GPU_KV
// A device-side check of the KV cache kernels, built into a program with
// -DKILN_TEST_GPU_KV and run on a GPU (test/Reference/kv-gpu.test): a
// randomly prefilled cache, kvAppend then kvAttention for blocks 32..1024,
// grids 1, 7 and 65535, S = 1 and 5, i32/i64 positions, no / boolean /
// additive masks, D = 80, GQA 8/2, positions past T and negative ones,
// against a host model of docs/kv-cache.md in double: the cache must match
// exactly (only the new slots change) and every output within
// 1e-5 + 1e-4 |expected|.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define KV_CHECK(x)                                                            \
  do {                                                                         \
    cudaError_t e = (x);                                                       \
    if (e != cudaSuccess) {                                                    \
      printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__,      \
             __LINE__);                                                        \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

namespace kvcheck {

constexpr int64_t B = 3, HQ = 8, HKV = 2, T = 96, D = 80, MAXB = 4;

template <int64_t S, typename I>
__global__ void appendK(const float *k, const float *v, const I *pos, float *kc,
                        float *vc) {
  kiln::kvAppend<B, HKV, S, T, D>(k, v, pos, kc, vc);
}

template <int64_t S, typename I, int MaskKind>
__global__ void attendK(const float *q, const float *kc, const float *vc,
                        const I *pos, const bool *bmask, const float *amask,
                        float *out) {
  if (MaskKind == 0)
    kiln::kvAttention<B, HQ, HKV, S, T, D, D>(
        q, kc, vc, pos, out, 0.125f,
        [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  else if (MaskKind == 1)
    kiln::kvAttention<B, HQ, HKV, S, T, D, D>(
        q, kc, vc, pos, out, 0.125f,
        [&](int64_t b, int64_t, int64_t, int64_t t) -> float {
          return bmask[b * T + t] ? 0.0f : -INFINITY;
        });
  else
    kiln::kvAttention<B, HQ, HKV, S, T, D, D>(
        q, kc, vc, pos, out, 0.125f,
        [&](int64_t b, int64_t h, int64_t s, int64_t t) -> float {
          return amask[((b * HQ + h) * S + s) * T + t];
        });
}

template <typename X> X *dev(const std::vector<X> &h) {
  X *d;
  KV_CHECK(cudaMalloc(&d, h.size() * sizeof(X) + 1));
  KV_CHECK(
      cudaMemcpy(d, h.data(), h.size() * sizeof(X), cudaMemcpyHostToDevice));
  return d;
}
template <typename X> std::vector<X> host(const X *d, size_t n) {
  std::vector<X> h(n);
  KV_CHECK(cudaMemcpy(h.data(), d, n * sizeof(X), cudaMemcpyDeviceToHost));
  return h;
}

std::mt19937 rng(1);
std::vector<float> randn(size_t n) {
  std::normal_distribution<float> nd;
  std::vector<float> v(n);
  for (auto &x : v)
    x = nd(rng);
  return v;
}

int failures = 0;

/// One configuration: S new tokens per row at positions `posv`, mask kind
/// 0 (none), 1 (boolean [B, T]) or 2 (additive [B, Hq, S, T]), the attention
/// launched with `grid` x `block`.
template <int64_t S, typename I, int MaskKind>
void check(std::vector<I> posv, int block, int grid) {
  // The cache: MAXB rows, blocks of a layer; only rows 0..B-1 are passed.
  size_t blockElts = MAXB * HKV * T * D;
  std::vector<float> kc = randn(blockElts), vc = randn(blockElts);
  std::vector<float> k = randn(B * HKV * S * D), v = randn(B * HKV * S * D);
  std::vector<float> q = randn(B * HQ * S * D);
  std::vector<char> bm(B * T);
  for (auto &x : bm)
    x = rng() % 5 != 0;
  bm[0] = 0; // row 0 at pos 0: its only key masked -> zeros (for S = 1)
  std::vector<float> am = randn(B * HQ * S * T);
  for (size_t i = 0; i < am.size(); ++i)
    if (rng() % 7 == 0)
      am[i] = -INFINITY;
  // Host model.
  std::vector<float> kcW = kc, vcW = vc;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      int64_t slot = (int64_t)posv[b] + s;
      if (slot < 0 || slot >= T)
        continue;
      for (int64_t h = 0; h < HKV; ++h)
        for (int64_t d = 0; d < D; ++d) {
          kcW[((b * HKV + h) * T + slot) * D + d] =
              k[((b * HKV + h) * S + s) * D + d];
          vcW[((b * HKV + h) * T + slot) * D + d] =
              v[((b * HKV + h) * S + s) * D + d];
        }
    }
  std::vector<float> want(B * HQ * S * D, 0.0f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < HQ; ++h)
      for (int64_t s = 0; s < S; ++s) {
        int64_t hk = h / (HQ / HKV);
        std::vector<double> sc(T, -INFINITY);
        double mx = -INFINITY;
        for (int64_t t = 0; t < T && t <= (int64_t)posv[b] + s; ++t) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += (double)q[((b * HQ + h) * S + s) * D + d] *
                   kcW[((b * HKV + hk) * T + t) * D + d];
          dot *= 0.125;
          if (MaskKind == 1 && !bm[b * T + t])
            dot = -INFINITY;
          if (MaskKind == 2)
            dot += am[((b * HQ + h) * S + s) * T + t];
          sc[t] = dot;
          mx = std::max(mx, dot);
        }
        if (mx == -INFINITY)
          continue;
        double sum = 0;
        for (auto &x : sc) {
          x = x == -INFINITY ? 0 : std::exp(x - mx);
          sum += x;
        }
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t t = 0; t < T; ++t)
            acc += sc[t] * vcW[((b * HKV + hk) * T + t) * D + d];
          want[((b * HQ + h) * S + s) * D + d] = acc / sum;
        }
      }
  float *dk = dev(k), *dv = dev(v), *dq = dev(q), *dkc = dev(kc),
        *dvc = dev(vc);
  I *dpos = dev(posv);
  bool *dbm;
  KV_CHECK(cudaMalloc(&dbm, bm.size()));
  KV_CHECK(cudaMemcpy(dbm, bm.data(), bm.size(), cudaMemcpyHostToDevice));
  float *dam = dev(am);
  float *dout;
  KV_CHECK(cudaMalloc(&dout, want.size() * sizeof(float)));
  KV_CHECK(cudaMemset(dout, 0xff, want.size() * sizeof(float)));
  appendK<S, I><<<grid, 256>>>(dk, dv, dpos, dkc, dvc);
  KV_CHECK(cudaGetLastError());
  attendK<S, I, MaskKind><<<grid, block>>>(dq, dkc, dvc, dpos, dbm, dam, dout);
  KV_CHECK(cudaGetLastError());
  KV_CHECK(cudaDeviceSynchronize());
  auto gotKc = host(dkc, blockElts), gotVc = host(dvc, blockElts);
  auto got = host(dout, want.size());
  size_t cacheBad = 0;
  for (size_t i = 0; i < blockElts; ++i)
    cacheBad += gotKc[i] != kcW[i] || gotVc[i] != vcW[i];
  // worst: the largest error as a fraction of the allowed 1e-5 + 1e-4 |want|.
  double maxErr = 0, worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double e = std::fabs((double)got[i] - want[i]);
    maxErr = std::max(maxErr, e);
    worst = std::max(worst, e / (1e-5 + 1e-4 * std::fabs(want[i])));
  }
  if (!(worst <= 1) || cacheBad)
    ++failures;
  printf("S=%ld I=%zu mask=%d block=%d grid=%d: cache mismatches %zu, max abs "
         "err %.3g (%.2f of tolerance) %s\n",
         (long)S, sizeof(I), MaskKind, block, grid, cacheBad, maxErr, worst,
         (!(worst <= 1) || cacheBad) ? "FAIL" : "ok");
  for (void *p : {(void *)dk, (void *)dv, (void *)dq, (void *)dkc, (void *)dvc,
                  (void *)dpos, (void *)dbm, (void *)dam, (void *)dout})
    KV_CHECK(cudaFree(p));
}

} // namespace kvcheck

int main() {
  using namespace kvcheck;
  for (int block : {32, 64, 128, 256, 1024})
    for (int grid : {1, 7, 65535}) {
      check<1, int64_t, 0>({0, 17, 95}, block, grid);
      check<1, int64_t, 1>({0, 40, 200}, block, grid);
      check<1, int32_t, 2>({3, 94, 95}, block, grid);
      check<5, int32_t, 0>({0, 60, 93}, block, grid);
      check<5, int64_t, 2>({-2, 10, 91}, block, grid);
      check<5, int64_t, 1>({0, 10, 91}, block, grid);
    }
  printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
  return failures != 0;
}
#endif // KILN_TEST_GPU_KV

/// bf16 storage (kiln-lower-precision): structured kernels on bf16 with f32
/// accumulation, rotary with f32 tables, attention with an f32 mask, the KV
/// kernels and the reductions (max needs lowest<bf16>).
extern "C" __global__ void t_bf16(const __nv_bfloat16 *x,
                                  const __nv_bfloat16 *g, const float *tab,
                                  const float *mask, const int64_t *pos,
                                  __nv_bfloat16 *kc, __nv_bfloat16 *vc,
                                  __nv_bfloat16 *out) {
  auto same = [](int64_t j) { return j; };
  kiln::norm<true, 4, 16>(x, g, (const __nv_bfloat16 *)nullptr, out, 1e-6f,
                          same, same);
  kiln::softmax<4, 16, 1>(x, out);
  kiln::reduce<kiln::Reduce::Max, 4, 16>(
      x, out, [](int64_t o, int64_t r) { return o * 16 + r; });
  kiln::reduce<kiln::Reduce::Sum, 4, 16>(
      x, out, [](int64_t o, int64_t r) { return o * 16 + r; });
  kiln::rotary<1, 4, 8, 16, 16, 1, false>(x, tab, tab, out);
  kiln::rotary<1, 4, 8, 16, 16, 1, true>(x, x, x, out);
  kiln::kvAppend<1, 2, 1, 8, 16>(x, x, pos, kc, vc);
  kiln::kvAttention<1, 4, 2, 1, 8, 16, 16>(
      x, kc, vc, pos, out, 0.25f,
      [&](int64_t, int64_t, int64_t, int64_t t) { return mask[t]; });
  kiln::gather<1, 16, 1, 8>(x, pos, out);
}

__device__ float t_split_part[8 * 4 * 16 * (2 + 64)];
__device__ unsigned t_split_done[8 * 4];
/// The split (flash-decoding) kv_attention, bf16 and f32, with a mask and
/// without: 2 query heads per kv head and 8 lanes per key (bf16, D = 64;
/// 4 warps of 4 steps), 7 per kv head and 4 lanes (f32, D = 16; 8 warps of
/// one step; the cache read before the PDL wait), one head per kv head and
/// 32 lanes (f32, D = 128; 16 warps).
extern "C" __global__ void t_kv_split(const __nv_bfloat16 *x,
                                      const float *xf, const int32_t *pos,
                                      const float *mask, __nv_bfloat16 *out,
                                      float *outf) {
  kiln::kvAttentionSplit<1, 4, 2, 1, 128, 64, 4, 4, 2, false>(
      x, x, x, pos, out, 0.25f,
      [&](int64_t, int64_t, int64_t, int64_t t) { return mask[t]; },
      t_split_part, t_split_done);
  kiln::kvAttentionSplit<2, 14, 2, 1, 64, 16, 8, 1, 7, true>(
      xf, xf, xf, pos, outf, 0.25f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, t_split_part,
      t_split_done);
  kiln::kvAttentionSplit<1, 2, 2, 3, 40, 128, 16, 1, 1, false>(
      xf, xf, xf, pos, outf, 0.25f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, t_split_part,
      t_split_done);
}

/// kiln-fuse-kv-attention's kernel: the query roped on the fly and the new
/// key (roped) and value row appended by the block that owns its slot;
/// bf16 with f32 tables (rotate-half, R = D) and f32 (interleaved,
/// partial R = 8 of D = 16, tables per batch row).
extern "C" __global__ void t_kv_fused(const __nv_bfloat16 *x,
                                      const float *xf, const float *cs,
                                      const int64_t *pos, __nv_bfloat16 *kc,
                                      __nv_bfloat16 *vc, __nv_bfloat16 *out,
                                      float *kcf, float *vcf, float *outf) {
  kiln::kvAttentionSplitWith<1, 4, 2, 1, 128, 64, 8, 2, 1, true>(
      kiln::KvRotaryQuery<4, 1, 64, 64, 1, false, __nv_bfloat16, float>{x, cs,
                                                                        cs},
      kc, vc, pos, out, 0.125f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, t_split_part,
      t_split_done,
      kiln::KvAppendRow<2, 64, true, 64, 1, false, __nv_bfloat16, float>{
          x, x, cs, cs});
  kiln::kvAttentionSplitWith<2, 4, 4, 1, 64, 16, 4, 4, 1, false>(
      kiln::KvRotaryQuery<4, 1, 16, 8, 2, true, float, float>{xf, cs, cs},
      kcf, vcf, pos, outf, 0.25f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, t_split_part,
      t_split_done,
      kiln::KvAppendRow<4, 16, true, 8, 2, true, float, float>{xf, xf, cs, cs});
}

/// The fused kernel merging in a cluster of its 8 chunks (bf16, D = 64:
/// chunks of 8 warps x 4 steps = 128 slots; all 4 heads a block). Below
/// sm_90 KILN_CLUSTER_DIMS is nothing and the kernel merges through global
/// memory: both builds of this file compile it.
extern "C" __global__ void __launch_bounds__(256) KILN_CLUSTER_DIMS(8)
    t_kv_cluster(const __nv_bfloat16 *x, const float *cs, const int64_t *pos,
                 __nv_bfloat16 *kc, __nv_bfloat16 *vc, __nv_bfloat16 *out) {
  kiln::kvAttentionSplitWith<1, 4, 1, 1, 1024, 64, 8, 4, 4, true, true>(
      kiln::KvRotaryQuery<4, 1, 64, 64, 1, false, __nv_bfloat16, float>{x, cs,
                                                                        cs},
      kc, vc, pos, out, 0.125f,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, t_split_part,
      t_split_done,
      kiln::KvAppendRow<1, 64, true, 64, 1, false, __nv_bfloat16, float>{
          x, x, cs, cs});
}

// gemvMmaSplit<K, L> here and kiln::gemvMmaSplit(K, L) in LaunchConfig.cpp
// (unittests/Transforms/GemvSplitTest.cpp pins the same values) must agree.
static_assert(kiln::gemvMmaSplit<2048, 1>() == 8 &&
              kiln::gemvMmaSplit<8192, 1>() == 8 &&
              kiln::gemvMmaSplit<896, 2>() == 4 &&
              kiln::gemvMmaSplit<4864, 1>() == 8 &&
              kiln::gemvMmaSplit<768, 1>() == 4 &&
              kiln::gemvMmaSplit<768, 3>() == 8 &&
              kiln::gemvMmaSplit<200, 1>() == 1 &&
              kiln::gemvMmaSplit<520, 1>() == 1,
              "gemvMmaSplit: the rule LaunchConfig.cpp computes");

/// The decode GEMV (kiln.linear with a transposed weight, M <= 8), bf16 and
/// f32 (the tensor-core tiles for bf16 rows of 2 to 8, the CUDA-core
/// kernel otherwise), with and without a bias, K not a multiple of 32
/// vectors; and the
/// dot products of a GEMV kernel of two and three weights (kiln-gemv's
/// epilogue and sibling kernels).
extern "C" __global__ void t_gemv(const __nv_bfloat16 *x,
                                  const __nv_bfloat16 *w, __nv_bfloat16 *out,
                                  const float *xf, const float *wf,
                                  float *outf) {
  kiln::gemv<1, 512, 2048>(x, w, (const __nv_bfloat16 *)nullptr, out);
  kiln::gemv<8, 96, 72>(x, w, w, out);
  kiln::gemv<3, 64, 36>(xf, wf, wf, outf);
  const __nv_bfloat16 *rows2[2] = {w, w + 2048};
  float acc2[2][1];
  kiln::gemvDots<1, 2048, 2>(x, rows2, acc2);
  const float *rows3[3] = {wf, wf + 36, wf + 72};
  float acc3[3][2];
  kiln::gemvDots<2, 36, 3>(xf, rows3, acc3);
  // RMSNorm folded into the dots: a whole tile (bf16, K = 2048) and a
  // partial one (f32, K = 36, two rows).
  kiln::GemvRmsX<1, 2048, __nv_bfloat16> rms{x, x, 1e-5f};
  float acc4[2][1];
  kiln::gemvDots<1, 2048, 2>(rms, rows2, acc4);
  kiln::GemvRmsX<2, 36, float> rms2{xf, wf, 1e-5f};
  float acc5[1][2];
  const float *rows1[1] = {wf};
  kiln::gemvDots<2, 36, 1>(rms2, rows1, acc5);
  // Split-K: 4 warps a column over a bf16 row of 8192 with the norm folded
  // in, and 2 over two f32 rows of 36 (a partial tile).
  __shared__ float part[8 * 6];
  kiln::GemvRmsX<1, 8192, __nv_bfloat16> rms3{x, x, 1e-5f};
  float acc6[2][1];
  kiln::gemvSplitDots<4, 3, 1, 8192, 2>(rms3, rows2, acc6, part);
  kiln::GemvX<2, 72, float> xs2{xf};
  float acc7[1][2];
  kiln::gemvSplitDots<2, 6, 2, 72, 1>(xs2, rows1, acc7, part);
  // Tensor-core tiles (2 to 8 rows, bf16): 4 warps a tile over K = 2048
  // with the norm folded in and two weights, and one warp over K = 200 (a
  // partial step).
  __shared__ float partMma[8 * kiln::kGemvMmaStride<2>];
  kiln::GemvRmsX<5, 2048, __nv_bfloat16> rms5{x, x, 1e-5f};
  kiln::GemvRmsX<5, 8192, __nv_bfloat16> rms3x5{x, x, 1e-5f};
  float acc8[2][1];
  kiln::gemvMmaPartials<4, kiln::kGemvMmaStride<2>, 5, 2048, 2>(rms5, rows2, partMma);
  kiln::gemvMmaResult<4, kiln::kGemvMmaStride<2>, 5, 2>(rms5, partMma, 39, acc8);
  kiln::gemvMmaDone<4>();
  kiln::GemvX<2, 200, __nv_bfloat16> xs3{x};
  const __nv_bfloat16 *rowsB[1] = {w};
  float acc9[1][1];
  kiln::gemvMmaPartials<1, kiln::kGemvMmaStride<2>, 2, 200, 1, 128>(xs3, rowsB, partMma);
  kiln::gemvMmaResult<1, kiln::kGemvMmaStride<2>, 2, 1>(xs3, partMma, 9, acc9);
  kiln::gemvMmaDone<1>();
  // The first round preloaded before the PDL wait (--gemv-mma-preload):
  // two weights at 8 warps a tile, K = 8192 with Ahead (the round seeds
  // the one in flight), and the partial step of K = 200.
  int4 preMma[2 * kiln::kGemvTile<2>];
  kiln::gemvMmaFirstRound<8, 8192, 2>(rows2, preMma);
  kiln::pdlEnter();
  kiln::gemvMmaPartials<8, kiln::kGemvMmaStride<2>, 5, 8192, 2, 128, true>(rms3x5, rows2, partMma, preMma);
  kiln::gemvMmaResult<8, kiln::kGemvMmaStride<2>, 5, 2>(rms3x5, partMma, 7, acc8);
  kiln::gemvMmaDone<8>();
  kiln::gemvMmaFirstRound<1, 200, 1>(rowsB, preMma);
  kiln::gemvMmaPartials<1, kiln::kGemvMmaStride<2>, 2, 200, 1>(xs3, rowsB, partMma, preMma);
  kiln::gemvMmaResult<1, kiln::kGemvMmaStride<2>, 2, 1>(xs3, partMma, 3, acc9);
  kiln::gemvMmaDone<1>();
  if (threadIdx.x == 0) {
    out[1] = (__nv_bfloat16)(acc8[1][0] + acc9[0][0]);
    out[0] = (__nv_bfloat16)(acc2[0][0] + acc2[1][0] + acc4[1][0] + acc6[1][0]);
    outf[1] = acc7[0][1];
    outf[0] = acc3[0][0] + acc3[1][1] + acc3[2][0] + acc5[0][1];
  }
}

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

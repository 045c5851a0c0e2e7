//===- kiln_kernels_test.cu - instantiate every kiln device template ------===//
//
// Compiled on its own by nvcc in CI (test/Codegen/kernels-nvcc.test) so a
// broken template in kiln_kernels.cuh is caught without generating a model.
// Each kernel mirrors what the emitter generates for one op kind.
//
//===----------------------------------------------------------------------===//

#include "kiln_kernels.cuh"

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

extern "C" __global__ void t_reduce_norm(const float *x, const float *g,
                                         const int64_t *l, float *out,
                                         int64_t *outl) {
  auto map = [](int64_t o, int64_t r) { return o * 16 + r; };
  kiln::reduce<kiln::Reduce::Sum, 4, 16>(x, out, map);
  kiln::reduce<kiln::Reduce::Mean, 4, 16>(x, out, map);
  kiln::reduce<kiln::Reduce::Max, 4, 16>(x, out, map);
  kiln::reduce<kiln::Reduce::Sum, 4, 16>(l, outl, map);
  kiln::softmax<8, 16, 4>(x, out);
  auto same = [](int64_t j) { return j; };
  kiln::norm<false, 4, 16>(x, g, g, out, 1e-5f, same, same);
  kiln::norm<true, 4, 16>(x, g, (const float *)nullptr, out, 1e-6f, same,
                          same);
}

extern "C" __global__ void t_linalg(const float *q, const float *k,
                                    const float *v, const bool *mask,
                                    const double *a, double *o, float *out) {
  kiln::matmul<2, 4, 8, 16>(
      a, a, (const double *)nullptr, o,
      [](int64_t b, int64_t m, int64_t kk) { return (b * 4 + m) * 16 + kk; },
      [](int64_t b, int64_t kk, int64_t n) { return kk * 8 + n; });
  kiln::attention<1, 4, 2, 8, 8, 16, 16, true>(
      q, k, v, out, 0.25f,
      [&](int64_t b, int64_t h, int64_t s, int64_t t) {
        return mask[s * 8 + t] ? 0.0f : -INFINITY;
      });
  kiln::rotary<1, 4, 8, 16, 16, 1, false>(q, k, v, out);
  kiln::rotary<1, 4, 8, 16, 8, 1, true>(q, k, v, out);
}
